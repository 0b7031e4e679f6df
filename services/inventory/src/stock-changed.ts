/** StockChanged, the one event the inventory publishes: the catalogue keeps each book's availability from it. */
import { StockChanged } from '@folio/contracts/events';
import type { Tx } from '@folio/platform/db';
import type { Outbox } from '@folio/platform/messaging/outbox';
import type { AvailabilityChange } from './stock.repository.ts';

/**
 * Publishes, in the caller's transaction, one StockChanged per book whose available quantity moved
 * (every change, not only to and from zero: the catalogue shows the number). The caller holds the
 * books' stock locks, so a book's events enter the outbox in commit order. `force` announces a book
 * whose stock was just opened even if nothing moved, so the catalogue hears of it.
 */
export async function announceAvailability(tx: Tx, outbox: Outbox, changes: readonly AvailabilityChange[], opts: { force?: boolean } = {}): Promise<number> {
  let published = 0;
  for (const c of changes) {
    if (c.before === c.after && !opts.force) continue;
    await outbox.publish(tx, StockChanged, { aggregateId: c.bookId, payload: { bookId: c.bookId, available: c.after, inStock: c.after > 0 } });
    published++;
  }
  return published;
}
