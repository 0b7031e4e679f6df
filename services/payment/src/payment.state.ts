/**
 * The payment state machine. A payment is one attempt to pay an order:
 *
 *   pending → success | failed | cancelled | timeout
 *   success → refunded
 *   failed | cancelled | timeout → success   (late capture: only when the gateway reports the money captured)
 *
 * The gateway is the truth about money: a capture it reports is never lost, even for an attempt we had
 * already given up on; the order service then decides to keep or refund it. Everything else that arrives
 * out of order or twice is refused by the table and changes nothing.
 */
import type { PaymentStatus } from '@folio/contracts/internal';

export type { PaymentStatus };

export const PAYMENT_STATUSES: readonly PaymentStatus[] = ['pending', 'success', 'failed', 'cancelled', 'timeout', 'refunded'];

/** What can happen to a payment. Only the gateway's own reports (webhooks, session reads) make captures and refunds. */
export type PaymentTrigger =
  /** The gateway reports money captured for this attempt. */
  | { kind: 'captured' }
  /** The gateway declined the payment (card declined, insufficient funds). */
  | { kind: 'declined'; reason: string }
  /** The reader cancelled at the gateway, or a newer attempt of the order replaced this one. */
  | { kind: 'cancelled'; reason: string }
  /** The deadline passed (or the session expired) without a payment. */
  | { kind: 'expired' }
  /** The gateway reports the money returned. */
  | { kind: 'refunded' }
  /** A capture for this attempt while another attempt of the order already succeeded: it is refunded, never a success. */
  | { kind: 'duplicate' };

export type TriggerKind = PaymentTrigger['kind'];

/** The state a payment is in, with what belongs to that state. */
export type PaymentState =
  | { status: 'pending' }
  | { status: 'success' }
  | { status: 'failed'; reason: string }
  | { status: 'cancelled'; reason: string }
  | { status: 'timeout' }
  | { status: 'refunded' };

/**
 * For each status and trigger: the status to move to, 'same' when the trigger repeats what already
 * happened (a duplicate webhook, the echo of our own expiry: nothing to do), or 'refuse' when it would
 * move the payment backwards or sideways (an out-of-order event: refused and logged).
 */
type Cell = PaymentStatus | 'same' | 'refuse';

const TRANSITIONS = {
  pending: { captured: 'success', declined: 'failed', cancelled: 'cancelled', expired: 'timeout', refunded: 'refuse', duplicate: 'failed' },
  success: { captured: 'same', declined: 'refuse', cancelled: 'refuse', expired: 'refuse', refunded: 'refunded', duplicate: 'refuse' },
  failed: { captured: 'success', declined: 'same', cancelled: 'refuse', expired: 'same', refunded: 'refuse', duplicate: 'same' },
  cancelled: { captured: 'success', declined: 'refuse', cancelled: 'same', expired: 'same', refunded: 'refuse', duplicate: 'same' },
  timeout: { captured: 'success', declined: 'refuse', cancelled: 'refuse', expired: 'same', refunded: 'refuse', duplicate: 'same' },
  refunded: { captured: 'same', declined: 'refuse', cancelled: 'refuse', expired: 'refuse', refunded: 'same', duplicate: 'refuse' },
} as const satisfies { readonly [S in PaymentStatus]: { readonly [K in TriggerKind]: Cell } };

export const DUPLICATE_PAYMENT_REASON = 'duplicate payment, refunded';

export type Transition =
  | { kind: 'move'; from: PaymentStatus; to: PaymentState; lateCapture: boolean }
  | { kind: 'same'; status: PaymentStatus }
  | { kind: 'refuse'; status: PaymentStatus; trigger: TriggerKind };

export function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}

/** The state a payment enters, from its new status and what made it move. */
function enter(to: PaymentStatus, trigger: PaymentTrigger): PaymentState {
  switch (to) {
    case 'pending':
      return { status: 'pending' };
    case 'success':
      return { status: 'success' };
    case 'failed':
      return {
        status: 'failed',
        reason: trigger.kind === 'declined' ? trigger.reason : trigger.kind === 'duplicate' ? DUPLICATE_PAYMENT_REASON : trigger.kind,
      };
    case 'cancelled':
      return { status: 'cancelled', reason: trigger.kind === 'cancelled' ? trigger.reason : trigger.kind };
    case 'timeout':
      return { status: 'timeout' };
    case 'refunded':
      return { status: 'refunded' };
    default:
      return assertNever(to);
  }
}

/** What a trigger does to a payment in `from`. Pure: the caller applies a move, and logs a refusal. */
export function transition(from: PaymentStatus, trigger: PaymentTrigger): Transition {
  const cell: Cell = TRANSITIONS[from][trigger.kind];
  if (cell === 'same') return { kind: 'same', status: from };
  if (cell === 'refuse') return { kind: 'refuse', status: from, trigger: trigger.kind };
  return { kind: 'move', from, to: enter(cell, trigger), lateCapture: cell === 'success' && from !== 'pending' };
}

/** Statuses that count as the order's payment (the database allows one per order). */
export const isPaid = (status: PaymentStatus): boolean => status === 'success' || status === 'refunded';
