/**
 * The events services publish and consume: the published language between them. The topic is the
 * event type; the key is the aggregate id (the order, the book), so one aggregate's events stay in
 * order. Changing a payload incompatibly means a new version.
 */
import { defineEvent } from '@folio/platform/messaging/envelope';
import { Type } from 'typebox';
import { Money } from './money.ts';

const Id = Type.String({ minLength: 1, maxLength: 100 });
const Line = Type.Object({ bookId: Id, quantity: Type.Integer({ minimum: 1 }) });

/** Catalogue → inventory: a book was added (aggregate: the book id). Inventory opens a stock record for it. */
export const BookAdded = defineEvent(
  'catalog.book-added',
  1,
  Type.Object({ bookId: Id, title: Type.String({ maxLength: 300 }) }, { additionalProperties: true }),
);

/** Inventory → catalogue: a book's sellable quantity changed (aggregate: the book id). */
export const StockChanged = defineEvent(
  'inventory.stock-changed',
  1,
  Type.Object({ bookId: Id, available: Type.Integer({ minimum: 0 }), inStock: Type.Boolean() }, { additionalProperties: false }),
);

/** Order → everyone: the order was paid (aggregate: the order id). Clears the reader's cart. */
export const OrderPaid = defineEvent('order.paid', 1, Type.Object({ orderId: Id, userId: Id, paymentId: Id }, { additionalProperties: true }));

/** Order → everyone: the order was cancelled, e.g. its payment window closed (aggregate: the order id). The cart is kept. */
export const OrderCancelled = defineEvent(
  'order.cancelled',
  1,
  Type.Object({ orderId: Id, userId: Id, reason: Type.String({ maxLength: 500 }) }, { additionalProperties: true }),
);
