/**
 * Webhooks as Stripe sends them: the event's JSON, signed in a `Stripe-Signature: t=<unix>,v1=<hex>` header
 * (HMAC-SHA256 of `${t}.${payload}` with the endpoint's secret, so `stripe.webhooks.constructEvent` verifies
 * it), POSTed to the endpoint asynchronously — never inside the API call that caused the event — and
 * retried with exponential backoff and jitter until a 2xx answer or the last attempt: at least once.
 *
 * Attempts run one at a time, in the order they fall due, so without faults events arrive in the order they
 * happened. (Stripe does not promise an order; the reorderWebhooks fault is there to test that.)
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Logger } from '@folio/platform/log';
import type { Faults } from './faults.ts';
import type { Delivery, DeliveryAttempt, EventRecord } from './store.ts';

/** The Stripe-Signature header of one attempt: the timestamp is the attempt's, as on Stripe. */
export function signatureHeader(payload: string, secret: string, timestampSeconds = Math.floor(Date.now() / 1000)): string {
  const signature = createHmac('sha256', secret).update(`${timestampSeconds}.${payload}`, 'utf8').digest('hex');
  return `t=${timestampSeconds},v1=${signature}`;
}

export interface DispatcherOptions {
  /** The endpoint; without one, events are recorded and never sent. */
  url: string | undefined;
  secret: string;
  /** Attempts per delivery, the first included. */
  maxAttempts: number;
  /** The wait after the first failure; it doubles after each (with ±25 % jitter), up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** An attempt the endpoint has not answered within this is a failure. */
  timeoutMs: number;
  /** With the reorderWebhooks fault: how long new events are held before their batch is delivered, newest first. */
  reorderWindowMs: number;
  faults: Faults;
  log: Logger;
}

interface Job {
  record: EventRecord;
  delivery: Delivery;
  timer?: NodeJS.Timeout;
}

export class WebhookDispatcher {
  readonly #opts: DispatcherOptions;
  readonly #agent: http.Agent | undefined;
  /** Due now, in the order they fell due. */
  #ready: Job[] = [];
  #held: Job[] = [];
  #holdTimer: NodeJS.Timeout | undefined;
  readonly #waiting = new Set<Job>();
  readonly #inFlight = new Set<AbortController>();
  #sending: Promise<void> | undefined;
  #generation = 0;

  constructor(opts: DispatcherOptions) {
    this.#opts = opts;
    if (opts.url) this.#agent = new URL(opts.url).protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
    // Turning reordering off delivers what it held.
    opts.faults.onChange((state) => {
      if (!state.reorderWebhooks) this.flushHeld();
    });
  }

  get enabled(): boolean {
    return this.#opts.url !== undefined;
  }

  /** Starts delivering an event (twice with the duplicateWebhooks fault). Returns at once. */
  enqueue(record: EventRecord): void {
    if (!this.#opts.url) return;
    const faults = this.#opts.faults.state;
    const copies = faults.duplicateWebhooks ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delivery: Delivery = { status: 'scheduled', attempts: [], nextAttemptAt: null };
      record.deliveries.push(delivery);
      const job: Job = { record, delivery };
      if (faults.reorderWebhooks) this.#hold(job);
      else this.#schedule(job, faults.webhookDelayMs);
    }
  }

  /** Delivers the held batch now, newest first. */
  flushHeld(): void {
    clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    const batch = this.#held.reverse();
    this.#held = [];
    for (const job of batch) this.#schedule(job, this.#opts.faults.state.webhookDelayMs);
  }

