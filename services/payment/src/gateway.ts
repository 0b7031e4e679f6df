/**
 * The payment gateway (Stripe, or the simulator that speaks the same API), reached only through the
 * official SDK. Going live is configuration: the API key, the webhook secrets and PAYMENT_GATEWAY_URL.
 *
 * Resilience: the SDK times out each request (GATEWAY_TIMEOUT_MS) and retries network failures, 409s
 * and 5xx with exponential backoff; every write carries an idempotency key, so a retry never charges,
 * refunds or creates twice. Around that, an opossum circuit breaker fails calls fast while the gateway
 * is down, instead of piling up timeouts. A gateway that is down is logged ("payment gateway
 * unreachable") and counted (folio_payment_gateway_errors_total, folio_payment_gateway_breaker_open).
 */
import type { Money } from '@folio/contracts/money';
import type { Logger } from '@folio/platform/log';
import CircuitBreaker from 'opossum';
import { Counter, Gauge, type Registry } from 'prom-client';
import Stripe from 'stripe';

export type GatewayOperation = 'create-session' | 'retrieve-session' | 'expire-session' | 'create-refund';

/** What we read of a Checkout Session. */
export interface CheckoutSession {
  id: string;
  /** The hosted payment page while the session is open. */
  url: string | null;
  /** open | complete | expired (or a status newer than this code). */
  status: string | null;
  /** paid | unpaid | no_payment_required */
  paymentStatus: string;
  paymentIntent: string | null;
  metadata: Record<string, string>;
}

export interface GatewayRefund {
  id: string;
  /** pending | requires_action | succeeded | failed | canceled */
  status: string | null;
  paymentIntent: string | null;
}

/** Why no usable answer came. 'busy': the same idempotent request is still being processed (409): try again later. */
export type UnavailableReason = 'timeout' | 'connection' | 'server-error' | 'rate-limited' | 'authentication' | 'circuit-open' | 'busy';

/** The gateway gave no usable answer: the call may be repeated later (with the same idempotency key). */
export class GatewayUnavailableError extends Error {
  readonly operation: GatewayOperation;
  readonly reason: UnavailableReason;
  constructor(operation: GatewayOperation, reason: UnavailableReason, cause?: unknown) {
    super(`payment gateway unreachable for ${operation}: ${reason}${cause instanceof Error ? ` (${cause.message})` : ''}`, { cause });
    this.name = 'GatewayUnavailableError';
    this.operation = operation;
    this.reason = reason;
  }
}

/** The gateway answered and refused the request (4xx): repeating it changes nothing. */
export class GatewayRejectedError extends Error {
  readonly operation: GatewayOperation;
  readonly status: number | undefined;
  readonly code: string | undefined;
  /** The request parameter at fault, when the gateway names one. */
  readonly param: string | undefined;
  constructor(operation: GatewayOperation, err: Stripe.errors.StripeError) {
    super(`payment gateway refused ${operation}: ${err.message}`, { cause: err });
    this.name = 'GatewayRejectedError';
    this.operation = operation;
    this.status = err.statusCode;
    this.code = err.code;
    this.param = err.param;
  }
}

/** No secret verifies the callback's Stripe-Signature (forged, unsigned, or older than the tolerance). */
export class WebhookSignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookSignatureError';
  }
}

export interface CreateSessionInput {
  paymentId: string;
  orderId: string;
  attempt: number;
  amount: Money;
  deadline: Date;
  successUrl: string;
  cancelUrl: string;
}

/**
 * `quick` calls are made while someone waits (an HTTP request of the order service or a reader's
 * redirect): one attempt with a shorter timeout, no retries; the background jobs take over if it fails.
 */
export interface CallOptions {
  quick?: boolean;
}

export interface Gateway {
  createSession(input: CreateSessionInput, opts?: CallOptions): Promise<CheckoutSession>;
  retrieveSession(id: string, opts?: CallOptions): Promise<CheckoutSession>;
  expireSession(id: string, opts?: CallOptions): Promise<CheckoutSession>;
  createRefund(input: { paymentIntent: string; paymentId: string; orderId: string; idempotencyKey: string; reason: string }): Promise<GatewayRefund>;
  /** The verified event, or a WebhookSignatureError. Any of the configured secrets may have signed it (rotation). */
  verifyWebhook(rawBody: string, signature: string | undefined): Stripe.Event;
  readonly breakerOpen: boolean;
  close(): void;
}

