/**
 * Service-to-service HTTP APIs (under /internal: the edge gateway never routes there). The order
 * service orchestrates the purchase through them; each call is idempotent so a saga step can be
 * repeated after a crash.
 */
import { type Static, Type } from 'typebox';
import { Money } from './money.ts';

const Uuid = Type.String({ format: 'uuid' });
export const ReservationLine = Type.Object({ bookId: Uuid, quantity: Type.Integer({ minimum: 1, maximum: 99 }) }, { additionalProperties: false });

/**
 * Inventory. POST /internal/reservations — all or nothing, idempotent by orderId (a repeat answers the
 * first outcome). 201 ReservationResult, or 409 problem of type INSUFFICIENT_STOCK with `books`.
 */
export const ReserveRequest = Type.Object(
  { orderId: Uuid, lines: Type.Array(ReservationLine, { minItems: 1, maxItems: 50 }), expiresAt: Type.String({ format: 'date-time' }) },
  { additionalProperties: false },
);
export type ReserveRequest = Static<typeof ReserveRequest>;
export const ReservationStatus = Type.Union([Type.Literal('reserved'), Type.Literal('confirmed'), Type.Literal('released'), Type.Literal('expired')]);
export const ReservationResult = Type.Object({ orderId: Uuid, status: ReservationStatus, lines: Type.Array(ReservationLine), expiresAt: Type.String() });
export type ReservationResult = Static<typeof ReservationResult>;
export const INSUFFICIENT_STOCK = 'urn:folio:problem:insufficient-stock';
/** In a 409 INSUFFICIENT_STOCK problem: every book that lacked stock. */
export const ShortBook = Type.Object({ bookId: Uuid, requested: Type.Integer(), available: Type.Integer() });
/**
 * POST /internal/reservations/:orderId/confirm — stock leaves for good. 200 ReservationResult; idempotent.
 * A reservation that expired or was released is re-taken if stock allows; otherwise 409 RESERVATION_LOST.
 * POST /internal/reservations/:orderId/release — 200; idempotent; releasing a confirmed one is a 409.
 */
export const RESERVATION_LOST = 'urn:folio:problem:reservation-lost';

/**
 * Payment. POST /internal/payments opens attempt `attempt` of an order: a pending payment and a checkout
 * session at the gateway. Idempotent by (orderId, attempt). 201 PaymentView; paymentUrl is null when the
 * gateway could not be reached (the payment service keeps trying until the deadline).
 */
export const OpenPaymentRequest = Type.Object(
  {
    orderId: Uuid,
    userId: Type.String({ minLength: 1, maxLength: 100 }),
    attempt: Type.Integer({ minimum: 1, maximum: 100 }),
    amount: Money,
    deadline: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);
export type OpenPaymentRequest = Static<typeof OpenPaymentRequest>;
export const PaymentStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('success'),
  Type.Literal('failed'),
  Type.Literal('cancelled'),
  Type.Literal('timeout'),
  Type.Literal('refunded'),
]);
export type PaymentStatus = Static<typeof PaymentStatus>;
export const PaymentView = Type.Object({
  id: Uuid,
  orderId: Uuid,
  attempt: Type.Integer(),
  status: PaymentStatus,
  amount: Money,
  paymentUrl: Type.Union([Type.String(), Type.Null()]),
  failureReason: Type.Optional(Type.String()),
  createdAt: Type.String(),
});
export type PaymentView = Static<typeof PaymentView>;
/** POST /internal/payments/:id/refund — asks the gateway to refund a successful payment. 202 PaymentView; idempotent. */
export const RefundRequest = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
