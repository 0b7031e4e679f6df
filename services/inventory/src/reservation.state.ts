/**
 * The reservation's state machine, for one order (all its lines move together):
 *
 *   reserved ──confirm──▶ confirmed ──restock (refund)──▶ confirmed, copies back on the shelf (once)
 *      │  └──release──▶ released ──┐
 *      └────expire───▶ expired ───┴──confirm──▶ confirmed, if the stock can be taken again
 *
 * A command either applies a step (a new status and what it does to the stock), is an idempotent
 * repeat (unchanged), or is refused: an illegal transition is logged by the caller and never applied.
 */

export const RESERVATION_STATUSES = ['reserved', 'confirmed', 'released', 'expired'] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

export interface ReservationLine {
  bookId: string;
  quantity: number;
}

interface Common {
  orderId: string;
  lines: ReservationLine[];
  expiresAt: Date;
  createdAt: Date;
}

/** One order's reservation, discriminated by its status: each status has the timestamps it implies. */
export type Reservation = Common &
  (
    | { status: 'reserved' }
    | { status: 'confirmed'; confirmedAt: Date; releasedAt: Date | null; restockedAt: Date | null }
    | { status: 'released'; releasedAt: Date }
    | { status: 'expired'; releasedAt: Date }
  );

export type ReservationCommand = 'confirm' | 'release' | 'expire' | 'restock';

/** What a step does to the stock of each line (quantity q). */
export type StockEffect =
  /** The order was created: reserved += q (the machine's entry, not a transition). */
  | 'hold'
  /** Held copies leave for good: on_hand -= q, reserved -= q, sold += q. */
  | 'sell'
  /** Held copies become available again: reserved -= q. */
  | 'free'
  /** A lapsed reservation is confirmed after all, from what is available now: on_hand -= q, sold += q. */
  | 'retake'
  /** A refunded order's copies go back on the shelf: on_hand += q, restocked += q. */
  | 'return';

export type Step = { kind: 'apply'; to: ReservationStatus; effect: Exclude<StockEffect, 'hold'> } | { kind: 'unchanged' } | { kind: 'refuse'; reason: string };

/** The confirmed status split in two, so "returned to stock once" is a state of the table, not a special case. */
export type Phase = 'reserved' | 'confirmed' | 'restocked' | 'released' | 'expired';

export function phaseOf(r: Reservation): Phase {
  switch (r.status) {
    case 'reserved':
    case 'released':
    case 'expired':
      return r.status;
    case 'confirmed':
      return r.restockedAt ? 'restocked' : 'confirmed';
    default: {
      const never: never = r;
      throw new Error(`unknown reservation status ${JSON.stringify(never)}`);
    }
  }
}

const apply = (to: ReservationStatus, effect: Exclude<StockEffect, 'hold'>): Step => ({ kind: 'apply', to, effect });
const unchanged: Step = { kind: 'unchanged' };
const refuse = (reason: string): Step => ({ kind: 'refuse', reason });

/** Every phase answers every command: the compiler refuses a missing cell. */
export const TRANSITIONS: { readonly [P in Phase]: { readonly [C in ReservationCommand]: Step } } = {
  reserved: {
    confirm: apply('confirmed', 'sell'),
    release: apply('released', 'free'),
    expire: apply('expired', 'free'),
    restock: refuse('the reservation was never confirmed: no copies were sold to return'),
  },
  confirmed: {
    confirm: unchanged,
    release: refuse('the reservation is confirmed: its copies were sold, there is nothing to release'),
    expire: refuse('a confirmed reservation does not expire'),
    restock: apply('confirmed', 'return'),
  },
  restocked: {
    confirm: unchanged,
    release: refuse('the reservation is confirmed: its copies were sold, there is nothing to release'),
    expire: refuse('a confirmed reservation does not expire'),
    restock: unchanged,
  },
  released: {
    confirm: apply('confirmed', 'retake'),
    release: unchanged,
    expire: refuse('a released reservation holds nothing that could expire'),
    restock: refuse('the reservation was released: no copies were sold to return'),
  },
  expired: {
    confirm: apply('confirmed', 'retake'),
    release: unchanged,
    expire: unchanged,
    restock: refuse('the reservation expired: no copies were sold to return'),
  },
};

export const stepFor = (r: Reservation, command: ReservationCommand): Step => TRANSITIONS[phaseOf(r)][command];

/** The change of each stock counter for q copies under an effect. */
export interface StockDelta {
  bookId: string;
  onHand: number;
  reserved: number;
  sold: number;
  restocked: number;
}

export function deltaOf(effect: StockEffect, line: ReservationLine): StockDelta {
  const q = line.quantity;
  const d = { bookId: line.bookId, onHand: 0, reserved: 0, sold: 0, restocked: 0 };
  switch (effect) {
    case 'hold':
      return { ...d, reserved: q };
    case 'sell':
      return { ...d, onHand: -q, reserved: -q, sold: q };
    case 'free':
      return { ...d, reserved: -q };
    case 'retake':
      return { ...d, onHand: -q, sold: q };
    case 'return':
      return { ...d, onHand: q, restocked: q };
    default: {
      const never: never = effect;
      throw new Error(`unknown stock effect ${JSON.stringify(never)}`);
    }
  }
}
