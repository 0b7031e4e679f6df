/**
 * The payment service's test bench, all real: PostgreSQL, the payment gateway simulator started in-process
 * (webhooks POSTed to the service over HTTP), signed tokens from a real JWKS, the service over HTTP, and a
 * consumer on the same in-process bus recording every payment event the outbox relays.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { PaymentCancelled, PaymentFailed, PaymentRefunded, PaymentSucceeded, PaymentTimedOut } from '@folio/contracts/events';
import type { PaymentView } from '@folio/contracts/internal';
import { EmbeddedTransport } from '@folio/platform/messaging/embedded-transport';
import type { Envelope } from '@folio/platform/messaging/envelope';
import { type RunningService, startService } from '@folio/platform/service';
import { createTestDatabase, eventually, type TestDatabase } from '@folio/platform/testing';
import { startTestIdentity, type TestIdentity } from '@folio/platform/testing-identity';
import { type Simulator, startSimulator } from '../../../payment-gateway-simulator/src/simulator.ts';
import paymentModule from './service.ts';

export const PAYMENT_TOPICS = [PaymentSucceeded, PaymentFailed, PaymentCancelled, PaymentTimedOut, PaymentRefunded].map((e) => e.type);
export const STOREFRONT = 'http://storefront.test';
export const WEBHOOK_SECRET = 'whsec_test_current';
export const OLD_WEBHOOK_SECRET = 'whsec_test_previous';

export const cards = { ok: '4242 4242 4242 4242', declined: '4000 0000 0000 0002', insufficientFunds: '4000 0000 0000 9995' };

export interface Answer<T = PaymentView> {
  status: number;
  body: T & { detail?: string; status?: unknown; type?: string };
  headers: Headers;
}

interface PaymentEventPayload {
  paymentId: string;
  orderId: string;
  userId: string;
  attempt?: number;
  amount?: { amount: number; currency: string };
  reason?: string;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class PaymentBench {
  readonly db: TestDatabase;
  readonly identity: TestIdentity;
  readonly sim: Simulator;
  readonly service: RunningService;
  readonly transport: EmbeddedTransport;
  /** Every payment event relayed, in arrival order. */
  readonly events: Envelope<PaymentEventPayload>[];
  /** Every log line of the service and the simulator (JSON), for assertions on alerts. */
  readonly logs: Array<Record<string, unknown>>;
  readonly #restoreStdout: () => void;

  private constructor(parts: {
    db: TestDatabase;
    identity: TestIdentity;
    sim: Simulator;
    service: RunningService;
    transport: EmbeddedTransport;
    events: Envelope<PaymentEventPayload>[];
    logs: Array<Record<string, unknown>>;
    restoreStdout: () => void;
  }) {
    this.db = parts.db;
    this.identity = parts.identity;
    this.sim = parts.sim;
    this.service = parts.service;
    this.transport = parts.transport;
    this.events = parts.events;
    this.logs = parts.logs;
    this.#restoreStdout = parts.restoreStdout;
  }

  static async start(label: string, env: Record<string, string> = {}): Promise<PaymentBench> {
    // The service logs JSON lines to stdout (at info, for the assertions): keep them all, show warnings and errors.
    const logs: Array<Record<string, unknown>> = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      let quiet = true;
      for (const line of text.split('\n')) {
        if (!line) continue;
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          if (typeof entry.level !== 'number' || entry.level >= 40) quiet = false;
        } catch {
          quiet = false;
        }
      }
      return quiet ? true : (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stdout.write;
    const restoreStdout = () => {
      process.stdout.write = write;
    };

    const db = await createTestDatabase(label);
    const identity = await startTestIdentity();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const sim = await startSimulator({
      port: 0,
      webhookUrl: `${base}/api/payments/webhook`,
      webhookSecret: WEBHOOK_SECRET,
      webhookBaseDelayMs: 100,
      webhookMaxDelayMs: 1000,
      webhookTimeoutMs: 5000,
      expirySweepMs: 250,
      // Long enough that events caused together land in one reordered batch.
      reorderWindowMs: 1500,
      logLevel: 'info',
    });
    const transport = new EmbeddedTransport();
    const events: Envelope<PaymentEventPayload>[] = [];
    await transport.subscribe({
      groupId: 'payment-test-recorder',
      topics: PAYMENT_TOPICS,
      handler: async (m) => {
        events.push(JSON.parse(m.value) as Envelope<PaymentEventPayload>);
      },
    });
    const service = await startService(paymentModule, {
      env: {
        DATABASE_URL: db.url,
        PORT: String(port),
        LOG_LEVEL: 'info',
        IDENTITY_URL: identity.url,
        PAYMENT_GATEWAY_URL: sim.url,
        PAYMENT_GATEWAY_API_KEY: sim.apiKey,
        // The current secret and the one being rotated out: both verify.
        PAYMENT_WEBHOOK_SECRETS: `${WEBHOOK_SECRET},${OLD_WEBHOOK_SECRET}`,
        PUBLIC_URL: base,
        STOREFRONT_URL: STOREFRONT,
        PAYMENT_SWEEP_INTERVAL_MS: '200',
        PAYMENT_RECONCILE_AFTER_SECONDS: '2',
        GATEWAY_TIMEOUT_MS: '1000',
        GATEWAY_BREAKER_RESET_MS: '1000',
        ...env,
      },
      transport,
    });
    return new PaymentBench({ db, identity, sim, service, transport, events, logs, restoreStdout });
  }

  get url(): string {
    return this.service.url;
  }

  async close(): Promise<void> {
    await this.service.close();
    await this.sim.close();
    await this.transport.close();
    await this.identity.close();
    await this.db.drop();
    this.#restoreStdout();
  }

  async call<T = PaymentView>(method: string, path: string, opts: { json?: unknown; token?: string } = {}): Promise<Answer<T>> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        ...(opts.json !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      },
      ...(opts.json !== undefined ? { body: JSON.stringify(opts.json) } : {}),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: (text && /json/.test(res.headers.get('content-type') ?? '') ? JSON.parse(text) : {}) as Answer<T>['body'],
    };
  }

  /** Opens an attempt as the order service does. */
  async open(o: { orderId?: string; userId?: string; attempt?: number; amount?: number; deadlineInSeconds?: number } = {}): Promise<Answer> {
    return this.call('POST', '/internal/payments', {
      json: {
        orderId: o.orderId ?? randomUUID(),
        userId: o.userId ?? `reader-${randomUUID().slice(0, 8)}`,
        attempt: o.attempt ?? 1,
        amount: { amount: o.amount ?? 2599, currency: 'EUR' },
        deadline: new Date(Date.now() + (o.deadlineInSeconds ?? 600) * 1000).toISOString(),
      },
    });
  }

  async opened(o: Parameters<PaymentBench['open']>[0] = {}): Promise<PaymentView> {
    const res = await this.open(o);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.ok(res.body.paymentUrl, 'a hosted payment page');
    return res.body;
  }

  async payment(id: string): Promise<PaymentView & { userId: string }> {
    const { rows } = await this.db.pool.query('SELECT order_id, user_id FROM payments WHERE id = $1', [id]);
    const list = await this.call<PaymentView[]>('GET', `/internal/payments?orderId=${rows[0].order_id}`);
    const view = list.body.find((p) => p.id === id);
    assert.ok(view, `payment ${id} is listed`);
    return { ...view, userId: rows[0].user_id };
  }

  reaches(id: string, status: string, timeoutMs = 15_000): Promise<PaymentView> {
    return eventually(
      async () => {
        const p = await this.payment(id);
        return p.status === status && p;
      },
      { timeoutMs, what: `payment ${id} to be ${status}` },
    );
  }

  /** The gateway's hosted page: a real form post, without following the redirect. */
  async submit(paymentUrl: string, fields: Record<string, string>): Promise<{ status: number; location: string | null }> {
    const res = await fetch(paymentUrl, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    await res.text();
    return { status: res.status, location: res.headers.get('location') };
  }

  /** Pays with a card; with `follow`, the browser then loads the return URL, as a reader's would. */
  async pay(
    paymentUrl: string,
    card = cards.ok,
    follow = true,
  ): Promise<{ status: number; location: string | null; back?: { status: number; location: string | null } }> {
    const answer = await this.submit(paymentUrl, { cardNumber: card, expiry: `12/${(new Date().getUTCFullYear() + 2) % 100}`, cvc: '123' });
    if (!follow || answer.status !== 303 || !answer.location) return answer;
    const back = await fetch(answer.location, { redirect: 'manual' });
    await back.text();
    return { ...answer, back: { status: back.status, location: back.headers.get('location') } };
  }

  /** Payment events of one payment, by type. */
  eventsOf(paymentId: string, type?: string): Envelope<PaymentEventPayload>[] {
    return this.events.filter((e) => e.payload.paymentId === paymentId && (type === undefined || e.type === type));
  }

  /** Waits for the event, then a little longer so a duplicate would have shown up too. */
  async exactlyOne(paymentId: string, type: string): Promise<Envelope<PaymentEventPayload>> {
    await eventually(() => this.eventsOf(paymentId, type).length > 0, { what: `${type} for ${paymentId}` });
    await this.sim.settled();
    await sleep(600);
    const found = this.eventsOf(paymentId, type);
    assert.equal(found.length, 1, `exactly one ${type} for ${paymentId}: ${JSON.stringify(found)}`);
    return found[0]!;
  }

  async sessionOf(paymentId: string): Promise<string> {
    const { rows } = await this.db.pool.query<{ gateway_session_id: string }>('SELECT gateway_session_id FROM payments WHERE id = $1', [paymentId]);
    assert.ok(rows[0]?.gateway_session_id, 'the payment has a session');
    return rows[0].gateway_session_id;
  }

  async metrics(): Promise<string> {
    return (await fetch(`${this.url}/metrics`)).text();
  }

  async transitions(paymentId: string): Promise<string[]> {
    const { rows } = await this.db.pool.query<{ from_status: string; to_status: string }>(
      'SELECT from_status, to_status FROM payment_transitions WHERE payment_id = $1 ORDER BY id',
      [paymentId],
    );
    return rows.map((r) => `${r.from_status}→${r.to_status}`);
  }
}
