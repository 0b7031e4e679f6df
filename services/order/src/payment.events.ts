/**
 * The payment outcomes the order consumes (keyed by order id: one order's outcomes arrive in order).
 * Each handler runs in a transaction with its inbox record (applied once), keeps the projection of the
 * order's attempts up to date, writes the timeline, and moves the order on — never by a remote call:
 * remote work is scheduled as the order's pending step, for the saga driver.
 */
import { PaymentCancelled, PaymentFailed, PaymentRefunded, PaymentSucceeded, PaymentTimedOut } from '@folio/contracts/events';
import { afterCommit, type Tx } from '@folio/platform/db';
import { type HandlerBinding, on } from '@folio/platform/messaging/consumer';
import type { OrderContext } from './order.context.ts';
import { addTimeline, clearStep, hasPendingPayment, lockOrder, type OrderRow, recordPayment, scheduleStep, setRefundReason } from './order.repository.ts';
import { CANCEL_REASONS } from './order.state.ts';
import { applyTransition } from './order.transitions.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const LATE_PAYMENT_REASON = 'payment arrived after the order was cancelled';

interface Outcome {
  orderId: string;
  paymentId: string;
  reason?: string | undefined;
}

/** The attempt number, if the payment service sent one along (the contract does not require it). */
const attemptNumber = (p: Outcome): number | null => {
  const attempt = (p as { attempt?: unknown }).attempt;
  return typeof attempt === 'number' && Number.isInteger(attempt) && attempt >= 1 && attempt <= 100 ? attempt : null;
};

export function paymentEventHandlers(ctx: OrderContext): HandlerBinding[] {
  const { log } = ctx;

  /** The order, locked; an outcome for an order this service does not have is logged and dropped. */
  async function orderOf(tx: Tx, p: Outcome, type: string): Promise<OrderRow | undefined> {
    // Order ids are uuids: anything else names no order here (and retrying it could only dead-letter it).
    const order = UUID.test(p.orderId) && UUID.test(p.paymentId) ? await lockOrder(tx, p.orderId) : undefined;
    if (!order) log.warn({ orderId: p.orderId, paymentId: p.paymentId, type }, 'payment outcome for an unknown order ignored');
    return order;
  }

  /**
   * Updates the projection; `changed` when this moved the attempt's status (so the timeline tells it once),
   * and how the timeline names the attempt (its number is in the projection: the events do not carry it).
   */
  async function project(
    tx: Tx,
    p: Outcome,
    status: 'success' | 'failed' | 'cancelled' | 'timeout' | 'refunded',
  ): Promise<{ changed: boolean; attempt: string }> {
    const { before, after } = await recordPayment(tx, {
      paymentId: p.paymentId,
      orderId: p.orderId,
      attempt: attemptNumber(p),
      status,
      failureReason: status === 'failed' || status === 'cancelled' ? (p.reason ?? null) : null,
    });
    const attempt = after.attempt !== null ? `attempt ${after.attempt}` : `payment ${p.paymentId}`;
    return { changed: before?.status !== after.status, attempt: p.reason ? `${attempt}: ${p.reason}` : attempt };
  }

  return [
    on(PaymentSucceeded, async (tx, { payload }) => {
      const order = await orderOf(tx, payload, 'payment.succeeded');
      if (!order) return;
      const projected = await project(tx, payload, 'success');
      if (projected.changed) await addTimeline(tx, order.id, order.status, 'payment-succeeded', projected.attempt);
      switch (order.status) {
        case 'created':
          if (order.pendingStep === 'confirm-stock') return;
          // Any attempt still being opened is moot now: confirming the stock takes its place.
          await scheduleStep(tx, order.id, 'confirm-stock');
          afterCommit(tx, ctx.nudge);
          return;
        case 'cancelled':
          // The money came after the window closed (or the stock was gone): give it back, keep the order cancelled.
          if (order.pendingStep === 'request-refund') return;
          await setRefundReason(tx, order.id, LATE_PAYMENT_REASON);
          await scheduleStep(tx, order.id, 'request-refund');
          await addTimeline(tx, order.id, order.status, 'refund-requested', LATE_PAYMENT_REASON);
          afterCommit(tx, ctx.nudge);
          return;
        default:
          // The payment service guarantees one success per order.
          log.warn({ orderId: order.id, status: order.status, paymentId: payload.paymentId }, 'a second successful payment for an order ignored');
      }
    }),

    on(PaymentFailed, async (tx, { payload }) => {
      const order = await orderOf(tx, payload, 'payment.failed');
      if (!order) return;
      // The order stays created: the reader may try again while the window is open.
      const projected = await project(tx, payload, 'failed');
      if (projected.changed) await addTimeline(tx, order.id, order.status, 'payment-failed', projected.attempt);
    }),

    on(PaymentCancelled, async (tx, { payload }) => {
      const order = await orderOf(tx, payload, 'payment.cancelled');
      if (!order) return;
      const projected = await project(tx, payload, 'cancelled');
      if (projected.changed) await addTimeline(tx, order.id, order.status, 'payment-cancelled', projected.attempt);
    }),

    on(PaymentTimedOut, async (tx, { payload }) => {
      const order = await orderOf(tx, payload, 'payment.timed-out');
      if (!order) return;
      const projected = await project(tx, payload, 'timeout');
      if (projected.changed) await addTimeline(tx, order.id, order.status, 'payment-timed-out', projected.attempt);
      // The window closed: with no other attempt pending (and no payment being confirmed) the order is over.
      if (order.status !== 'created' || order.pendingStep === 'confirm-stock' || (await hasPendingPayment(tx, order.id))) return;
      if (order.pendingStep === 'open-payment') await clearStep(tx, order.id, 'open-payment');
      await applyTransition(tx, ctx, order, { type: 'cancel', reason: CANCEL_REASONS.windowClosed });
    }),

    on(PaymentRefunded, async (tx, { payload }) => {
      const order = await orderOf(tx, payload, 'payment.refunded');
      if (!order) return;
      await project(tx, payload, 'refunded');
      if (order.status !== 'paid' && order.status !== 'cancelled') {
        log.warn({ orderId: order.id, status: order.status, paymentId: payload.paymentId }, 'a refund for an order that was not paid or cancelled ignored');
        return;
      }
      // A paid order's books had left the stock: they go back. A cancelled order's never left.
      const restock = order.status === 'paid';
      if (order.pendingStep === 'request-refund') await clearStep(tx, order.id, 'request-refund');
      await applyTransition(tx, ctx, order, { type: 'refund', paymentId: payload.paymentId, restock });
    }),
  ];
}
