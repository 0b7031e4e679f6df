/**
 * The order's state machine. An order is `created` (awaiting payment) until its payment is confirmed
 * (`paid`) or it is given up (`cancelled`); money that was taken is given back (`refunded`), both for a
 * paid order and for a cancelled one whose payment arrived too late or could not be fulfilled.
 *
 *   created ──pay──▶ paid ──refund──▶ refunded
 *      │                                 ▲
 *      └──cancel──▶ cancelled ──refund───┘
 *
 * The table below is the only place transitions are defined; every status must appear in it (the
 * compiler checks), and `transition` refuses anything else without changing the order. `shipped` and
 * `delivered` (after paid) are a later issue: a status and a row in the table each.
 */

export const ORDER_STATUSES = ['created', 'paid', 'cancelled', 'refunded'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Why an order was cancelled: the reasons the reader is shown. */
export const CANCEL_REASONS = {
  windowClosed: 'payment window closed',
  noStockAfterPayment: 'out of stock after payment',
} as const;
export type CancelReason = (typeof CANCEL_REASONS)[keyof typeof CANCEL_REASONS];

/** What can happen to an order. */
export type OrderEvent =
  | { type: 'pay'; paymentId: string }
  | { type: 'cancel'; reason: CancelReason }
  | { type: 'refund'; paymentId: string; restock: boolean };
export type OrderEventType = OrderEvent['type'];

type TransitionTable = { readonly [S in OrderStatus]: { readonly [E in OrderEventType]?: OrderStatus } };

/** From each status, where each event leads. An event missing from a status's row is illegal there. */
export const TRANSITIONS = {
  created: { pay: 'paid', cancel: 'cancelled' },
  paid: { refund: 'refunded' },
  cancelled: { refund: 'refunded' },
  refunded: {},
} as const satisfies TransitionTable;

export type Transition =
  | { ok: true; from: OrderStatus; to: OrderStatus; event: OrderEvent }
  | { ok: false; from: OrderStatus; event: OrderEvent; reason: string };

/** The status `event` leads to from `from`, or why it may not happen. Pure: the caller applies (or logs) it. */
export function transition(from: OrderStatus, event: OrderEvent): Transition {
  const row: { readonly [E in OrderEventType]?: OrderStatus } = TRANSITIONS[from];
  const to = row[event.type];
  if (to === undefined) return { ok: false, from, event, reason: `an order that is ${from} cannot ${verbOf(event)}` };
  return { ok: true, from, to, event };
}

export const canTransition = (from: OrderStatus, type: OrderEventType): boolean =>
  (TRANSITIONS[from] as { [E in OrderEventType]?: OrderStatus })[type] !== undefined;

/** The timeline's name and detail of a transition. */
export function timelineOf(event: OrderEvent): { event: string; detail: string | null } {
  switch (event.type) {
    case 'pay':
      return { event: 'paid', detail: `payment ${event.paymentId}` };
    case 'cancel':
      return { event: 'cancelled', detail: event.reason };
    case 'refund':
      return { event: 'refunded', detail: event.restock ? 'money back; the books return to stock' : 'money back' };
    default:
      return unreachable(event);
  }
}

function verbOf(event: OrderEvent): string {
  switch (event.type) {
    case 'pay':
      return 'be paid';
    case 'cancel':
      return 'be cancelled';
    case 'refund':
      return 'be refunded';
    default:
      return unreachable(event);
  }
}

/** Compile-time exhaustiveness: a new event type that a switch forgets fails to type-check here. */
function unreachable(value: never): never {
  throw new Error(`unhandled order event ${JSON.stringify(value)}`);
}

export const isOrderStatus = (value: string): value is OrderStatus => (ORDER_STATUSES as readonly string[]).includes(value);
