/**
 * Faults a test turns on through POST /_sim/faults (or the handle's setFaults()): lost, late, duplicated and
 * reordered webhooks, and an API that fails or hangs. They exist because the simulator is for tests: Folio's
 * payment service must survive each of them.
 */
import { type Static, Type } from 'typebox';

export const FaultsPatch = Type.Object(
  {
    dropWebhooks: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 10_000,
        description: 'The next N delivery attempts are dropped (not sent); they are retried later, as failures are',
      }),
    ),
    webhookDelayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000, description: 'Every delivery attempt is sent this much later' })),
    duplicateWebhooks: Type.Optional(Type.Boolean({ description: 'Each new event is delivered twice (two deliveries of one event id)' })),
    reorderWebhooks: Type.Optional(
      Type.Boolean({ description: 'New events are held and delivered in batches, newest first; turning it off delivers what is held' }),
    ),
    apiStatus: Type.Optional(
      Type.Union([Type.Literal(500), Type.Literal(502), Type.Literal(503), Type.Literal(504), Type.Null()], {
        description: 'Every /v1 call answers this status with an api_error, doing nothing; null turns it off',
      }),
    ),
    apiHangMs: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 600_000, description: 'Every /v1 answer is sent this much later (the work is already done)' }),
    ),
  },
  { additionalProperties: false },
);
export type FaultsPatch = Static<typeof FaultsPatch>;

export interface FaultState {
  dropWebhooks: number;
  webhookDelayMs: number;
  duplicateWebhooks: boolean;
  reorderWebhooks: boolean;
  apiStatus: 500 | 502 | 503 | 504 | null;
  apiHangMs: number;
}

const NONE: FaultState = { dropWebhooks: 0, webhookDelayMs: 0, duplicateWebhooks: false, reorderWebhooks: false, apiStatus: null, apiHangMs: 0 };

export class Faults {
  #state: FaultState = { ...NONE };
  readonly #listeners: Array<(state: FaultState) => void> = [];

  get state(): Readonly<FaultState> {
    return this.#state;
  }

  /** Fields given replace the current ones; the others stay. */
  set(patch: FaultsPatch): FaultState {
    const next = { ...this.#state };
    for (const [key, value] of Object.entries(patch)) if (value !== undefined) (next as Record<string, unknown>)[key] = value;
    this.#state = next;
    for (const listener of this.#listeners) listener(this.#state);
    return { ...this.#state };
  }

  clear(): FaultState {
    return this.set(NONE);
  }

  /** Consumes one drop: true when this delivery attempt must not be sent. */
  takeDrop(): boolean {
    if (this.#state.dropWebhooks <= 0) return false;
    this.#state = { ...this.#state, dropWebhooks: this.#state.dropWebhooks - 1 };
    return true;
  }

  onChange(listener: (state: FaultState) => void): void {
    this.#listeners.push(listener);
  }
}

/** The apiHangMs waits in progress, so shutting down can end them instead of waiting them out. */
export class Hangs {
  readonly #pending = new Set<() => void>();
  #closed = false;

  wait(ms: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#pending.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#pending.add(done);
    });
  }

  /** Ends every wait, now and from now on. */
  close(): void {
    this.#closed = true;
    for (const done of [...this.#pending]) done();
  }
}
