/**
 * Driver step: ask the payment service to give the captured money back (idempotent by payment). The
 * order becomes `refunded` when PaymentRefunded arrives (payment.events.ts). This step is itself the
 * compensation of a capture: for a paid order the reader took back, a payment that arrived after the
 * order was cancelled, and a payment for books that were no longer in stock. It has no undo.
 */
import { withTransaction } from '@folio/platform/db';
import { capturedPayment, clearStep, findOrder, lockOrder, recordPayment } from '../order.repository.ts';
import type { DriverStep } from './step.ts';

const DEFAULT_REASON = 'refund';

export const requestRefundStep: DriverStep<void> = {
  name: 'request-refund',
  async run(ctx, orderId) {
    const order = await findOrder(ctx.pool, orderId);
    if (order?.pendingStep !== 'request-refund') return;
    if (order.status === 'refunded') {
      await clearStep(ctx.pool, orderId, 'request-refund'); // PaymentRefunded came first: nothing left to ask
      return;
    }
    // The attempt that captured the money; if the projection missed it, the payment service knows.
    const paymentId =
      (await capturedPayment(ctx.pool, orderId))?.paymentId ??
      order.paidPaymentId ??
      (await ctx.payment.list(orderId)).find((p) => p.status === 'success' || p.status === 'refunded')?.id;
    if (!paymentId) throw new Error(`order ${orderId} is to be refunded but no payment captured its money`);
    const view = await ctx.payment.refund(paymentId, (order.refundReason ?? DEFAULT_REASON).slice(0, 200));
    await withTransaction(ctx.pool, async (tx) => {
      const locked = await lockOrder(tx, orderId);
      if (!locked) return;
      await recordPayment(tx, { paymentId: view.id, orderId, attempt: view.attempt, status: view.status, paymentUrl: view.paymentUrl });
      await clearStep(tx, orderId, 'request-refund');
    });
    ctx.log.info({ orderId, paymentId, status: view.status }, 'refund requested at the payment service');
  },
};
