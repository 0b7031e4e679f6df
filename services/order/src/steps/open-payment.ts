/**
 * Step 8 (and a driver step): open payment attempt n of an order at the payment service — a pending
 * payment and a hosted checkout page at the gateway, expiring at the order's payment deadline — and
 * record it in the order's projection of attempts. Idempotent by (order id, attempt): repeating it after
 * a crash or a timeout gets the same attempt back.
 *
 * No compensation: an attempt the order no longer wants is the payment service's to end (it cancels
 * older pending attempts when a newer one opens, and times out any still pending at the deadline).
 */
import type { PaymentView } from '@folio/contracts/internal';
import { money } from '@folio/contracts/money';
import { type Tx, withTransaction } from '@folio/platform/db';
import { problems } from '@folio/platform/problem';
import type { OrderContext } from '../order.context.ts';
import { addTimeline, clearStep, findOrder, lockOrder, type OrderRow, recordPayment } from '../order.repository.ts';
import type { DriverStep } from './step.ts';

/** Records an attempt as the payment service answered it; the timeline says so the first time. */
export async function recordOpenedAttempt(tx: Tx, order: OrderRow, view: PaymentView): Promise<void> {
  const { before } = await recordPayment(tx, {
    paymentId: view.id,
    orderId: order.id,
    attempt: view.attempt,
    status: view.status,
    paymentUrl: view.paymentUrl,
    failureReason: view.failureReason ?? null,
  });
  if (!before) await addTimeline(tx, order.id, order.status, 'payment-opened', `attempt ${view.attempt}`);
}

/** Drops the step; an order still awaiting payment is then cancelled by the window rules. */
async function giveUp(ctx: OrderContext, orderId: string, attempt: number, why: string): Promise<void> {
  await withTransaction(ctx.pool, async (tx) => {
    const locked = await lockOrder(tx, orderId);
    if (locked?.pendingStep !== 'open-payment') return;
    await clearStep(tx, orderId, 'open-payment');
    if (locked.status === 'created') await addTimeline(tx, orderId, locked.status, 'payment-not-opened', `attempt ${attempt}: ${why}`);
  });
}

export const openPaymentStep: DriverStep<PaymentView | undefined> = {
  name: 'open-payment',
  async run(ctx, orderId) {
    const order = await findOrder(ctx.pool, orderId);
    if (order?.pendingStep !== 'open-payment') return undefined;
    const attempt = order.paymentAttempt;
    if (order.status !== 'created' || Date.now() >= order.paymentDeadline.getTime()) {
      // Nothing to pay any more, or too late to open: the window rules take it from here.
      await giveUp(ctx, orderId, attempt, 'the payment window closed before the payment could be opened');
      return undefined;
    }
    const opened = await ctx.payment.open({
      orderId,
      userId: order.userId,
      attempt,
      amount: money(order.total, order.currency),
      deadline: order.paymentDeadline.toISOString(),
    });
    if (!opened.ok) {
      const { status, problem } = opened.refusal;
      // 409: an attempt captured the money already; its PaymentSucceeded takes this step's place soon.
      if (status === 409) throw problems.conflict('The order is already paid.', { upstream: problem.detail });
      // 422: too late — the payment service will not open an attempt past the deadline.
      await giveUp(ctx, orderId, attempt, problem.detail ?? 'the payment window closed before the payment could be opened');
      return undefined;
    }
    const view = opened.view;
    await withTransaction(ctx.pool, async (tx) => {
      const locked = await lockOrder(tx, orderId);
      if (!locked) return;
      await recordOpenedAttempt(tx, locked, view);
      if (locked.pendingStep === 'open-payment' && locked.paymentAttempt === attempt) await clearStep(tx, orderId, 'open-payment');
    });
    ctx.log.info({ orderId, attempt, paymentId: view.id, status: view.status }, 'payment attempt opened');
    return view;
  },
};
