/**
 * The events services publish and consume: the published language between them. The topic is the
 * event type; the key is the aggregate id (the order, the book), so one aggregate's events stay in
 * order. Changing a payload incompatibly means a new version.
 */
import { defineEvent } from '@folio/platform/messaging/envelope';
import { Type } from 'typebox';

const Id = Type.String({ minLength: 1, maxLength: 100 });

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
