/**
 * The payment gateway simulator: the external gateway of the spec, playing Stripe's role for a subset of its
 * API (Checkout Sessions, PaymentIntents, Refunds, signed webhooks) plus a hosted payment page, so Folio's
 * payment service talks to it with the official `stripe` SDK and going live is configuration only.
 *
 * It is not a Folio service (no database, no outbox: state is in memory). It reuses the platform's HTTP
 * server for what every process here has — request logs with correlation ids, /health, /ready, /metrics,
 * /openapi.json, draining on close — and gives /v1 Stripe's own error shape in an encapsulated plugin.
 *
 *   const sim = await startSimulator({ port: 0, webhookUrl: receiver.url, webhookBaseDelayMs: 20 });
 *   const stripe = new Stripe(sim.apiKey, { host: '127.0.0.1', port: new URL(sim.url).port, protocol: 'http' });
 */
import { createServer, listen } from '@folio/platform/http';
import { createLogger, type Logger } from '@folio/platform/log';
import { type OutcomeMode, Outcomes } from './cards.ts';
import { type FaultState, Faults, type FaultsPatch, Hangs } from './faults.ts';
import { Gateway } from './gateway.ts';
import { hostedPageRoutes } from './hosted-page.routes.ts';
import { simRoutes } from './sim.routes.ts';
import { type Charge, type CheckoutSession, type Delivery, type LineItem, type PaymentIntent, type Refund, Store, type StripeEvent } from './store.ts';
import { stripeApiRoutes } from './stripe-api.routes.ts';
import { WebhookDispatcher } from './webhooks.ts';

/** The API version of the `stripe` SDK the simulator is tested with (a test keeps the two equal). */
export const API_VERSION = '2026-10-28.endive';

export interface SimulatorOptions {
  /** Default 0 (a free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Base URL of the hosted pages, as a browser reaches them. Default: the URL the server listens on. */
  publicUrl?: string;
  /** The secret key clients must present. Default sk_test_folio. */
  apiKey?: string;
  /** Where events are POSTed; without one they are only recorded. */
  webhookUrl?: string;
  /** Default whsec_folio_dev. */
  webhookSecret?: string;
  /** Default cards. */
  outcomeMode?: OutcomeMode;
  /** random mode: probability a valid card is accepted. Default 0.8. */
  randomSuccessRate?: number;
  /** random mode: the seed of the outcome sequence. Default 42. */
  randomSeed?: number;
  /** Attempts per delivery, the first included. Default 8. */
  webhookMaxAttempts?: number;
  /** Wait after the first failed attempt, doubled after each. Default 500 ms. */
  webhookBaseDelayMs?: number;
  /** Longest wait between two attempts. Default 1 hour. */
  webhookMaxDelayMs?: number;
  /** An endpoint that has not answered within this failed the attempt. Default 10 s. */
  webhookTimeoutMs?: number;
  /** reorderWebhooks fault: how long a batch gathers before it is delivered, newest first. Default 200 ms. */
  reorderWindowMs?: number;
  /** Smallest expires_at accepted, in seconds from now (Stripe: 1800). Default 5. */
  minExpiresInSeconds?: number;
  /** How often sessions past expires_at are expired. Default 1000 ms. */
  expirySweepMs?: number;
  /** In events and the Stripe-Version header. Default API_VERSION. */
  apiVersion?: string;
  log?: Logger;
  /** When no log is given. Default LOG_LEVEL or info. */
  logLevel?: string;
}

export interface EventView {
  id: string;
  type: StripeEvent['type'];
  created: number;
  /** no_endpoint: no WEBHOOK_URL; delivered: every delivery got a 2xx; failed: a delivery gave up; pending: still trying. */
  delivery: 'no_endpoint' | 'pending' | 'delivered' | 'failed';
  deliveries: Delivery[];
  event: StripeEvent;
}

export interface SessionView {
  session: CheckoutSession;
  payment_intent: PaymentIntent | null;
  charges: Charge[];
  refunds: Refund[];
  line_items: LineItem[];
  events: Array<{ id: string; type: StripeEvent['type'] }>;
}

export interface Simulator {
  /** Where the server listens, e.g. http://127.0.0.1:41234. */
  url: string;
  /** Base of the hosted pages' URLs. */
  publicUrl: string;
  apiKey: string;
  webhookSecret: string;
  close(): Promise<void>;
  setFaults(patch: FaultsPatch): FaultState;
  clearFaults(): FaultState;
  faults(): FaultState;
  /** Every event, oldest first, with its deliveries (copies). */
  events(): EventView[];
  session(id: string): SessionView | undefined;
  /** Forgets every object, event, pending delivery, idempotency key and fault; restarts the random sequence. */
  reset(): Promise<void>;
  /** Resolves once no delivery is held, waiting, due or being sent. */
  settled(): Promise<void>;
  /** Runs the expiry sweep now; how many sessions it expired. */
  expireDue(): number;
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const log = opts.log ?? createLogger({ name: 'payment-gateway-simulator', ...(opts.logLevel ? { level: opts.logLevel } : {}) });
  const apiKey = opts.apiKey ?? 'sk_test_folio';
  const webhookSecret = opts.webhookSecret ?? 'whsec_folio_dev';
  const apiVersion = opts.apiVersion ?? API_VERSION;
  const outcomeMode = opts.outcomeMode ?? 'cards';
  const minExpiresInSeconds = opts.minExpiresInSeconds ?? 5;

