/**
 * Check 3 — each order's status matches its payments (the state machines of order.state.ts and
 * payment.state.ts: created → paid | cancelled, paid → refunded, cancelled → refunded; a payment's
 * success → refunded). Check 1 already holds paid orders to a captured payment and cancelled orders to no
 * kept money; this check holds the rest:
 *
 * 1. A `created` order has no attempt that captured money, once the grace has passed since that
 *    payment changed (a success is confirmed — stock, then `paid` — within moments).
 * 2. A `refunded` order has a refunded payment (the order becomes refunded only when the payment
 *    service reports the money returned, so this holds without a grace).
 * 3. A refunded payment belongs to a `refunded` order once the grace has passed since it changed
 *    (a `paid` or `cancelled` order whose money went back must say so). A payment whose order does not
 *    exist is check 1's.
 */
import { type AuditContext, CAPTURED, type CheckResult, type Offender, settled, statuses } from './check.ts';

export function orderStatus(ctx: AuditContext): CheckResult {
  const offenders: Offender[] = [];
  for (const order of ctx.snapshot.orders) {
    const attempts = ctx.paymentsByOrder.get(order.id) ?? [];
    if (order.status === 'created') {
      for (const p of attempts) {
        if (CAPTURED.has(p.status) && settled(ctx, p.updatedAt)) {
          offenders.push({ id: order.id, detail: `order still awaits payment, though payment ${p.id} is ${p.status}` });
        }
      }
    }
    if (order.status === 'refunded' && !attempts.some((p) => p.status === 'refunded')) {
      offenders.push({ id: order.id, detail: `refunded order, but none of its payments was refunded (payments: ${statuses(attempts)})` });
    }
  }
  for (const p of ctx.snapshot.payments) {
    if (p.status !== 'refunded' || !settled(ctx, p.updatedAt)) continue;
    const order = ctx.orderById.get(p.orderId);
    if (order && order.status !== 'refunded' && order.status !== 'created') {
      offenders.push({ id: order.id, detail: `${order.status} order, though its payment ${p.id} was refunded` });
    }
  }
  return {
    name: 'order-status',
    description: "Each order's status matches its payments (created: no money yet; refunded ⇔ a refunded payment)",
    checked: ctx.snapshot.orders.length,
    unit: 'orders',
    offenders,
  };
}