export interface GatewayOptions {
  /** e.g. https://api.stripe.com or http://127.0.0.1:12111 */
  url: string;
  apiKey: string;
  webhookSecrets: readonly string[];
  timeoutMs: number;
  /** The timeout of a `quick` call (someone is waiting): at most timeoutMs. */
  quickTimeoutMs?: number;
  maxNetworkRetries?: number;
  breakerResetMs: number;
  log: Logger;
  metrics: Registry;
}

/** Stripe's default: an event signed longer ago than this is refused (a replay). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

export const sessionOf = (s: Stripe.Checkout.Session): CheckoutSession => ({
  id: s.id,
  url: s.url ?? null,
  status: s.status ?? null,
  paymentStatus: s.payment_status,
  paymentIntent: idOf(s.payment_intent),
  metadata: (s.metadata ?? {}) as Record<string, string>,
});

/** An expandable field: an id, an expanded object, or nothing. */
export function idOf(value: string | { id: string } | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : value.id;
}

function classify(operation: GatewayOperation, err: unknown): GatewayUnavailableError | GatewayRejectedError | undefined {
  if ((err as { code?: unknown })?.code === 'EOPENBREAKER') return new GatewayUnavailableError(operation, 'circuit-open', err);
  if (!(err instanceof Stripe.errors.StripeError)) return undefined;
  const status = err.statusCode;
  if (err instanceof Stripe.errors.StripeConnectionError) {
    return new GatewayUnavailableError(operation, /timeout/i.test(err.message) ? 'timeout' : 'connection', err);
  }
  if (err instanceof Stripe.errors.StripeRateLimitError || status === 429) return new GatewayUnavailableError(operation, 'rate-limited', err);
  // Another request with the same idempotency key is in flight (a repeated open racing the first): not a refusal.
  if (status === 409) return new GatewayUnavailableError(operation, 'busy', err);
  // A wrong API key is our configuration, not the reader's request: keep retrying, loudly, until it is fixed.
  if (err instanceof Stripe.errors.StripeAuthenticationError || err instanceof Stripe.errors.StripePermissionError) {
    return new GatewayUnavailableError(operation, 'authentication', err);
  }
  if (err instanceof Stripe.errors.StripeAPIError || status === undefined || status >= 500) return new GatewayUnavailableError(operation, 'server-error', err);
  return new GatewayRejectedError(operation, err);
}

interface GatewayMetrics {
  errors: Counter<'operation' | 'reason'>;
  breakerOpen: Gauge;
}

function metricsIn(registry: Registry): GatewayMetrics {
  const existing = <M>(name: string) => registry.getSingleMetric(name) as M | undefined;
  return {
    errors:
      existing<Counter<'operation' | 'reason'>>('folio_payment_gateway_errors_total') ??
      new Counter({
        name: 'folio_payment_gateway_errors_total',
        help: 'Calls to the payment gateway that got no usable answer (after the SDK retries), by operation and reason.',
        labelNames: ['operation', 'reason'],
        registers: [registry],
      }),
    breakerOpen:
      existing<Gauge>('folio_payment_gateway_breaker_open') ??
      new Gauge({ name: 'folio_payment_gateway_breaker_open', help: '1 while the circuit breaker to the payment gateway is open.', registers: [registry] }),
  };
}

