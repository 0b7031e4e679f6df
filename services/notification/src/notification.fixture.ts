/**
 * Test fixture: the real notification service over real HTTP, on a fresh database, with a real token
 * issuer and the embedded transport, so tests deliver events as the broker would. Test code only.
 */
import { randomUUID } from 'node:crypto';
import { OrderCancelled, OrderCreated, OrderPaid, OrderRefunded, type OrderSummary, PaymentFailed } from '@folio/contracts/events';
import type { Pool } from '@folio/platform/db';
import type { EmbeddedTransport } from '@folio/platform/messaging/embedded-transport';
import { deliver, metric, redeliver, type ServiceFixture, startServiceFixture } from '@folio/platform/testing-service';
import notification from './service.ts';

export type NotificationFixture = ServiceFixture;

/** Fast retries, so outages and give-ups play out within a test. */
export const startNotification = (label: string, env: Record<string, string> = {}): Promise<NotificationFixture> =>
  startServiceFixture(notification, label, { NOTIFY_SEND_INTERVAL_MS: '25', NOTIFY_RETRY_BASE_MS: '50', NOTIFY_RETRY_MAX_MS: '200', ...env });

const eur = (amount: number) => ({ amount, currency: 'EUR' });

export const summaryOf = (title = 'The Salt House'): OrderSummary => ({
  lines: [{ bookId: randomUUID(), title, quantity: 2, unitPrice: eur(1299), lineTotal: eur(2598) }],
  subtotal: eur(2598),
  tax: eur(104),
  shipping: eur(490),
  total: eur(3192),
  shippingMethod: 'standard',
});

/** One order's events, as the order and payment services publish them. */
export function orderEvents(transport: EmbeddedTransport, order: { orderId?: string; userId: string; email?: string; summary?: OrderSummary }) {
  const orderId = order.orderId ?? randomUUID();
  const recipient = { ...(order.email ? { email: order.email } : {}), ...(order.summary ? { summary: order.summary } : {}) };
  const base = { orderId, userId: order.userId, ...recipient };
  const total = order.summary?.total ?? eur(3192);
  return {
    orderId,
    created: () =>
      deliver(transport, OrderCreated, orderId, {
        ...base,
        lines: [{ bookId: randomUUID(), quantity: 2 }],
        total,
        paymentDeadline: new Date(Date.now() + 15 * 60_000).toISOString(),
      }),
    paid: () => deliver(transport, OrderPaid, orderId, { ...base, paymentId: randomUUID() }),
    paymentFailed: (reason = 'Your card was declined.') =>
      deliver(transport, PaymentFailed, orderId, { orderId, userId: order.userId, paymentId: randomUUID(), reason }),
    cancelled: (reason = 'payment window closed') => deliver(transport, OrderCancelled, orderId, { ...base, reason }),
    refunded: () => deliver(transport, OrderRefunded, orderId, { ...base, paymentId: randomUUID(), amount: total, lines: [], restock: true }),
  };
}

export interface StoredNotification {
  id: string;
  userId: string;
  orderId: string | null;
  eventId: string;
  type: string;
  subject: string;
  message: string;
  email: string | null;
  status: string;
  attempts: number;
  nextAttemptAt: Date | null;
  lastError: string | null;
  sentAt: Date | null;
}

/** The stored notifications, of an order or all, oldest first. */
export async function notificationsOf(pool: Pool, orderId?: string): Promise<StoredNotification[]> {
  const { rows } = await pool.query<StoredNotification>(
    `SELECT id, user_id AS "userId", order_id AS "orderId", event_id AS "eventId", type, subject, message, email, status, attempts,
            next_attempt_at AS "nextAttemptAt", last_error AS "lastError", sent_at AS "sentAt"
     FROM notifications WHERE $1::text IS NULL OR order_id = $1 ORDER BY created_at, id`,
    [orderId ?? null],
  );
  return rows;
}

export async function get<T = unknown>(base: string, path: string, token?: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export { deliver, metric, redeliver };
