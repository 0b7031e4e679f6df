import type { Logger } from './log.ts';

export interface LifecycleOptions {
  /** How long one closer may take before it is abandoned (and counted as failed). Default 10 s. */
  closerTimeoutMs?: number;
  /** After a signal, how long all closers together may take before the process exits anyway (with 1). Default 25 s. */
  totalTimeoutMs?: number;
}

interface Closer {
  name: string;
  fn: () => Promise<void> | void;
}

let signalsOwner: Lifecycle | undefined;

/**
 * Graceful shutdown. Whatever a service opens (HTTP server, pool, consumer, timers) is
 * registered here as a closer right after it is opened; close() runs the closers in
 * reverse order, so the HTTP server stops (and drains) before the pool it uses ends.
 */
export class Lifecycle {
  readonly #log: Logger;
  readonly #closers: Closer[] = [];
  readonly #closerTimeoutMs: number;
  readonly #totalTimeoutMs: number;
  #closing: Promise<void> | undefined;
  #failed = false;

  constructor(log: Logger, opts: LifecycleOptions = {}) {
    this.#log = log;
    this.#closerTimeoutMs = opts.closerTimeoutMs ?? 10_000;
    this.#totalTimeoutMs = opts.totalTimeoutMs ?? 25_000;
  }

  /** Registers a closer; closers run in REVERSE registration order on close(), each bounded by a timeout, errors logged not thrown. */
  onClose(name: string, fn: () => Promise<void> | void): void {
    if (this.#closing) {
      // Registered too late to run with the others: run it now rather than leak it.
      this.#log.warn({ closer: name }, 'closer registered while shutting down; running it at once');
      void this.#run({ name, fn });
      return;
    }
    this.#closers.push({ name, fn });
  }

  /** Idempotent; resolves when every closer ran. */
  close(reason = 'requested'): Promise<void> {
    this.#closing ??= this.#closeAll(reason);
    return this.#closing;
  }

  /** SIGTERM/SIGINT → close() then process.exit(0) (exit 1 if a closer failed or total timeout exceeded). Call once per process. */
  installSignalHandlers(): void {
    if (signalsOwner === this) return;
    if (signalsOwner)
      throw new Error('installSignalHandlers(): another Lifecycle already owns SIGTERM/SIGINT in this process; register its close() as a closer instead');
    signalsOwner = this;
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.#closing) {
        this.#log.warn({ signal }, 'second signal while shutting down; exiting now');
        process.exit(1);
      }
      this.#log.info({ signal }, 'signal received; shutting down');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), this.#totalTimeoutMs);
      });
      void Promise.race([this.close(signal), timedOut]).then((outcome) => {
        clearTimeout(timer);
        if (outcome === 'timeout') this.#log.error({ timeoutMs: this.#totalTimeoutMs }, 'shutdown took too long; exiting anyway');
        const code = outcome === 'timeout' || this.#failed ? 1 : 0;
        this.#log.info({ exitCode: code }, 'exiting');
        // pino writes synchronously to stdout by default, so the lines above are out.
        process.exit(code);
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  get closing(): boolean {
    return this.#closing !== undefined;
  }

  /** True once a closer threw or timed out. */
  get failed(): boolean {
    return this.#failed;
  }

  async #closeAll(reason: string): Promise<void> {
    const started = Date.now();
    this.#log.info({ reason, closers: this.#closers.length }, 'shutting down');
    // Closers run one after another: a later one (the pool) may be needed by an earlier one (the server draining).
    for (const closer of this.#closers.toReversed()) await this.#run(closer);
    this.#log.info({ reason, durationMs: Date.now() - started, failed: this.#failed }, 'shut down');
  }

  async #run({ name, fn }: Closer): Promise<void> {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`did not finish within ${this.#closerTimeoutMs} ms`)), this.#closerTimeoutMs);
    });
    try {
      await Promise.race([(async () => fn())(), timeout]);
      this.#log.debug({ closer: name, durationMs: Date.now() - started }, 'closed');
    } catch (err) {
      this.#failed = true;
      this.#log.error({ closer: name, durationMs: Date.now() - started, err }, 'closer failed');
    } finally {
      clearTimeout(timer);
    }
  }
}
