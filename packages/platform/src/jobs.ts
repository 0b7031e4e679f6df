import type { Logger } from './log.ts';

/**
 * A background job run every intervalMs (reservation expiry, payment timeouts, reconciliation).
 * Every instance of a service runs it; the job itself claims its rows with FOR UPDATE SKIP LOCKED,
 * so instances share the work instead of repeating it.
 */
export interface Job {
  name: string;
  intervalMs: number;
  /** Does one pass; returns how many items it handled (a full batch makes the next pass start at once). */
  run: () => Promise<number | undefined>;
  /** With a batch size set, a pass that handled this many runs again without waiting. */
  batchSize?: number;
}

export class JobRunner {
  readonly #log: Logger;
  readonly #loops: Promise<void>[] = [];
  readonly #timers = new Set<() => void>();
  #stopping = false;

  constructor(log: Logger) {
    this.#log = log;
  }

  start(job: Job): void {
    this.#loops.push(this.#loop(job));
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    for (const wake of this.#timers) wake();
    await Promise.all(this.#loops);
  }

  async #loop(job: Job): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      // Jitter spreads instances that started together.
      await this.#sleep(job.intervalMs * (0.8 + Math.random() * 0.4));
      if (this.#stopping) break;
      try {
        let handled: number | undefined;
        do {
          handled = await job.run();
        } while (!this.#stopping && job.batchSize !== undefined && typeof handled === 'number' && handled >= job.batchSize);
        failures = 0;
      } catch (err) {
        failures++;
        if (failures === 1 || failures % 10 === 0) this.#log.error({ err, job: job.name, failures }, 'background job failed; will run again');
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#timers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#timers.add(wake);
    });
  }
}
