/**
 * The events the notification service consumes. Each is applied once (the platform's inbox), in its
 * own transaction; the notification's unique event id is the second guard. Order events also record
 * the order's reader (address, summary), which payment events lack and which they may even precede:
 * payment events travel on other topics than order.created.
 */
import { OrderCancelled, OrderCreated, OrderPaid, OrderRefunded, PaymentFailed } from '@folio/contracts/events';
import type { Tx } from '@folio/platform/db';
import { type HandlerBinding, on } from '@folio/platform/messaging/consumer';
import type { MessageFacts } from './messages.ts';
import type { NotificationService, OrderFacts } from './notification.service.ts';

const factsOf = (p: OrderFacts): OrderFacts => ({ orderId: p.orderId, userId: p.userId, email: p.email, summary: p.summary });

export function notificationEventHandlers(service: NotificationService): HandlerBinding[] {
  /** An order event names its reader and their address: record them, then tell the reader. */
  const tellAboutOrder = async (tx: Tx, event: { id: string; payload: OrderFacts }, facts: MessageFacts) => {
    const p = event.payload;
    await service.recipientKnown(tx, factsOf(p));
    await service.notify(tx, { eventId: event.id, userId: p.userId, orderId: p.orderId, email: p.email }, facts);
  };

  return [
    // No notification: the order only becomes known, with where its reader is told.
    on(OrderCreated, async (tx, event) => {
      await service.recipientKnown(tx, { ...factsOf(event.payload), paymentDeadline: event.payload.paymentDeadline });
    }),

    on(OrderPaid, (tx, event) => tellAboutOrder(tx, event, { type: 'order-paid', orderId: event.payload.orderId, summary: event.payload.summary })),

    // The reader may pay again: the order's address and deadline come from its order events.
    on(PaymentFailed, async (tx, event) => {
      const p = event.payload;
      await service.notify(tx, { eventId: event.id, userId: p.userId, orderId: p.orderId }, { type: 'payment-failed', orderId: p.orderId, reason: p.reason });
    }),

    on(OrderCancelled, (tx, event) =>
      tellAboutOrder(tx, event, { type: 'order-cancelled', orderId: event.payload.orderId, reason: event.payload.reason, summary: event.payload.summary }),
    ),

    on(OrderRefunded, (tx, event) => tellAboutOrder(tx, event, { type: 'order-refunded', orderId: event.payload.orderId, amount: event.payload.amount })),
  ];
}
