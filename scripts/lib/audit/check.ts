/**
 * What a check is and what it answers, and the snapshot indexed the ways the checks look things up.
 * A check is a pure function of the snapshot: the rules are in the checks, the SQL in snapshot.ts.
 */
import type { OrderRow, PaymentRow, ProjectionRow, ReservationRow, Snapshot } from './snapshot.ts';

export interface Offender {
  /** The id to look at: an order, a payment or a book id (the detail says which). */
  id: string;
  /** What is wrong, in a sentence. */
  detail: string;
}

export interface CheckResult {
  /** Short stable name, e.g. `one-success`. */
  name: string;
  /** What the check promises, in a line. */
  description: string;
  /** How many records were examined. */
  checked: number;
  /** What those records are, e.g. "orders" or "books". */
  unit: string;
  /** Counts worth printing even when the check passes (the seed's equations). */
  facts?: string[];
  offenders: Offender[];
}

/** The snapshot, indexed, and the time before which a change counts as settled. */
export interface AuditContext {
  snapshot: Snapshot;
  now: Date;
  graceSeconds: number;
  /** now − grace, in ms: a change before it is settled, one after it may still be in flight. */
  settledBefore: number;
  orderById: Map<string, OrderRow>;
  paymentsByOrder: Map<string, PaymentRow[]>;
  projectionByPayment: Map<string, ProjectionRow>;
  projectionByOrder: Map<string, ProjectionRow[]>;
  reservationByOrder: Map<string, ReservationRow>;
}

export type Check = (ctx: AuditContext) => CheckResult;

function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const list = map.get(k);
    if (list) list.push(row);
    else map.set(k, [row]);
  }
  return map;
}

export function contextOf(snapshot: Snapshot, graceSeconds: number, now: Date = snapshot.now): AuditContext {
  return {
    snapshot,
    now,
    graceSeconds,
    settledBefore: now.getTime() - graceSeconds * 1000,
    orderById: new Map(snapshot.orders.map((o) => [o.id, o])),
    paymentsByOrder: groupBy(snapshot.payments, (p) => p.orderId),
    projectionByPayment: new Map(snapshot.projection.map((p) => [p.paymentId, p])),
    projectionByOrder: groupBy(snapshot.projection, (p) => p.orderId),
    reservationByOrder: new Map(snapshot.reservations.map((r) => [r.orderId, r])),
  };
}

/** True when `at` is before the grace window: the change it stamps should have had its effects. */
export const settled = (ctx: AuditContext, at: Date | null | undefined): boolean => at != null && at.getTime() < ctx.settledBefore;

/** A payment status that means the gateway took the money for this attempt (kept, or given back as the order's refund). */
export const CAPTURED = new Set(['success', 'refunded']);
/** A payment status that means the attempt ended without money. */
export const UNSUCCESSFUL = new Set(['failed', 'cancelled', 'timeout']);

/** "2 minutes ago"-style age for details. */
export function ago(ctx: AuditContext, at: Date | null | undefined): string {
  if (!at) return 'never';
  const s = Math.round((ctx.now.getTime() - at.getTime()) / 1000);
  if (s < 0) return `in ${-s} s`;
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} days ago`;
}

/** The statuses of a list of payments, e.g. "failed, success". */
export const statuses = (payments: readonly { status: string }[]): string => (payments.length === 0 ? 'none' : payments.map((p) => p.status).join(', '));