export function createStripeGateway(opts: GatewayOptions): Gateway {
  const { log } = opts;
  const base = new URL(opts.url);
  const protocol = base.protocol === 'http:' ? 'http' : 'https';
  const stripe = new Stripe(opts.apiKey, {
    host: base.hostname,
    port: base.port || (protocol === 'http' ? 80 : 443),
    protocol,
    maxNetworkRetries: opts.maxNetworkRetries ?? 2,
    timeout: opts.timeoutMs,
    telemetry: false,
  });
  const metrics = metricsIn(opts.metrics);

  // The breaker wraps one SDK call (its retries included). Only the gateway failing counts: a 4xx
  // answer means the gateway is up and refused this request.
  const breaker = new CircuitBreaker<[() => Promise<unknown>], unknown>((call) => call(), {
    name: 'payment-gateway',
    timeout: false, // the SDK times out each request itself
    resetTimeout: opts.breakerResetMs,
    errorThresholdPercentage: 50,
    volumeThreshold: 3,
    rollingCountTimeout: 10_000,
    errorFilter: (err: unknown) => {
      const failure = classify('retrieve-session', err);
      return !(failure instanceof GatewayUnavailableError && failure.reason !== 'busy');
    },
  });
  breaker.on('open', () => {
    metrics.breakerOpen.set(1);
    log.error(
      { gateway: base.origin, resetTimeoutMs: opts.breakerResetMs, failures: breaker.stats.failures },
      `payment gateway unreachable: circuit breaker OPENED, calls fail fast for ${opts.breakerResetMs} ms`,
    );
  });
  breaker.on('halfOpen', () => log.info({ gateway: base.origin }, 'payment gateway circuit breaker half-open: letting a trial call through'));
  breaker.on('close', () => {
    metrics.breakerOpen.set(0);
    log.info({ gateway: base.origin }, 'payment gateway circuit breaker closed: the gateway answers again');
  });
  metrics.breakerOpen.set(0);

  async function call<T>(operation: GatewayOperation, fn: () => Promise<T>): Promise<T> {
    try {
      return (await breaker.fire(fn)) as T;
    } catch (err) {
      const failure = classify(operation, err);
      if (!failure) throw err;
      if (failure instanceof GatewayUnavailableError && failure.reason === 'busy') {
        log.info({ operation }, 'the payment gateway is still processing the same request; it will be repeated');
      } else if (failure instanceof GatewayUnavailableError) {
        metrics.errors.inc({ operation, reason: failure.reason });
        // While the breaker is open every call fails at once: the 'open' line above already said why.
        if (failure.reason === 'circuit-open') log.debug({ operation }, 'payment gateway call refused: circuit open');
        else
          log.error(
            { operation, reason: failure.reason, status: (err as { statusCode?: number }).statusCode, error: (err as Error).message },
            'payment gateway unreachable',
          );
      }
      throw failure;
    }
  }

  const quickTimeoutMs = Math.min(opts.quickTimeoutMs ?? opts.timeoutMs, opts.timeoutMs);
  const settings = (o: CallOptions | undefined): Stripe.RequestOptions => (o?.quick ? { maxNetworkRetries: 0, timeout: quickTimeoutMs } : {});

  return {
    async createSession(input, o) {
      const session = await call('create-session', () =>
        stripe.checkout.sessions.create(
          {
            mode: 'payment',
            line_items: [
              {
                price_data: {
                  currency: input.amount.currency.toLowerCase(),
                  unit_amount: input.amount.amount,
                  product_data: { name: `Folio order ${input.orderId.slice(0, 8)}` },
                },
                quantity: 1,
              },
            ],
            client_reference_id: input.orderId,
            metadata: { orderId: input.orderId, paymentId: input.paymentId, attempt: String(input.attempt) },
            payment_intent_data: { metadata: { orderId: input.orderId, paymentId: input.paymentId } },
            success_url: input.successUrl,
            cancel_url: input.cancelUrl,
            expires_at: Math.floor(input.deadline.getTime() / 1000),
          },
          // The payment id: a retry (by the SDK, a job, or a repeated open) gets the same session back.
          { idempotencyKey: input.paymentId, ...settings(o) },
        ),
      );
      return sessionOf(session);
    },

    async retrieveSession(id, o) {
      return sessionOf(await call('retrieve-session', () => stripe.checkout.sessions.retrieve(id, {}, settings(o))));
    },

    async expireSession(id, o) {
      return sessionOf(await call('expire-session', () => stripe.checkout.sessions.expire(id, {}, settings(o))));
    },

    async createRefund(input) {
      const refund = await call('create-refund', () =>
        stripe.refunds.create(
          { payment_intent: input.paymentIntent, metadata: { paymentId: input.paymentId, orderId: input.orderId, reason: input.reason.slice(0, 200) } },
          { idempotencyKey: input.idempotencyKey },
        ),
      );
      return { id: refund.id, status: refund.status ?? null, paymentIntent: idOf(refund.payment_intent) };
    },

    verifyWebhook(rawBody, signature) {
      if (!signature) throw new WebhookSignatureError('the Stripe-Signature header is missing');
      let last: unknown;
      for (const secret of opts.webhookSecrets) {
        try {
          return stripe.webhooks.constructEvent(rawBody, signature, secret, WEBHOOK_TOLERANCE_SECONDS);
        } catch (err) {
          last = err;
        }
      }
      throw new WebhookSignatureError((last as Error)?.message ?? 'no webhook secret verifies the signature');
    },

    get breakerOpen() {
      return breaker.opened;
    },

    close() {
      breaker.shutdown();
    },
  };
}
