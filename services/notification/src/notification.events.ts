/**
 * The events the notification service consumes. Each is applied once (the platform's inbox), in its
 * own transaction; the notification's unique event id is the second guard. Order events also record
 * the order's reader (address, summary), which payment events lack and which they may even precede:
 * payment events travel on other topics than order.created.
 */
import { OrderCancelled, OrderCreated, OrderPaid, OrderRefunded, PaymentFailed } from '@folio/contracts/events';
import { type HandlerBinding, on } from '@folio/platform/messaging/consumer';
import type { NotificationService, OrderFacts } from './notification.service.ts';

const factsOf = (p: OrderFacts): OrderFacts => ({ orderId: p.orderId, userId: p.userId, email: p.email, summary: p.summary });

export function notificationEventHandlers(service: NotificationService): HandlerBinding[] {
  return [
    // No notification: the order only becomes known, with where its reader is told.
    on(OrderCreated, async (tx, event) => {
      await service.recipientKnown(tx, { ...factsOf(event.payload), paymentDeadline: event.payload.paymentDeadline });
    }),

    on(OrderPaid, async (tx, event) => {
      const p = event.payload;
      await service.recipientKnown(tx, factsOf(p));
      await service.notify(
        tx,
        { eventId: event.id, userId: p.userId, orderId: p.orderId, email: p.email },
        { type: 'order-paid', orderId: p.orderId, summary: p.summary },
      );
    }),

    // The reader may pay again: the order's address and deadline come from its order events.
    on(PaymentFailed, async (tx, event) => {
      const p = event.payload;
      await service.notify(tx, { eventId: event.id, userId: p.userId, orderId: p.orderId }, { type: 'payment-failed', orderId: p.orderId, reason: p.reason });
    }),

    on(OrderCancelled, async (tx, event) => {
      const p = event.payload;
      await service.recipientKnown(tx, factsOf(p));
      await service.notify(
        tx,
        { eventId: event.id, userId: p.userId, orderId: p.orderId, email: p.email },
        { type: 'order-cancelled', orderId: p.orderId, reason: p.reason, summary: p.summary },
      );
    }),

    on(OrderRefunded, async (tx, event) => {
      const p = event.payload;
      await service.recipientKnown(tx, factsOf(p));
      await service.notify(
        tx,
        { eventId: event.id, userId: p.userId, orderId: p.orderId, email: p.email },
        { type: 'order-refunded', orderId: p.orderId, amount: p.amount },
      );
    }),
  ];
}
