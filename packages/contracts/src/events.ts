/**
 * The events services publish and consume: the published language between them. The topic is the
 * event type; the key is the aggregate id (the order, the book), so one aggregate's events stay in
 * order. Payloads allow extra members so a producer can add one without a new version; changing a
 * payload incompatibly means a new version.
 */
import { defineEvent } from '@folio/platform/messaging/envelope';
import { type Static, Type } from 'typebox';
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

/*
 * Order events: the aggregate is the order id. `lines` and `total` let consumers (notifications,
 * inventory) act without calling back; so do `email` (where the reader is told) and `summary` (what
 * they bought), which the order service adds to every order event. They are optional because an order
 * placed with a token carrying no e-mail has none.
 */
const SummaryLine = Type.Object(
  { bookId: Id, title: Type.String({ maxLength: 300 }), quantity: Type.Integer({ minimum: 1 }), unitPrice: Money, lineTotal: Money },
  { additionalProperties: true },
);
/** What the reader bought and what it cost, as the order records it. */
export const OrderSummary = Type.Object(
  { lines: Type.Array(SummaryLine), subtotal: Money, tax: Money, shipping: Money, total: Money, shippingMethod: Type.String({ maxLength: 100 }) },
  { additionalProperties: true },
);
export type OrderSummary = Static<typeof OrderSummary>;
const Recipient = { email: Type.Optional(Type.String({ maxLength: 320 })), summary: Type.Optional(OrderSummary) };

/** The reader placed an order: stock is reserved, the payment window is open until paymentDeadline. */
export const OrderCreated = defineEvent(
  'order.created',
  1,
  Type.Object(
    { orderId: Id, userId: Id, lines: Type.Array(Line), total: Money, paymentDeadline: Type.String({ format: 'date-time' }), ...Recipient },
    { additionalProperties: true },
  ),
);

/** The order was paid and its stock confirmed. Clears the reader's cart. */
export const OrderPaid = defineEvent('order.paid', 1, Type.Object({ orderId: Id, userId: Id, paymentId: Id, ...Recipient }, { additionalProperties: true }));

/** The order was cancelled (payment window closed, or no stock after payment). Inventory releases its stock; the cart is kept. */
export const OrderCancelled = defineEvent(
  'order.cancelled',
  1,
  Type.Object({ orderId: Id, userId: Id, reason: Type.String({ maxLength: 500 }), ...Recipient }, { additionalProperties: true }),
);

/** The reader's money went back. `restock` says whether stock had left for good and now returns (a paid order refunded). */
export const OrderRefunded = defineEvent(
  'order.refunded',
  1,
  Type.Object(
    { orderId: Id, userId: Id, paymentId: Id, amount: Money, lines: Type.Array(Line), restock: Type.Boolean(), ...Recipient },
    { additionalProperties: true },
  ),
);

/*
 * Payment events: the aggregate is the ORDER id, so all of one order's payment events reach the
 * order service in the order they happened, whatever the attempt.
 */
const PaymentFacts = { paymentId: Id, orderId: Id, userId: Id };

export const PaymentSucceeded = defineEvent('payment.succeeded', 1, Type.Object({ ...PaymentFacts, amount: Money }, { additionalProperties: true }));
export const PaymentFailed = defineEvent(
  'payment.failed',
  1,
  Type.Object({ ...PaymentFacts, reason: Type.String({ maxLength: 500 }) }, { additionalProperties: true }),
);
/** The reader cancelled on the gateway's page, or a newer attempt of the order replaced this one (reason says which). */
export const PaymentCancelled = defineEvent(
  'payment.cancelled',
  1,
  Type.Object({ ...PaymentFacts, reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: true }),
);
/** The payment window closed with this attempt still unpaid: the gateway session was expired. */
export const PaymentTimedOut = defineEvent('payment.timed-out', 1, Type.Object(PaymentFacts, { additionalProperties: true }));
export const PaymentRefunded = defineEvent('payment.refunded', 1, Type.Object({ ...PaymentFacts, amount: Money }, { additionalProperties: true }));
