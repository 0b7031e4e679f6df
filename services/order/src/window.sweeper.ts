/**
 * The payment window sweeper: an order still awaiting payment PAYMENT_DEADLINE_GRACE_SECONDS after its
 * deadline, with no attempt pending, is cancelled ("payment window closed") and OrderCancelled tells the
 * inventory to release its books (the cart is kept). Attempts still pending are left alone: the payment
 * service times them out at the deadline and says so (PaymentTimedOut, payment.events.ts), which
 * cancels the order the same way. The grace lets such a last-second outcome arrive first.
 */
import { withTransaction } from '@folio/platform/db';
import type { OrderContext } from './order.context.ts';
import { clearStep, lockExpiredOrders } from './order.repository.ts';
import { CANCEL_REASONS } from './order.state.ts';
import { applyTransition } from './order.transitions.ts';

export const SWEEP_BATCH = 50;

/** One pass; returns how many orders it cancelled. */
export async function sweepPaymentWindows(ctx: OrderContext): Promise<number> {
  return withTransaction(ctx.pool, async (tx) => {
    const orders = await lockExpiredOrders(tx, ctx.settings.deadlineGraceSeconds, SWEEP_BATCH);
    for (const order of orders) {
      // A payment that could not even be opened in time is given up with the order.
      if (order.pendingStep === 'open-payment') await clearStep(tx, order.id, 'open-payment');
      await applyTransition(tx, ctx, order, { type: 'cancel', reason: CANCEL_REASONS.windowClosed });
    }
    return orders.length;
  });
}
