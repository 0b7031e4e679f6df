/** The DTOs of the order API, one TypeBox schema each: validation, the OpenAPI document and types from one place. */
import { Address } from '@folio/contracts/address';
import { Currency, Money } from '@folio/contracts/money';
import { type Static, Type } from 'typebox';
import { ORDER_STATUSES } from './order.state.ts';

export const MAX_PAGE = 50;
export const DEFAULT_PAGE = 20;
export const IDEMPOTENCY_HEADER = 'idempotency-key';

const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
const Timestamp = Type.String({ format: 'date-time', maxLength: 40 });
const money = (description: string) => Type.Object(Money.properties, { additionalProperties: false, description });

// The shipping service's method ids: a pattern, not a list (methods are rows of its rate table).
export const ShippingMethod = Type.String({
  minLength: 1,
  maxLength: 32,
  pattern: '^[a-z][a-z0-9-]{0,31}$',
  description: 'A shipping method id from GET /api/shipping/options, e.g. standard or express',
  examples: ['standard'],
});

export const PlaceOrderBody = Type.Object(
  {
    shippingAddress: Type.Object(Address.properties, {
      additionalProperties: false,
      description: 'Where the books go; checked and put in canonical form by the shipping service',
    }),
    shippingMethod: ShippingMethod,
  },
  { additionalProperties: false },
);
export type PlaceOrderBody = Static<typeof PlaceOrderBody>;

export const PlaceOrderHeaders = Type.Object({
  [IDEMPOTENCY_HEADER]: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\x21-\\x7E]+$',
      description:
        'Makes placing the order safe to retry: the same key with the same body answers the first answer again; with another body 422; while the first is still running 409.',
    }),
  ),
});
export type PlaceOrderHeaders = Static<typeof PlaceOrderHeaders>;

/** Long polling: the longest a `Prefer: wait` is honoured (below the edge's upstream timeout). */
export const MAX_WAIT_SECONDS = 10;

export const GetOrderHeaders = Type.Object({
  'if-none-match': Type.Optional(Type.String({ maxLength: 200, description: 'The ETag of the order as you have it: 304 while it is unchanged' })),
  prefer: Type.Optional(
    Type.String({
      maxLength: 200,
      description: `With If-None-Match, \`wait=N\` (RFC 7240) holds the answer up to N seconds (at most ${MAX_WAIT_SECONDS}) until the order changes: 200 with the new order, or 304 if it did not`,
    }),
  ),
});
export type GetOrderHeaders = Static<typeof GetOrderHeaders>;

export const OrderIdParams = Type.Object({ id: Type.String({ format: 'uuid', maxLength: 36, description: 'The order id' }) });
export type OrderIdParams = Static<typeof OrderIdParams>;

export const ListOrdersQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, description: `Orders per page (default ${DEFAULT_PAGE})` })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);
export type ListOrdersQuery = Static<typeof ListOrdersQuery>;

export const AdminOrdersQuery = Type.Object(
  {
    ...ListOrdersQuery.properties,
    status: Type.Optional(Type.Enum(ORDER_STATUSES, { description: 'Only orders in this status' })),
  },
  { additionalProperties: false },
);
export type AdminOrdersQuery = Static<typeof AdminOrdersQuery>;

export const OrderLineView = Type.Object(
  {
    bookId: Uuid,
    title: Type.String({ maxLength: 500 }),
    quantity: Type.Integer({ minimum: 1, maximum: 99 }),
    unitPrice: money('The catalogue price when the order was placed'),
    lineTotal: money('quantity × unitPrice'),
  },
  { additionalProperties: false },
);
export type OrderLineView = Static<typeof OrderLineView>;

export const PaymentStatusSchema = Type.Enum(['pending', 'success', 'failed', 'cancelled', 'timeout', 'refunded']);

export const PaymentSummary = Type.Object(
  {
    id: Uuid,
    status: PaymentStatusSchema,
    paymentUrl: Type.Union([Type.String({ maxLength: 2000 }), Type.Null()], {
      description: "The gateway's hosted payment page; null while the gateway could not be reached",
    }),
  },
  { additionalProperties: false },
);
export type PaymentSummary = Static<typeof PaymentSummary>;

export const PaymentAttemptView = Type.Object(
  {
    ...PaymentSummary.properties,
    attempt: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
    failureReason: Type.Union([Type.String({ maxLength: 500 }), Type.Null()]),
    updatedAt: Timestamp,
  },
  { additionalProperties: false },
);
export type PaymentAttemptView = Static<typeof PaymentAttemptView>;

export const TimelineEntry = Type.Object(
  {
    at: Timestamp,
    status: Type.String({ maxLength: 20, description: 'The order status after this entry' }),
    event: Type.String({ maxLength: 50, examples: ['created', 'payment-opened', 'paid'] }),
    detail: Type.Union([Type.String({ maxLength: 1000 }), Type.Null()]),
  },
  { additionalProperties: false },
);
export type TimelineEntry = Static<typeof TimelineEntry>;

/** What the reader may do with the order now, decided by the same rules the actions themselves apply. */
export const OrderActions = Type.Object(
  {
    canRetryPayment: Type.Boolean({ description: 'POST /api/orders/{id}/payments would open a new attempt: unpaid and the window still open' }),
    canRefund: Type.Boolean({ description: 'POST /api/orders/{id}/refund would be accepted: paid, within the refund window, not busy' }),
    refundableUntil: Type.Union([Timestamp, Type.Null()], { description: 'End of the refund window of a paid order' }),
  },
  { additionalProperties: false },
);

export const OrderView = Type.Object(
  {
    id: Uuid,
    userId: Type.String({ maxLength: 100, description: 'The reader who placed it' }),
    status: Type.Enum(ORDER_STATUSES),
    lines: Type.Array(OrderLineView),
    subtotal: money('Sum of the line totals'),
    tax: money("VAT on the books at the destination's reduced rate, added on top"),
    shipping: money('The shipping price'),
    total: money('subtotal + tax + shipping: what the reader pays'),
    currency: Currency,
    shippingAddress: Address,
    shippingMethod: ShippingMethod,
    paymentDeadline: Type.String({ format: 'date-time', description: 'Pay before this, or the order is cancelled' }),
    payment: Type.Union([PaymentSummary, Type.Null()], {
      description: 'The latest payment attempt; null while it is being opened (the payment service could not be reached yet)',
    }),
    payments: Type.Array(PaymentAttemptView, { description: 'Every payment attempt, oldest first' }),
    cancelReason: Type.Union([Type.String({ maxLength: 200 }), Type.Null()]),
    paidAt: Type.Union([Timestamp, Type.Null()]),
    timeline: Type.Array(TimelineEntry),
    actions: OrderActions,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { additionalProperties: false },
);
export type OrderView = Static<typeof OrderView>;

export const OrderPage = Type.Object(
  {
    items: Type.Array(OrderView),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as cursor for the next page; null on the last page' }),
  },
  { additionalProperties: false },
);
export type OrderPage = Static<typeof OrderPage>;