  const store = new Store();
  const faults = new Faults();
  const hangs = new Hangs();
  const outcomes = new Outcomes({ mode: outcomeMode, successRate: opts.randomSuccessRate ?? 0.8, seed: opts.randomSeed ?? 42 });
  const dispatcher = new WebhookDispatcher({
    url: opts.webhookUrl,
    secret: webhookSecret,
    maxAttempts: opts.webhookMaxAttempts ?? 8,
    baseDelayMs: opts.webhookBaseDelayMs ?? 500,
    maxDelayMs: opts.webhookMaxDelayMs ?? 60 * 60 * 1000,
    timeoutMs: opts.webhookTimeoutMs ?? 10_000,
    reorderWindowMs: opts.reorderWindowMs ?? 200,
    faults,
    log: log.child({ component: 'webhooks' }),
  });
  let publicUrl = opts.publicUrl?.replace(/\/+$/, '') ?? '';
  const gateway = new Gateway({ store, outcomes, dispatcher, publicUrl: () => publicUrl, apiVersion, log });

  const eventView = (record: (typeof store.events)[number]): EventView => {
    const ds = record.deliveries;
    const delivery: EventView['delivery'] = !dispatcher.enabled
      ? 'no_endpoint'
      : ds.length > 0 && ds.every((d) => d.status === 'succeeded')
        ? 'delivered'
        : ds.some((d) => d.status === 'failed') && ds.every((d) => d.status === 'failed' || d.status === 'succeeded')
          ? 'failed'
          : 'pending';
    return structuredClone({ id: record.event.id, type: record.event.type, created: record.event.created, delivery, deliveries: ds, event: record.event });
  };

  const app = await createServer({
    name: 'payment-gateway-simulator',
    description: "Folio's external payment gateway, simulated: a Stripe API subset, a hosted payment page, signed webhooks and test knobs.",
    log,
  });

  let closing: Promise<void> | undefined;
  let sweep: NodeJS.Timeout | undefined;
  const handle: Simulator = {
    url: '',
    publicUrl: '',
    apiKey,
    webhookSecret,
    close() {
      closing ??= (async () => {
        clearInterval(sweep);
        // Answers held back by apiHangMs go out now, so the server can drain.
        hangs.close();
        await app.close();
        await dispatcher.close();
      })();
      return closing;
    },
    setFaults: (patch) => {
      const state = faults.set(patch);
      log.info({ faults: state }, 'faults set');
      return state;
    },
    clearFaults: () => {
      const state = faults.clear();
      log.info('faults cleared');
      return state;
    },
    faults: () => ({ ...faults.state }),
    events: () => store.events.map(eventView),
    session(id) {
      const session = store.sessions.get(id);
      if (!session) return undefined;
      const intent = store.intents.get(session.payment_intent) ?? null;
      const charges = [...store.charges.values()].filter((c) => c.payment_intent === session.payment_intent);
      const refunds = [...store.refunds.values()].filter((r) => r.payment_intent === session.payment_intent);
      const related = new Set([session.id, session.payment_intent, ...charges.map((c) => c.id), ...refunds.map((r) => r.id)]);
      const events = store.events.filter((r) => related.has(r.event.data.object.id)).map((r) => ({ id: r.event.id, type: r.event.type }));
      return structuredClone({ session, payment_intent: intent, charges, refunds, line_items: store.lineItems.get(id) ?? [], events });
    },
    async reset() {
      await dispatcher.reset();
      store.clear();
      faults.clear();
      outcomes.reset();
      log.info('simulator reset');
    },
    settled: () => dispatcher.settled(),
    expireDue: () => gateway.expireDue(),
  };

  await app.register(async (v1) => stripeApiRoutes(v1, { gateway, store, faults, hangs, apiKey, apiVersion, minExpiresInSeconds }), { prefix: '/v1' });
  await app.register(async (pay) => hostedPageRoutes(pay, { gateway, store, outcomeMode }), { prefix: '/pay' });
  await app.register(async (sim) => simRoutes(sim, handle), { prefix: '/_sim' });

  let url: string;
  try {
    url = await listen(app, opts.port ?? 0, opts.host ?? '127.0.0.1');
  } catch (err) {
    await handle.close();
    throw err;
  }
  if (!publicUrl) {
    // Listening on every interface: the browser still needs one address it can reach.
    const u = new URL(url);
    publicUrl = u.hostname === '0.0.0.0' || u.hostname === '[::]' ? `http://127.0.0.1:${u.port}` : url;
  }
  sweep = setInterval(() => {
    gateway.expireDue();
    store.pruneIdempotency(Date.now());
  }, opts.expirySweepMs ?? 1000).unref();
  handle.url = url;
  handle.publicUrl = publicUrl;
  log.info(
    {
      url,
      publicUrl,
      webhookUrl: opts.webhookUrl ?? null,
      outcomeMode,
      ...(outcomeMode === 'random' ? { successRate: opts.randomSuccessRate ?? 0.8, seed: opts.randomSeed ?? 42 } : {}),
    },
    'payment gateway simulator started',
  );
  return handle;
}
