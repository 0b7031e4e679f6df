/**
 * Check 2 — exactly one successful payment per paid order, never two for any order.
 *
 * Rules:
 * 1. No order has more than one attempt that captured its money (status success or refunded). The payment
 *    database's unique index payments_one_success_per_order enforces it; the audit checks it anyway.
 * 2. An order that names its payment (paid_payment_id: it was paid) and has exactly one captured attempt
 *    names that attempt. (A paid order with none is check 1's; one with two is rule 1's.)
 * 3. A second capture — the gateway took money for another attempt after one had succeeded — is a
 *    duplicate: the payment service keeps it unsuccessful (failed) and refunds it. Its refund must be done
 *    (refunded_at set) once the grace has passed since it was asked for (refund_requested_at).
 */
import { type AuditContext, ago, CAPTURED, type CheckResult, type Offender, settled } from './check.ts';

export function oneSuccess(ctx: AuditContext): CheckResult {
  const offenders: Offender[] = [];
  for (const order of ctx.snapshot.orders) {
    const captured = (ctx.paymentsByOrder.get(order.id) ?? []).filter((p) => CAPTURED.has(p.status));
    if (captured.length > 1) {
      offenders.push({
        id: order.id,
        detail: `${order.status} order has ${captured.length} payments that took its money: ${captured.map((p) => `${p.id} (${p.status})`).join(', ')}`,
      });
    } else if (order.paidPaymentId && captured.length === 1 && captured[0]!.id !== order.paidPaymentId) {
      offenders.push({
        id: order.id,
        detail: `${order.status} order names payment ${order.paidPaymentId} as its payment, but payment ${captured[0]!.id} took the money`,
      });
    }
  }
  for (const p of ctx.snapshot.payments) {
    if (CAPTURED.has(p.status) || !p.refundRequestedAt || p.refundedAt) continue;
    if (settled(ctx, p.refundRequestedAt)) {
      offenders.push({
        id: p.id,
        detail: `second capture for order ${p.orderId} (attempt ${p.attempt}, ${p.status}) is still not refunded; refund asked ${ago(ctx, p.refundRequestedAt)}`,
      });
    }
  }
  return {
    name: 'one-success',
    description: 'Exactly one successful payment per paid order, never two for any order (a second capture is refunded)',
    checked: ctx.snapshot.orders.length,
    unit: 'orders',
    offenders,
  };
}
