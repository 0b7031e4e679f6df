/**
 * Check 1 — seed 004 §11 "Data Consistency", read faithfully for a model where an order may take
 * several payment attempts (each a row in the payment database; at most one can capture money):
 *
 *   Total Orders = Total Payments      every order is paid through the payment service: each order has at
 *                                      least one attempt there, and every attempt belongs to an order.
 *   Paid Orders = Successful Payments  every paid order's money was captured by one of its attempts.
 *   Cancelled Orders = Failed Payments a cancelled order kept no money: its attempts all failed, were
 *                                      cancelled or timed out (money that arrived late is refunded).
 *
 * Rules (a change younger than the grace may still be in flight and is not judged):
 * 1. Every order has ≥ 1 attempt in the payment database, except an order still `created` that is younger
 *    than the grace, whose open-payment step is pending (the saga opens it; an overdue step is check 8's), or
 *    whose payment window has closed (too late to open one; the window rules cancel it — check 8 watches);
 *    and except a `cancelled` order of which neither database knows an attempt (the window closed before
 *    one could be opened).
 * 2. Every payment older than the grace belongs to an order of the order database.
 * 3. The order database's projection of the attempts (order_payments) agrees with the payment database:
 *    each payment changed before the grace is projected, for the same order, with the same status; each
 *    projected attempt settled before the grace exists in the payment database.
 * 4. Every `paid` order has an attempt that captured its money (success; a refunded one is check 3's).
 * 5. No `cancelled` order holds an attempt in `success` — unless the payment or the order changed within
 *    the grace (the late money is being refunded; the refunded order is then `refunded`).
 * The counts of both sides of each equation are printed; they differ only by what is in flight.
 */
import { type AuditContext, CAPTURED, type CheckResult, type Offender, settled, statuses, UNSUCCESSFUL } from './check.ts';

export function seedEquations(ctx: AuditContext): CheckResult {
  const { snapshot } = ctx;
  const offenders: Offender[] = [];
  let withAttempts = 0;
  let opening = 0;
  let neverOpened = 0;
  let cancelledWithoutMoney = 0;

  for (const order of snapshot.orders) {
    const attempts = ctx.paymentsByOrder.get(order.id) ?? [];
    const projected = ctx.projectionByOrder.get(order.id) ?? [];
    if (attempts.length > 0) withAttempts++;
    else if (order.status === 'created') {
      const exempt = !settled(ctx, order.createdAt) || order.pendingStep === 'open-payment' || order.paymentDeadline.getTime() <= ctx.now.getTime();
      if (exempt) opening++;
      else offenders.push({ id: order.id, detail: `order awaiting payment has no payment attempt in the payment database, and none is being opened` });
    } else if (order.status === 'cancelled' && projected.length === 0) {
      neverOpened++;
    } else {
      offenders.push({
        id: order.id,
        detail: `${order.status} order has no payment attempt in the payment database${projected.length > 0 ? ` (the order lists ${projected.length})` : ''}`,
      });
    }

    if (order.status === 'paid' && attempts.length > 0 && !attempts.some((p) => CAPTURED.has(p.status))) {
      offenders.push({ id: order.id, detail: `paid order, but none of its attempts captured money (attempts: ${statuses(attempts)})` });
    }
    if (order.status === 'cancelled') {
      const kept = attempts.filter((p) => p.status === 'success');
      for (const p of kept) {
        if (settled(ctx, p.updatedAt) && settled(ctx, order.updatedAt)) {
          offenders.push({ id: order.id, detail: `cancelled order keeps the money of payment ${p.id} (success, not refunded)` });
        }
      }
      if (kept.length === 0 && attempts.every((p) => UNSUCCESSFUL.has(p.status))) cancelledWithoutMoney++;
    }
  }

  for (const p of snapshot.payments) {
    const projected = ctx.projectionByPayment.get(p.id);
    if (!ctx.orderById.has(p.orderId)) {
      if (settled(ctx, p.createdAt))
        offenders.push({ id: p.id, detail: `payment (attempt ${p.attempt}, ${p.status}) names order ${p.orderId}, which does not exist` });
      continue;
    }
    if (!settled(ctx, p.updatedAt)) continue;
    if (!projected) {
      offenders.push({ id: p.id, detail: `payment ${p.status} (attempt ${p.attempt} of order ${p.orderId}) is unknown to the order database` });
    } else if (projected.orderId !== p.orderId) {
      offenders.push({ id: p.id, detail: `payment belongs to order ${p.orderId}, but the order database files it under order ${projected.orderId}` });
    } else if (projected.status !== p.status) {
      offenders.push({ id: p.id, detail: `payment is ${p.status}, but the order database still says ${projected.status} (order ${p.orderId})` });
    }
  }
  const paymentIds = new Set(snapshot.payments.map((p) => p.id));
  for (const row of snapshot.projection) {
    if (!paymentIds.has(row.paymentId) && settled(ctx, row.updatedAt)) {
      offenders.push({
        id: row.paymentId,
        detail: `the order database lists payment ${row.paymentId} (${row.status}) of order ${row.orderId}, unknown to the payment database`,
      });
    }
  }

  const count = (status: string) => snapshot.orders.filter((o) => o.status === status).length;
  const payments = (status: string) => snapshot.payments.filter((p) => p.status === status).length;
  const eq = (left: number, right: number) => (left === right ? '=' : '≠');
  const paid = count('paid');
  const success = payments('success');
  const cancelled = count('cancelled');
  const refunded = count('refunded');
  const refundedPayments = payments('refunded');
  const attempted = withAttempts + opening + neverOpened;
  return {
    name: 'seed-004',
    description: 'Seed 004 §11: orders ↔ payments (totals, paid = successful, cancelled = failed)',
    checked: snapshot.orders.length + snapshot.payments.length,
    unit: `records (${snapshot.orders.length} orders, ${snapshot.payments.length} payment attempts)`,
    facts: [
      `orders ${snapshot.orders.length} ${eq(snapshot.orders.length, attempted)} orders with payment attempts ${withAttempts} + being opened ${opening} + cancelled before any attempt ${neverOpened}`,
      `paid orders ${paid} ${eq(paid, success)} successful payments ${success}`,
      `cancelled orders ${cancelled} ${eq(cancelled, cancelledWithoutMoney)} orders whose payments all failed, were cancelled or timed out ${cancelledWithoutMoney}`,
      `refunded orders ${refunded} ${eq(refunded, refundedPayments)} refunded payments ${refundedPayments}`,
    ],
    offenders,
  };
}
