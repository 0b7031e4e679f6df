/**
 * The DTOs of the inventory's APIs, one TypeBox schema each. The internal reservation API's own
 * shapes come from @folio/contracts/internal, the contract with the order service.
 */
import { ReservationResult, ReservationStatus, type ShortBook as ShortBookSchema } from '@folio/contracts/internal';
import { type Static, Type } from 'typebox';

export const MAX_IDS = 100;
export const MAX_RESTOCK = 10_000;
export const DEFAULT_RESERVATION_LIMIT = 20;

const Uuid = Type.String({ format: 'uuid' });
const Timestamp = Type.String({ format: 'date-time' });

export const StockView = Type.Object({
  bookId: Uuid,
  onHand: Type.Integer({ minimum: 0, description: 'Copies in the warehouse, reserved ones included' }),
  reserved: Type.Integer({ minimum: 0, description: 'Copies held for orders awaiting payment' }),
  available: Type.Integer({ minimum: 0, description: 'onHand − reserved: what can still be ordered' }),
});
export type StockView = Static<typeof StockView>;

export const StockList = Type.Object({ items: Type.Array(StockView, { description: 'The books of `ids` that have stock, in the order asked' }) });

export const BookIdParams = Type.Object({ bookId: Type.String({ format: 'uuid', description: 'The book id (as in the catalogue)' }) });

export const StockListQuery = Type.Object({
  ids: Type.String({ minLength: 1, maxLength: MAX_IDS * 37, description: `Up to ${MAX_IDS} comma-separated book ids` }),
});
export type StockListQuery = Static<typeof StockListQuery>;

export const RestockBody = Type.Object(
  { quantity: Type.Integer({ minimum: 1, maximum: MAX_RESTOCK, description: 'Copies delivered', examples: [25] }) },
  { additionalProperties: false },
);
export type RestockBody = Static<typeof RestockBody>;

export const OrderIdParams = Type.Object({ orderId: Type.String({ format: 'uuid', description: 'The order id' }) });

const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

/** ReservationResult (the contract) and when each step happened. */
export const ReservationView = Type.Object({
  ...ReservationResult.properties,
  createdAt: Timestamp,
  confirmedAt: NullableTimestamp,
  releasedAt: Type.Union([Timestamp, Type.Null()], { description: 'When it was released or expired' }),
  restockedAt: Type.Union([Timestamp, Type.Null()], { description: 'When a refunded order’s copies went back to stock' }),
});
export type ReservationView = Static<typeof ReservationView>;

export const ReservationList = Type.Object({ items: Type.Array(ReservationView) });

/** The answer to a release: the reservation, or status "none" when the order never reserved anything. */
export const ReleaseResult = Type.Object({
  orderId: Uuid,
  status: Type.Union([ReservationStatus, Type.Literal('none')]),
  lines: ReservationResult.properties.lines,
  expiresAt: Type.Union([Type.String(), Type.Null()]),
});
export type ReleaseResult = Static<typeof ReleaseResult>;

export const ReservationListQuery = Type.Object({
  orderId: Type.Optional(Type.String({ format: 'uuid', description: 'The reservation of one order' })),
  status: Type.Optional(ReservationStatus),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: `At most this many, newest first (default ${DEFAULT_RESERVATION_LIMIT})` })),
});
export type ReservationListQuery = Static<typeof ReservationListQuery>;

/** In a 409 INSUFFICIENT_STOCK or RESERVATION_LOST problem: every book that lacked stock. */
export type ShortBook = Static<typeof ShortBookSchema>;
