import { Counter, Gauge, type Registry } from 'prom-client';
import { type Pool, withTransaction } from '../db.ts';
import { type Logger, summarizeError } from '../log.ts';
import type { Outbox } from './outbox.ts';
import type { OutboundMessage, Transport } from './transport.ts';

export interface RelayOptions {
  name: string;
  pool: Pool;
  transport: Transport;
  log: Logger;
  /** Wakes the relay as soon as a local transaction adds events, instead of waiting for the next poll. */
  outbox?: Outbox;
  metrics?: Registry;
  batchSize?: number;
  /** How often to look for rows written by other instances (or missed wake-ups). */
  pollIntervalMs?: number;
}

/*
 * Takes a batch of pending rows with FOR UPDATE SKIP LOCKED, so several relay instances share
 * the work, but keeps per-key order: a row is taken only if no earlier row of its key is still
 * pending outside this batch (locked by another instance, or skipped). Writers add a key's events
 * while holding that aggregate's row lock, so sequence order is commit order within a key.
 */
const CLAIM_BATCH = `
WITH batch AS (
  SELECT seq, key FROM outbox ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED
)
SELECT o.seq, o.topic, o.key, o.value, o.headers
FROM outbox o JOIN batch b ON b.seq = o.seq
WHERE NOT EXISTS (
  SELECT 1 FROM outbox e
  WHERE e.key = b.key AND e.seq < b.seq AND e.seq NOT IN (SELECT seq FROM batch)
)
ORDER BY o.seq`;

interface Row {
  seq: string;
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
}

export class OutboxRelay {
  readonly #opts: Required<Omit<RelayOptions, 'outbox' | 'metrics'>>;
  readonly #published: Counter | undefined;
  readonly #failures: Counter | undefined;
  #running: Promise<void> | undefined;
  #stopping = false;
  #wakeUp: (() => void) | undefined;
  #pendingWake = false;
  #notPublishing: string | undefined;

  constructor(opts: RelayOptions) {
    this.#opts = { batchSize: 500, pollIntervalMs: 500, ...opts };
    opts.outbox?.onCommitted(() => this.wake());
    if (opts.metrics) {
      const labelNames = ['relay'] as const;
      this.#published = new Counter({
        name: 'folio_outbox_published_total',
        help: 'Outbox messages handed to the broker',
        labelNames,
        registers: [opts.metrics],
      });
      this.#failures = new Counter({
        name: 'folio_outbox_publish_failures_total',
        help: 'Relay passes that failed and will be retried',
        labelNames,
        registers: [opts.metrics],
      });
      // Measured when /metrics is scraped, not after every relay pass: one query per scrape, none per event.
      const pool = opts.pool;
      const relay = opts.name;
      new Gauge({
        name: 'folio_outbox_oldest_pending_seconds',
        help: 'Age of the oldest row still pending in the outbox',
        labelNames,
        registers: [opts.metrics],
        async collect() {
          const { rows } = await pool
            .query<{ age: number | null }>('SELECT EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS age FROM outbox')
            .catch(() => ({ rows: [{ age: null }] }));
          this.set({ relay }, rows[0]?.age ?? 0);
        },
      });
    }
  }

  /** Undefined while the last pass succeeded; otherwise why rows stay in the outbox (for /ready). */
  get notPublishing(): string | undefined {
    return this.#notPublishing;
  }

  start(): void {
    if (this.#running) return;
    this.#stopping = false;
    this.#running = this.#loop();
  }

  wake(): void {
    this.#pendingWake = true;
    this.#wakeUp?.();
  }

  /** Lets the batch in progress finish (so nothing is published twice needlessly), then stops. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wakeUp?.();
    await this.#running;
    this.#running = undefined;
  }

  /** Publishes one batch; returns how many rows were published. Exposed for tests and tools. */
  async publishBatch(): Promise<number> {
    return withTransaction(this.#opts.pool, async (tx) => {
      const { rows } = await tx.query<Row>(CLAIM_BATCH, [this.#opts.batchSize]);
      if (rows.length === 0) return 0;
      const messages: OutboundMessage[] = rows.map((r) => ({ topic: r.topic, key: r.key, value: r.value, headers: r.headers }));
      await this.#opts.transport.publish(messages);
      await tx.query('DELETE FROM outbox WHERE seq = ANY($1::bigint[])', [rows.map((r) => r.seq)]);
      this.#published?.inc({ relay: this.#opts.name }, rows.length);
      return rows.length;
    });
  }

  async #loop(): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      this.#pendingWake = false;
      let published = 0;
      try {
        published = await this.publishBatch();
        if (failures > 0) this.#opts.log.info({ failures }, 'outbox relay publishes again');
        failures = 0;
        this.#notPublishing = undefined;
      } catch (err) {
        failures++;
        const why = summarizeError(err);
        this.#notPublishing = `cannot publish (${failures} passes failed): ${why}`;
        this.#failures?.inc({ relay: this.#opts.name });
        // Rows stay in the outbox; a later pass publishes them. Log loudly but not once per tick.
        if (failures === 1 || failures % 20 === 0) this.#opts.log.error({ reason: why, failures }, 'outbox relay could not publish; will retry');
        await this.#sleep(Math.min(5_000, 100 * 2 ** Math.min(failures, 6)));
        continue;
      }
      if (published >= this.#opts.batchSize || this.#pendingWake) continue;
      await this.#sleep(this.#opts.pollIntervalMs);
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopping || this.#pendingWake) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wakeUp = () => {
        this.#wakeUp = undefined;
        done();
      };
    });
  }
}
