/**
 * Saga steps in the manner of Medusa's core-flows (`createStep(name, invoke, compensate)`): each step is
 * one file with its forward action and, beside it, the compensation that undoes it. The forward action
 * answers its output and the input of its compensation — only the ids the compensation needs; a
 * compensation given nothing has nothing to undo and returns.
 *
 * `Saga` runs the steps of one checkout, remembers the compensation of every step that completed, and
 * on failure runs them in reverse order. A compensation that fails is logged, not rethrown: the
 * original failure is what the caller answers, and what a compensation could not undo expires on its
 * own (a reservation lapses at its expiresAt).
 */
import type { OrderContext } from '../order.context.ts';

export interface StepResponse<O, C> {
  output: O;
  compensateInput: C | undefined;
}

export const stepResponse = <O, C = undefined>(output: O, compensateInput?: C): StepResponse<O, C> => ({ output, compensateInput });

export interface Step<I, O, C> {
  readonly name: string;
  invoke(input: I, ctx: OrderContext): Promise<StepResponse<O, C>>;
  compensate(input: C | undefined, ctx: OrderContext): Promise<void>;
}

const nothingToUndo = async (): Promise<void> => {};

export function createStep<I, O, C = undefined>(
  name: string,
  invoke: (input: I, ctx: OrderContext) => Promise<StepResponse<O, C>>,
  compensate: (input: C | undefined, ctx: OrderContext) => Promise<void> = nothingToUndo,
): Step<I, O, C> {
  return { name, invoke, compensate };
}

export class Saga {
  readonly #ctx: OrderContext;
  readonly #completed: Array<{ name: string; undo: () => Promise<void> }> = [];

  constructor(ctx: OrderContext) {
    this.#ctx = ctx;
  }

  async run<I, O, C>(step: Step<I, O, C>, input: I): Promise<O> {
    const { output, compensateInput } = await step.invoke(input, this.#ctx);
    this.#completed.push({ name: step.name, undo: () => step.compensate(compensateInput, this.#ctx) });
    return output;
  }

  /** The point of no return: what ran so far is kept, whatever happens next. */
  commit(): void {
    this.#completed.length = 0;
  }

  /** Undoes the completed steps, last first. */
  async compensate(): Promise<void> {
    for (const { name, undo } of this.#completed.splice(0).reverse()) {
      try {
        await undo();
      } catch (err) {
        this.#ctx.log.error({ err, step: name }, 'a compensation failed; what it should have undone lapses on its own');
      }
    }
  }
}

/**
 * A step the saga driver runs for an order (open-payment, confirm-stock, request-refund): an idempotent
 * remote call, then its outcome committed. Throwing means "not done": the driver tries again later.
 */
export interface DriverStep<R = unknown> {
  readonly name: string;
  run(ctx: OrderContext, orderId: string): Promise<R>;
}
