/**
 * Driver step, after PaymentSucceeded: the reserved books leave the stock for good (the inventory's
 * confirm, idempotent by order id), and the order is `paid` (OrderPaid: the cart is cleared).
 *
 * If the reservation was lost (it lapsed and the stock went to someone else), the money was taken for
 * books we cannot send: the order is `cancelled` ("out of stock after payment") and its compensation,
 * the refund, is scheduled (request-refund). A confirmed reservation has no undo here: once the order
 * is refunded, the inventory restocks on OrderRefunded { restock: true }.
 */
import { afterCommit, withTransaction } from '@folio/platform/db';
import { addTimeline, capturedPayment, clearStep, findOrder, lockOrder, scheduleStep, setRefundReason } from '../order.repository.ts';
import { CANCEL_REASONS } from '../order.state.ts';
import { applyTransition } from '../order.transitions.ts';
import type { DriverStep } from './step.ts';

export const confirmStockStep: DriverStep<void> = {
  name: 'confirm-stock',
  async run(ctx, orderId) {
    const order = await findOrder(ctx.pool, orderId);
    if (order?.pendingStep !== 'confirm-stock') return;
    const outcome = await ctx.inventory.confirm(orderId);
    await withTransaction(ctx.pool, async (tx) => {
      const locked = await lockOrder(tx, orderId);
      if (locked?.pendingStep !== 'confirm-stock') return;
      if (outcome.ok) {
        const captured = await capturedPayment(tx, orderId);
        if (!captured) throw new Error(`order ${orderId} is being confirmed but no successful payment is recorded`);
        await applyTransition(tx, ctx, locked, { type: 'pay', paymentId: captured.paymentId });
        await clearStep(tx, orderId, 'confirm-stock');
        return;
      }
      ctx.log.warn({ orderId, detail: outcome.detail }, 'the reservation was lost after payment: cancelling and refunding');
      if (!(await applyTransition(tx, ctx, locked, { type: 'cancel', reason: CANCEL_REASONS.noStockAfterPayment }))) {
        await clearStep(tx, orderId, 'confirm-stock');
        return;
      }
      await setRefundReason(tx, orderId, CANCEL_REASONS.noStockAfterPayment);
      await scheduleStep(tx, orderId, 'request-refund');
      await addTimeline(tx, orderId, locked.status, 'refund-requested', CANCEL_REASONS.noStockAfterPayment);
      afterCommit(tx, ctx.nudge);
    });
  },
};
