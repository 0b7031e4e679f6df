/**
 * The saga driver: runs the remote steps orders are waiting for (orders.pending_step), so that a
 * checkout carries on whatever happens to the process or to the services it calls.
 *
 * - A pass claims a small batch of due steps (FOR UPDATE SKIP LOCKED, next_step_at moved ahead as a
 *   lease), runs each step's idempotent remote call and commits its outcome. Several instances share
 *   the work; a claimer that dies lets its steps come due again when the lease ends.
 * - A step that fails is tried again with exponential backoff (step_attempts, next_step_at,
 *   last_step_error); after ERROR_AFTER_ATTEMPTS failures each further one is logged as an error.
 * - Passes run every SAGA_INTERVAL_MS, and at once when a step was just scheduled (nudge).
 *
 * Every step's state is in the database and every remote call is idempotent, so a service killed at
 * any instant resumes where it was after a restart.
 */

import type { OrderContext } from './order.context.ts';
import { claimDueSteps, type PendingStep, stepFailed } from './order.repository.ts';
import { confirmStockStep } from './steps/confirm-stock.ts';
import { openPaymentStep } from './steps/open-payment.ts';
import { requestRefundStep } from './steps/request-refund.ts';
import type { DriverStep } from './steps/step.ts';

export const DRIVER_STEPS: { readonly [S in PendingStep]: DriverStep } = {
  'open-payment': openPaymentStep,
  'confirm-stock': confirmStockStep,
  'request-refund': requestRefundStep,
};

export const SAGA_BATCH = 10;
/**
 * How long a claimed step is someone's: longer than its remote call can take with the client's retries
 * (3 tries of at most 5 s); a step claimed by an instance that died comes due again after it.
 */
export const STEP_LEASE_MS = 20_000;
export const ERROR_AFTER_ATTEMPTS = 5;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 60_000;

/** Exponential backoff with ±20 % jitter: 0.5 s, 1 s, 2 s, … up to a minute. */
export const backoffMs = (failures: number): number =>
  Math.round(Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1)) * (0.8 + Math.random() * 0.4));

export class SagaDriver {
  readonly #ctx: () => OrderContext;
  #nudged: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  /** `ctx` is a getter: the context holds the driver's nudge, the driver runs with the context. */
  constructor(ctx: () => OrderContext) {
    this.#ctx = ctx;
  }

  /** One pass: the due steps of one batch, run concurrently. Returns how many were claimed. */
  async runOnce(): Promise<number> {
    if (this.#stopped) return 0;
    const ctx = this.#ctx();
    const claimed = await claimDueSteps(ctx.pool, SAGA_BATCH, STEP_LEASE_MS);
    await Promise.all(claimed.map((c) => this.#run(ctx, c.orderId, c.step, c.attempts)));
    return claimed.length;
  }

  /** Runs a pass now (or right after the one in progress). */
  nudge(): void {
    if (this.#stopped) return;
    if (this.#nudged) {
      this.#again = true;
      return;
    }
    this.#nudged = (async () => {
      do {
        this.#again = false;
        try {
          while ((await this.runOnce()) >= SAGA_BATCH && !this.#stopped) {}
        } catch (err) {
          this.#ctx().log.error({ err }, 'saga driver pass failed; the next one tries again');
        }
      } while (this.#again && !this.#stopped);
    })().finally(() => {
      this.#nudged = undefined;
    });
  }

  /** Stops nudged passes and waits for the one in progress (the job runner stops its own). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#nudged;
  }

  async #run(ctx: OrderContext, orderId: string, step: PendingStep, attempts: number): Promise<void> {
    try {
      await DRIVER_STEPS[step].run(ctx, orderId);
    } catch (err) {
      const message = (err as Error)?.message ?? String(err);
      const failures = (await stepFailed(ctx.pool, orderId, step, message, backoffMs(attempts + 1)).catch(() => undefined)) ?? attempts + 1;
      const line = { err, orderId, step, failures };
      if (failures >= ERROR_AFTER_ATTEMPTS) ctx.log.error(line, `saga step ${step} keeps failing; retrying with backoff`);
      else ctx.log.warn(line, `saga step ${step} failed; retrying with backoff`);
    }
  }
}
