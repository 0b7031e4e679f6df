/**
 * The events the catalogue consumes. StockChanged (from inventory) keeps each book's availability;
 * the consumer runtime applies it once, in a transaction with its inbox record.
 */
import { StockChanged } from '@folio/contracts/events';
import type { Logger } from '@folio/platform/log';
import { type HandlerBinding, on } from '@folio/platform/messaging/consumer';
import { setAvailability } from './book.repository.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function stockChangedHandler(log: Logger): HandlerBinding {
  return on(StockChanged, async (tx, event) => {
    const { bookId, available, inStock } = event.payload;
    // A stock record for a book we do not sell (yet) is not an error: failing would only retry and dead-letter it.
    const known = UUID.test(bookId) && (await setAvailability(tx, bookId, available, inStock));
    if (!known) log.warn({ bookId, eventId: event.id }, 'StockChanged for an unknown book ignored');
  });
}
