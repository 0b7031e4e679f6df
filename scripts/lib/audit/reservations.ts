/**
 * Check 6 — no reservation held by a terminal order, and every reservation follows its order
 * (inventory's reservation_orders against the order database).
 *
 * The order reserves its books before it exists (checkout), confirms them before it is marked paid
 * (confirm-stock), and releases them by OrderCancelled / returns them by OrderRefunded { restock }.
 * 1. No reservation is still held (status reserved) by an order that is no longer awaiting payment:
 *    a `paid` one (confirmed before it was paid: no grace), or a `cancelled`/`refunded` one that changed
 *    before the grace (its OrderCancelled has been applied by then).
 * 2. Every order has a reservation (it was reserved before the order was written).
 * 3. An order that was paid (paid_at set) has its reservation confirmed: its copies left the stock.
 * 4. A confirmed reservation belongs to an order that was paid, unless it was confirmed within the grace
 *    (the order is being marked paid).
 * 5. A refunded order that had been paid got its copies back (every line restocked) once the grace has
 *    passed since it changed; lines are restocked only for a refunded order.
 * Reservations of orders that were never written (a checkout that failed after reserving) are released
 * by the checkout or expire: an overdue one is check 8's.
 */
import { type AuditContext, type CheckResult, type Offender, settled } from './check.ts';

const TERMINAL = new Set(['paid', 'cancelled', 'refunded']);

export function reservationsFollowOrders(ctx: AuditContext): CheckResult {
  const offenders: Offender[] = [];
  for (const order of ctx.snapshot.orders) {
    const r = ctx.reservationByOrder.get(order.id);
    if (!r) {
      offenders.push({ id: order.id, detail: `${order.status} order has no reservation in the inventory` });
      continue;
    }
    if (r.status === 'reserved' && TERMINAL.has(order.status) && (order.status === 'paid' || settled(ctx, order.updatedAt))) {
      offenders.push({ id: order.id, detail: `${order.status} order still holds its reservation (${r.lines} book(s), until ${r.expiresAt.toISOString()})` });
      continue;
    }
    if (order.paidAt && r.status !== 'confirmed' && r.status !== 'reserved') {
      offenders.push({ id: order.id, detail: `order was paid, but its reservation is ${r.status}: its books never left the stock` });
    }
    if (order.status === 'refunded' && order.paidAt && settled(ctx, order.updatedAt) && r.status === 'confirmed' && r.restockedLines < r.lines) {
      offenders.push({
        id: order.id,
        detail: `order was paid and refunded, but ${r.lines - r.restockedLines} of its ${r.lines} book(s) never went back to stock`,
      });
    }
  }
  for (const r of ctx.snapshot.reservations) {
    const order = ctx.orderById.get(r.orderId);
    if (r.status === 'confirmed' && !order?.paidAt && settled(ctx, r.confirmedAt ?? r.updatedAt)) {
      offenders.push({
        id: r.orderId,
        detail: `reservation is confirmed (its copies sold), but ${order ? `the order is ${order.status} and was never paid` : 'the order does not exist'}`,
      });
    }
    if (r.restockedLines > 0 && order?.status !== 'refunded' && settled(ctx, r.updatedAt)) {
      offenders.push({ id: r.orderId, detail: `reservation's copies went back to stock, but the order is ${order ? order.status : 'missing'}, not refunded` });
    }
  }
  return {
    name: 'reservations',
    description: 'No reservation held by a terminal order; reservations follow their orders (confirmed ⇔ paid, restocked ⇔ refunded)',
    checked: ctx.snapshot.reservations.length,
    unit: 'reservations',
    offenders,
  };
}
