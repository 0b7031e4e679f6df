/**
 * Check 8 — no saga past its deadline. The sweepers and the saga driver run every few seconds (and
 * the order service's window sweeper waits PAYMENT_DEADLINE_GRACE_SECONDS), so something is only late
 * once it is more than the audit's grace past its deadline:
 * 1. No order is still `created` (awaiting payment) more than the grace after its payment_deadline.
 * 2. No order's pending saga step (open-payment, confirm-stock, request-refund) is due (next_step_at)
 *    more than the grace ago: the driver claims due steps and moves next_step_at ahead as it works.
 * 3. No reservation is still held (reserved) more than the grace after its expires_at.
 * 4. No payment is still `pending` more than the grace after its deadline (its checkout session's expiry).
 * 5. No refund of a `paid` order asked for more than the grace ago is still not done (payment success,
 *    refund_requested_at set, refunded_at not). A cancelled order's late money is check 1's, a duplicate
 *    capture's refund check 2's.
 */
import { type AuditContext, ago, type CheckResult, type Offender, settled } from './check.ts';

export function deadlines(ctx: AuditContext): CheckResult {
  const { snapshot } = ctx;
  const offenders: Offender[] = [];
  for (const o of snapshot.orders) {
    if (o.status === 'created' && settled(ctx, o.paymentDeadline)) {
      offenders.push({ id: o.id, detail: `order still awaits payment; its payment window closed ${ago(ctx, o.paymentDeadline)}` });
    }
    if (o.pendingStep && settled(ctx, o.nextStepAt)) {
      offenders.push({ id: o.id, detail: `${o.status} order's saga step ${o.pendingStep} was due ${ago(ctx, o.nextStepAt)} and has not run` });
    }
  }
  for (const r of snapshot.reservations) {
    if (r.status === 'reserved' && settled(ctx, r.expiresAt)) {
      offenders.push({ id: r.orderId, detail: `reservation of order ${r.orderId} is still held; it expired ${ago(ctx, r.expiresAt)}` });
    }
  }
  for (const p of snapshot.payments) {
    if (p.status === 'pending' && settled(ctx, p.deadline)) {
      offenders.push({
        id: p.id,
        detail: `payment (attempt ${p.attempt} of order ${p.orderId}) is still pending; its deadline passed ${ago(ctx, p.deadline)}`,
      });
    }
    if (p.status === 'success' && !p.refundedAt && settled(ctx, p.refundRequestedAt) && ctx.orderById.get(p.orderId)?.status === 'paid') {
      offenders.push({ id: p.id, detail: `refund of paid order ${p.orderId} was asked for ${ago(ctx, p.refundRequestedAt)} and is not done` });
    }
  }
  return {
    name: 'deadlines',
    description: 'No saga past its deadline (payment windows, saga steps, reservations, pending payments, refunds)',
    checked: snapshot.orders.length + snapshot.reservations.length + snapshot.payments.length,
    unit: 'orders, reservations and payments',
    offenders,
  };
}
