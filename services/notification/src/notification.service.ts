/**
 * The rules of notifications: one per reader and event, worded by messages.ts, mailed by the sender
 * when SMTP is configured; and a reader's own list.
 */

import { randomUUID } from 'node:crypto';
import type { OrderSummary } from '@folio/contracts/events';
import type { Principal } from '@folio/platform/auth';
import { decodeCursor, encodeCursor } from '@folio/platform/cursor';
import type { Pool, Tx } from '@folio/platform/db';
import type { Logger } from '@folio/platform/log';
import { compose, type MessageFacts } from './messages.ts';
import { findRecipient, insertNotification, listForUser, type NotificationRow, upsertRecipient, wakeWaitingFor } from './notification.repository.ts';
import { DEFAULT_PAGE, type ListNotificationsQuery, type NotificationPage, type NotificationView } from './notification.schemas.ts';

/** What an order event says about its reader and order. */
export interface OrderFacts {
  orderId: string;
  userId: string;
  email?: string | undefined;
  summary?: OrderSummary | undefined;
  paymentDeadline?: string | undefined;
}

/** Who a notification is for: the reader, the order, and the address when the event carries one. */
export interface Addressee {
  eventId: string;
  userId: string;
  orderId: string;
  email?: string | undefined;
}

export interface NotificationService {
  /** Records an order's reader from an order event, and wakes mails that were waiting for the address. */
  recipientKnown(tx: Tx, facts: OrderFacts): Promise<void>;
  /** Stores the notification of an event unless that event has one already; true when it was new. */
  notify(tx: Tx, to: Addressee, facts: MessageFacts): Promise<boolean>;
  list(principal: Principal, query: ListNotificationsQuery): Promise<NotificationPage>;
}

export interface NotificationServiceDeps {
  pool: Pool;
  log: Logger;
  /** Whether notifications are mailed (SMTP_URL is set); otherwise they are in-app only. */
  mail: boolean;
  /** Base URL of the storefront, for the link to the order; none without it. */
  storefrontUrl?: string | undefined;
}

export function createNotificationService(deps: NotificationServiceDeps): NotificationService {
  const { pool, log } = deps;
  const storefront = deps.storefrontUrl?.replace(/\/+$/, '');
  const orderUrl = (orderId: string) => (storefront ? `${storefront}/orders/${encodeURIComponent(orderId)}` : undefined);

  return {
    async recipientKnown(tx, facts) {
      await upsertRecipient(tx, facts);
      const woken = await wakeWaitingFor(tx, facts.orderId);
      if (woken > 0) log.info({ orderId: facts.orderId, notifications: woken }, 'the recipient of waiting notifications is known');
    },

    async notify(tx, to, facts) {
      // Payment events carry neither address nor summary: the order's recipient (from its order events) has them.
      const known = await findRecipient(tx, to.orderId);
      const recipient = known && known.userId === to.userId ? known : undefined;
      if (known && !recipient)
        log.warn({ orderId: to.orderId, eventId: to.eventId }, 'an event names another reader than the order does; its address is not used');
      const filled: MessageFacts =
        facts.type === 'order-paid' || facts.type === 'order-cancelled'
          ? { ...facts, summary: facts.summary ?? recipient?.summary ?? undefined }
          : facts.type === 'payment-failed'
            ? { ...facts, paymentDeadline: facts.paymentDeadline ?? recipient?.paymentDeadline ?? undefined }
            : facts;
      const { subject, text } = compose(filled, { orderUrl: orderUrl(to.orderId) });
      const inserted = await insertNotification(tx, {
        id: randomUUID(),
        userId: to.userId,
        orderId: to.orderId,
        eventId: to.eventId,
        type: facts.type,
        subject,
        message: text,
        // Null while unknown: the sender looks the address up again when it mails (mail.sender.ts).
        email: deps.mail ? (to.email ?? recipient?.email ?? null) : null,
        // Without SMTP there is nothing to send: the notification is in-app only and delivered as it is stored.
        status: deps.mail ? 'pending' : 'sent',
      });
      if (!inserted) log.debug({ eventId: to.eventId, type: facts.type }, 'the event has its notification already');
      return inserted;
    },

    async list(principal, query) {
      // A reader's own, and only those: the user id is the token's, never the request's.
      const userId = principal.userId;
      const limit = query.limit ?? DEFAULT_PAGE;
      const after = query.cursor !== undefined ? decodeCursor(query.cursor) : undefined;
      const rows = await listForUser(pool, userId, limit + 1, after);
      const page = rows.slice(0, limit);
      return { items: page.map(toView), nextCursor: rows.length > limit ? encodeCursor(page.at(-1)!) : null };
    },
  };
}

const toView = (n: NotificationRow): NotificationView => ({
  id: n.id,
  type: n.type,
  orderId: n.orderId,
  subject: n.subject,
  message: n.message,
  status: n.status,
  createdAt: n.createdAt.toISOString(),
  sentAt: n.sentAt ? n.sentAt.toISOString() : null,
});
