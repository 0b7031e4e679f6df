/**
 * Waits for PostgreSQL NOTIFY on one channel, by key: lets an HTTP request wait until a row changes
 * (long polling) instead of a client asking again and again. The payload is the changed row's key.
 *
 * Every instance of a service listens on its own connection, so a change committed by any instance
 * wakes the waiters of all of them. NOTIFY is sent at commit, so a woken waiter reads the change. While
 * the connection is down, waiters simply time out (the client asks again): nothing depends on a
 * notification arriving, it only makes the answer come sooner.
 */
import pg from 'pg';
import type { Logger } from './log.ts';

export class ChangeListener {
  readonly #url: string;
  readonly #channel: string;
  readonly #log: Logger;
  readonly #waiters = new Map<string, Set<(changed: boolean) => void>>();
  #client: pg.Client | undefined;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(opts: { databaseUrl: string; channel: string; log: Logger }) {
    if (!/^[a-z_][a-z0-9_]*$/.test(opts.channel)) throw new Error(`channel must be a plain identifier, got "${opts.channel}"`);
    this.#url = opts.databaseUrl;
    this.#channel = opts.channel;
    this.#log = opts.log;
  }

  /** Connects and listens; on failure keeps trying in the background (waiters time out meanwhile). */
  async start(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({ connectionString: this.#url });
    client.on('notification', (n) => {
      if (n.payload) this.#wake(n.payload);
    });
    client.on('error', (err) => {
      this.#log.warn({ err, channel: this.#channel }, 'change listener lost its connection; reconnecting');
      this.#reconnect(client);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.#channel}`);
      this.#client = client;
      // Changes may have been missed while disconnected: let every waiter look again.
      for (const key of [...this.#waiters.keys()]) this.#wake(key);
    } catch (err) {
      this.#log.warn({ err, channel: this.#channel }, 'change listener cannot listen yet; retrying');
      this.#reconnect(client);
    }
  }

  /**
   * Starts watching `key`: `changed` resolves true when it changes, false after `timeoutMs`, on `cancel()`
   * or when the listener closes. Watch before reading, so a change committed during the read is not missed.
   */
  watch(key: string, timeoutMs: number): { changed: Promise<boolean>; cancel(): void } {
    if (this.#closed) return { changed: Promise.resolve(false), cancel() {} };
    let cancel = () => {};
    const changed = new Promise<boolean>((resolve) => {
      const waiters = this.#waiters.get(key) ?? new Set();
      this.#waiters.set(key, waiters);
      const done = (hasChanged: boolean) => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.#waiters.get(key) === waiters) this.#waiters.delete(key);
        resolve(hasChanged);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      waiters.add(done);
      cancel = () => done(false);
    });
    return { changed, cancel };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    for (const waiters of [...this.#waiters.values()]) for (const done of [...waiters]) done(false);
    await this.#client?.end().catch(() => {});
  }

  #wake(key: string): void {
    for (const done of [...(this.#waiters.get(key) ?? [])]) done(true);
  }

  #reconnect(failed: pg.Client): void {
    if (this.#client === failed) this.#client = undefined;
    failed.end().catch(() => {});
    if (this.#closed || this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      void this.start();
    }, 1000);
  }
}
