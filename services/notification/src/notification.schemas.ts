/** The DTOs of the notification API, one TypeBox schema each: validation, the OpenAPI document and types from one place. */
import { type Static, Type } from 'typebox';
import type { NotificationType } from './messages.ts';

export const MAX_PAGE = 50;
export const DEFAULT_PAGE = 20;

const Timestamp = Type.String({ format: 'date-time', maxLength: 40 });

export const ListNotificationsQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, description: `Notifications per page (default ${DEFAULT_PAGE})` })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);
export type ListNotificationsQuery = Static<typeof ListNotificationsQuery>;

export const NotificationView = Type.Object(
  {
    id: Type.String({ format: 'uuid', maxLength: 36 }),
    type: Type.Union([Type.Literal('order-paid'), Type.Literal('payment-failed'), Type.Literal('order-cancelled'), Type.Literal('order-refunded')], {
      description: 'What happened: order-paid, payment-failed (you can try paying again), order-cancelled, order-refunded',
    }),
    orderId: Type.Union([Type.String({ maxLength: 100 }), Type.Null()], { description: 'The order it is about' }),
    subject: Type.String({ maxLength: 200 }),
    message: Type.String({ maxLength: 20_000, description: 'Plain text, as mailed' }),
    status: Type.Union([Type.Literal('pending'), Type.Literal('sent'), Type.Literal('failed')], {
      description: 'Of the e-mail: pending (not mailed yet, or retrying), sent, or failed (it could not be mailed; the message is still here)',
    }),
    createdAt: Timestamp,
    sentAt: Type.Union([Timestamp, Type.Null()]),
  },
  { additionalProperties: false },
);
export type NotificationView = Static<typeof NotificationView>;

export const NotificationPage = Type.Object(
  {
    items: Type.Array(NotificationView),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as cursor for the next page; null on the last page' }),
  },
  { additionalProperties: false },
);
export type NotificationPage = Static<typeof NotificationPage>;

// The listed types are the notification types, no more and no fewer.
const _sameTypes: [NotificationType, NotificationView['type']] extends [NotificationView['type'], NotificationType] ? true : never = true;