  /** Resolves once nothing is held, waiting, due or being sent (tests: "every delivery has settled"). */
  async settled(pollMs = 10): Promise<void> {
    while (this.#held.length > 0 || this.#waiting.size > 0 || this.#ready.length > 0 || this.#sending) {
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /** Forgets every pending delivery and aborts the one being sent; the dispatcher stays usable. */
  async reset(reason = 'the simulator is resetting'): Promise<void> {
    this.#generation++;
    clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    for (const job of this.#waiting) clearTimeout(job.timer);
    this.#waiting.clear();
    this.#held = [];
    this.#ready = [];
    for (const controller of this.#inFlight) controller.abort(new Error(reason));
    await this.#sending;
  }

  async close(): Promise<void> {
    await this.reset('the simulator is closing');
    this.#agent?.destroy();
  }

  #hold(job: Job): void {
    job.delivery.status = 'held';
    this.#held.push(job);
    this.#holdTimer ??= setTimeout(() => this.flushHeld(), this.#opts.reorderWindowMs).unref();
  }

  #schedule(job: Job, delayMs: number): void {
    job.delivery.status = 'scheduled';
    job.delivery.nextAttemptAt = new Date(Date.now() + delayMs).toISOString();
    this.#waiting.add(job);
    // A timer even for no delay: delivery never happens inside the API call that caused the event.
    job.timer = setTimeout(() => {
      this.#waiting.delete(job);
      this.#ready.push(job);
      this.#pump();
    }, delayMs).unref();
  }

  #pump(): void {
    if (this.#sending) return;
    const job = this.#ready.shift();
    if (!job) return;
    const generation = this.#generation;
    this.#sending = this.#attempt(job, generation)
      .catch((err: unknown) => this.#opts.log.error({ err, eventId: job.record.event.id }, 'webhook delivery crashed'))
      .finally(() => {
        this.#sending = undefined;
        this.#pump();
      });
  }

  async #attempt(job: Job, generation: number): Promise<void> {
    const { record, delivery } = job;
    const { event } = record;
    const n = delivery.attempts.length + 1;
    delivery.status = 'sending';
    delivery.nextAttemptAt = null;
    const log = this.#opts.log.child({ eventId: event.id, eventType: event.type, attempt: n, delivery: record.deliveries.indexOf(delivery) + 1 });

    let attempt: DeliveryAttempt;
    if (this.#opts.faults.takeDrop()) {
      attempt = { attempt: n, at: new Date().toISOString(), outcome: 'dropped' };
      log.info('webhook delivery attempt dropped (fault)');
    } else {
      attempt = await this.#send(record);
      attempt.attempt = n;
      // Reset or closed while it was being sent: the delivery no longer exists.
      if (generation !== this.#generation) return;
      if (attempt.outcome === 'succeeded') log.info({ status: attempt.status, durationMs: attempt.durationMs }, 'webhook delivered');
      else log.warn({ status: attempt.status, error: attempt.error, durationMs: attempt.durationMs }, 'webhook delivery attempt failed');
    }
    delivery.attempts.push(attempt);

    if (attempt.outcome === 'succeeded') {
      delivery.status = 'succeeded';
      return;
    }
    if (n >= this.#opts.maxAttempts) {
      delivery.status = 'failed';
      log.error({ attempts: n }, 'webhook delivery abandoned after the last attempt');
      return;
    }
    this.#schedule(job, this.backoffMs(n) + this.#opts.faults.state.webhookDelayMs);
  }

  /** The wait after the n-th failed attempt: base × 2^(n-1), capped, with ±25 % jitter so retries do not arrive in waves. */
  backoffMs(n: number): number {
    const exponential = Math.min(this.#opts.maxDelayMs, this.#opts.baseDelayMs * 2 ** (n - 1));
    return Math.round(exponential * (0.75 + Math.random() * 0.5));
  }

  async #send(record: EventRecord): Promise<DeliveryAttempt> {
    const url = this.#opts.url as string;
    const started = Date.now();
    const at = new Date(started).toISOString();
    const controller = new AbortController();
    this.#inFlight.add(controller);
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${this.#opts.timeoutMs} ms`)), this.#opts.timeoutMs);
    try {
      const status = await post(
        url,
        this.#agent,
        record.payload,
        {
          'content-type': 'application/json; charset=utf-8',
          'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'stripe-signature': signatureHeader(record.payload, this.#opts.secret),
        },
        controller.signal,
      );
      const durationMs = Date.now() - started;
      return status >= 200 && status < 300
        ? { attempt: 0, at, outcome: 'succeeded', status, durationMs }
        : { attempt: 0, at, outcome: 'failed', status, error: `the endpoint answered ${status}`, durationMs };
    } catch (err) {
      const reason = controller.signal.aborted ? controller.signal.reason : err;
      return { attempt: 0, at, outcome: 'failed', error: (reason as Error)?.message ?? String(reason), durationMs: Date.now() - started };
    } finally {
      clearTimeout(timer);
      this.#inFlight.delete(controller);
    }
  }
}

/** One POST with node:http, on the dispatcher's own agent (closed with it); resolves with the status once the answer is read. */
function post(url: string, agent: http.Agent | undefined, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const request = (target.protocol === 'https:' ? https.request : http.request)(
      target,
      { method: 'POST', agent, signal, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (response) => {
        // Read (and discard) the answer so the connection can be reused.
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}
