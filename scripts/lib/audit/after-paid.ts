/**
 * Check 7 — every order.paid led to a cleared cart and a notification (cart and notification
 * databases against the order database). An order counts as paid when paid_at is set (it may have been
 * refunded since); only orders paid before the grace are judged, the event may still be on its way.
 *
 * What the cart records: on OrderPaid the cart service ends the reader's active cart — whatever it then
 * holds — as `converted` with order_id = the order (cart.service.ts orderPaid → store.convert). When the
 * reader has no active cart at that moment (it expired, or an earlier paid order of the same cart cleared
 * it) nothing is recorded, and rightly so. Hence the rules:
 * 1. Notification: the notification database has an `order-paid` notification naming the order (any
 *    status: a mail that could not be delivered is still the notification the event led to).
 * 2. Cart cleared: no cart of the reader (owner `u:<user id>`) that was created before the order was paid
 *    is still active — had the event been applied, that cart would have been converted.
 * 3. A cart converted for this order is the reader's own.
 * 4. Every cart converted for an order (before the grace) names an order that exists and was paid: a
 *    cart is never emptied for an order that was not paid.
 */
import { type AuditContext, ago, type CheckResult, type Offender, settled } from './check.ts';
import type { CartRow } from './snapshot.ts';

export function afterPaid(ctx: AuditContext): CheckResult {
  const { snapshot } = ctx;
  const offenders: Offender[] = [];
  const activeByOwner = new Map<string, CartRow[]>();
  const convertedByOrder = new Map<string, CartRow[]>();
  for (const c of snapshot.carts) {
    if (c.status === 'active') activeByOwner.set(c.ownerKey, [...(activeByOwner.get(c.ownerKey) ?? []), c]);
    else if (c.orderId) {
      const orderId = c.orderId.toLowerCase();
      convertedByOrder.set(orderId, [...(convertedByOrder.get(orderId) ?? []), c]);
    }
  }

  let judged = 0;
  for (const order of snapshot.orders) {
    if (!settled(ctx, order.paidAt)) continue;
    judged++;
    const paidAt = order.paidAt!;
    if (!snapshot.paidNotifications.has(order.id)) {
      offenders.push({ id: order.id, detail: `order paid ${ago(ctx, paidAt)} has no order-paid notification` });
    }
    const owner = `u:${order.userId}`;
    for (const cart of activeByOwner.get(owner) ?? []) {
      if (cart.createdAt.getTime() < paidAt.getTime()) {
        offenders.push({
          id: order.id,
          detail: `order paid ${ago(ctx, paidAt)}, but the reader's cart ${cart.id} (created ${ago(ctx, cart.createdAt)}) is still active`,
        });
      }
    }
    for (const cart of convertedByOrder.get(order.id) ?? []) {
      if (cart.ownerKey !== owner) offenders.push({ id: order.id, detail: `paying the order cleared cart ${cart.id}, which is not its reader's` });
    }
  }
  for (const [orderId, carts] of convertedByOrder) {
    const order = ctx.orderById.get(orderId);
    if (order?.paidAt) continue;
    for (const cart of carts) {
      if (!settled(ctx, cart.convertedAt)) continue;
      offenders.push({
        id: orderId,
        detail: `cart ${cart.id} was emptied for this order, but ${order ? `the order is ${order.status} and was never paid` : 'the order does not exist'}`,
      });
    }
  }
  return {
    name: 'after-paid',
    description: 'Every order.paid led to a cleared cart and an order-paid notification',
    checked: judged,
    unit: 'paid orders',
    offenders,
  };
}
