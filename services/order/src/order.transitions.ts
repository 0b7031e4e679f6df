/**
 * Applies the state machine (order.state.ts) to a stored order, in the caller's transaction and with
 * the order locked: the new status, its timeline entry, and the event that announces it (through the
 * outbox, so the event exists if and only if the change committed). An illegal transition is refused
 * and logged; nothing is changed.
 */
import { OrderCancelled, OrderPaid, OrderRefunded } from '@folio/contracts/events';
import { money } from '@folio/contracts/money';
import type { Tx } from '@folio/platform/db';
import type { Logger } from '@folio/platform/log';
import type { Outbox } from '@folio/platform/messaging/outbox';
import { addTimeline, linesOf, type OrderRow, updateStatus } from './order.repository.ts';
import { type OrderEvent, type OrderStatus, timelineOf, transition } from './order.state.ts';
import { recipientOf } from './order.summary.ts';

export interface TransitionDeps {
  outbox: Outbox;
  log: Logger;
}

/** The new status, or undefined when the transition was refused. `order` must have been read with lockOrder. */
export async function applyTransition(tx: Tx, deps: TransitionDeps, order: OrderRow, event: OrderEvent): Promise<OrderStatus | undefined> {
  const result = transition(order.status, event);
  if (!result.ok) {
    deps.log.warn({ orderId: order.id, status: order.status, event }, `illegal order transition refused: ${result.reason}`);
    return undefined;
  }
  const fields = event.type === 'pay' ? { paidPaymentId: event.paymentId } : event.type === 'cancel' ? { cancelReason: event.reason } : {};
  if (!(await updateStatus(tx, order.id, result.from, result.to, fields))) {
    // Cannot happen with the row locked; refusing is still better than announcing a change that did not happen.
    deps.log.error({ orderId: order.id, status: order.status, event }, 'order changed under a lock; transition not applied');
    return undefined;
  }
  const entry = timelineOf(event);
  await addTimeline(tx, order.id, result.to, entry.event, entry.detail);

  const stored = await linesOf(tx, [order.id]);
  const lines = stored.map((l) => ({ bookId: l.bookId, quantity: l.quantity, unitPrice: money(l.unitPrice, order.currency) }));
  const total = money(order.total, order.currency);
  const base = { orderId: order.id, userId: order.userId, ...recipientOf({ ...order, lines: stored }) };
  switch (event.type) {
    case 'pay': {
      // OrderPaid and OrderCancelled accept more than they require: the total and the lines, for their consumers' convenience.
      const payload = { ...base, paymentId: event.paymentId, total, lines };
      await deps.outbox.publish(tx, OrderPaid, { aggregateId: order.id, payload });
      break;
    }
    case 'cancel': {
      const payload = { ...base, reason: event.reason, lines };
      await deps.outbox.publish(tx, OrderCancelled, { aggregateId: order.id, payload });
      break;
    }
    case 'refund':
      await deps.outbox.publish(tx, OrderRefunded, {
        aggregateId: order.id,
        payload: { ...base, paymentId: event.paymentId, amount: total, restock: event.restock, lines },
      });
      break;
    default: {
      const unhandled: never = event;
      throw new Error(`no event for ${JSON.stringify(unhandled)}`);
    }
  }
  deps.log.info({ orderId: order.id, from: result.from, to: result.to, event: event.type }, `order ${result.to}`);
  order.status = result.to;
  return result.to;
}
