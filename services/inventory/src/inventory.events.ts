/**
 * The events the inventory consumes, each applied once (the platform's inbox) in a transaction with
 * its effect. Nothing here throws for a case that retrying cannot fix: that would only dead-letter it.
 */
import { BookAdded, OrderCancelled, OrderRefunded } from '@folio/contracts/events';
import type { Logger } from '@folio/platform/log';
import { type HandlerBinding, on } from '@folio/platform/messaging/consumer';
import type { ReservationService } from './reservation.service.ts';
import type { StockService } from './stock.service.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function inventoryEventHandlers(deps: { stock: StockService; reservations: ReservationService; log: Logger }): HandlerBinding[] {
  const { stock, reservations, log } = deps;
  return [
    // The catalogue added a book: open its stock with the initial quantity (once; a later restock comes from an admin).
    on(BookAdded, async (tx, event) => {
      const { bookId } = event.payload;
      if (!UUID.test(bookId)) {
        log.warn({ bookId, eventId: event.id }, 'BookAdded for a book id that is not a uuid ignored');
        return;
      }
      const opened = await stock.open(tx, bookId);
      if (!opened) log.debug({ bookId, eventId: event.id }, 'BookAdded for a book that has stock already');
    }),

    // The order will not be paid: its held copies become available again; a confirmed one stays sold.
    on(OrderCancelled, async (tx, event) => {
      const { orderId } = event.payload;
      if (!UUID.test(orderId)) return;
      const outcome = await reservations.apply(tx, orderId, 'release');
      if (outcome.kind === 'missing') log.debug({ orderId, eventId: event.id }, 'OrderCancelled for an order without a reservation');
    }),

    // The order was refunded with its copies coming back: return the confirmed lines to stock, once.
    on(OrderRefunded, async (tx, event) => {
      const { orderId, restock } = event.payload;
      if (!restock || !UUID.test(orderId)) return;
      const outcome = await reservations.apply(tx, orderId, 'restock');
      if (outcome.kind === 'missing') log.warn({ orderId, eventId: event.id }, 'OrderRefunded (restock) for an order without a reservation');
    }),
  ];
}
