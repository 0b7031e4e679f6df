/** The order events the cart consumes. Each is applied once (the platform's inbox), in its own transaction. */
import { OrderCancelled, OrderPaid } from '@folio/contracts/events';
import { type HandlerBinding, on } from '@folio/platform/messaging/consumer';
import type { CartService } from './cart.service.ts';

export function orderEventHandlers(service: CartService): HandlerBinding[] {
  return [
    // The reader bought what was in the cart: empty it and close its history as converted.
    on(OrderPaid, async (tx, event) => {
      await service.orderPaid(tx, { orderId: event.payload.orderId, userId: event.payload.userId });
    }),
    // The payment did not happen: the cart stays as it is, so the reader can try again.
    on(OrderCancelled, async (_tx, event) => {
      service.orderCancelled({ orderId: event.payload.orderId, userId: event.payload.userId, reason: event.payload.reason });
    }),
  ];
}
