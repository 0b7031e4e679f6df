/** All SQL of the notification service. Functions take a Queryable or a Tx: the caller owns the transaction. */
import type { OrderSummary } from '@folio/contracts/events';
import type { Queryable, Tx } from '@folio/platform/db';
import type { NotificationType } from './messages.ts';
import type { NotificationStatus, Outcome } from './notification.state.ts';

export interface Recipient {
  orderId: string;
  userId: string;
  email: string | null;
  summary: OrderSummary | null;
  paymentDeadline: Date | null;
}

export interface NotificationRow {
  id: string;
  userId: string;
  orderId: string | null;
  eventId: string;
  type: NotificationType;
  subject: string;
  message: string;
  email: string | null;
  status: NotificationStatus;
  attempts: number;
  nextAttemptAt: Date | null;
  lastError: string | null;
  createdAt: Date;
  sentAt: Date | null;
  /** created_at with microseconds, for keyset cursors. */
  createdKey: string;
}

const COLUMNS = `id, user_id AS "userId", order_id AS "orderId", event_id AS "eventId", type, subject, message, email, status, attempts,
  next_attempt_at AS "nextAttemptAt", last_error AS "lastError", created_at AS "createdAt", sent_at AS "sentAt",
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "createdKey"`;

/**
 * Records what an order event says about its reader. A later event fills what an earlier one lacked
 * (an e-mail, a summary) but never blanks it; the user is the order's and does not change.
 */
export async function upsertRecipient(
  tx: Tx,
  r: { orderId: string; userId: string; email?: string | undefined; summary?: OrderSummary | undefined; paymentDeadline?: string | undefined },
): Promise<void> {
  await tx.query(
    `INSERT INTO recipients (order_id, user_id, email, summary, payment_deadline) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (order_id) DO UPDATE SET
       email = COALESCE(EXCLUDED.email, recipients.email),
       summary = COALESCE(EXCLUDED.summary, recipients.summary),
       payment_deadline = COALESCE(EXCLUDED.payment_deadline, recipients.payment_deadline),
       updated_at = now()`,
    [r.orderId, r.userId, r.email ?? null, r.summary ? JSON.stringify(r.summary) : null, r.paymentDeadline ?? null],
  );
}

export async function findRecipient(db: Queryable, orderId: string): Promise<Recipient | undefined> {
  const { rows } = await db.query<Recipient>(
    `SELECT order_id AS "orderId", user_id AS "userId", email, summary, payment_deadline AS "paymentDeadline" FROM recipients WHERE order_id = $1`,
    [orderId],
  );
  return rows[0];
}

/** Makes the pending mails of an order that wait for an address due now (its recipient just became known). */
export async function wakeWaitingFor(tx: Tx, orderId: string): Promise<number> {
  const { rowCount } = await tx.query(
    `UPDATE notifications SET next_attempt_at = now()
     WHERE order_id = $1 AND status = 'pending' AND email IS NULL AND lease_id IS NULL AND next_attempt_at > now()`,
    [orderId],
  );
  return rowCount ?? 0;
}

export interface NewNotification {
  id: string;
  userId: string;
  orderId: string | null;
  eventId: string;
  type: NotificationType;
  subject: string;
  message: string;
  email: string | null;
  /** 'sent' when there is no mail to send (in-app only), else 'pending' and due at once. */
  status: 'pending' | 'sent';
}

/** Inserts the notification of an event; false when that event already has one (a redelivery). */
export async function insertNotification(tx: Tx, n: NewNotification): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO notifications (id, user_id, order_id, event_id, type, subject, message, email, status, next_attempt_at, sent_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
             CASE WHEN $9::text = 'pending' THEN now() END, CASE WHEN $9::text = 'sent' THEN now() END)
     ON CONFLICT (event_id) DO NOTHING`,
    [n.id, n.userId, n.orderId, n.eventId, n.type, n.subject, n.message, n.email, n.status],
  );
  return rowCount === 1;
}

/** A reader's notifications, newest first, after the cursor's position. */
export async function listForUser(db: Queryable, userId: string, limit: number, after?: { createdKey: string; id: string }): Promise<NotificationRow[]> {
  const { rows } = after
    ? await db.query<NotificationRow>(
        `SELECT ${COLUMNS} FROM notifications WHERE user_id = $1 AND (created_at, id) < ($3::timestamptz, $4::uuid)
         ORDER BY created_at DESC, id DESC LIMIT $2`,
        [userId, limit, after.createdKey, after.id],
      )
    : await db.query<NotificationRow>(`SELECT ${COLUMNS} FROM notifications WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, [userId, limit]);
  return rows;
}

export async function findByEvent(db: Queryable, eventId: string): Promise<NotificationRow | undefined> {
  const { rows } = await db.query<NotificationRow>(`SELECT ${COLUMNS} FROM notifications WHERE event_id = $1`, [eventId]);
  return rows[0];
}

/** A pending mail the sender has claimed, with the address its order's recipient gives. */
export interface ClaimedMail {
  id: string;
  userId: string;
  orderId: string | null;
  subject: string;
  message: string;
  attempts: number;
  createdAt: Date;
  /** The notification's own address, else its order recipient's (of the same reader). */
  email: string | null;
  /** Whether the order's recipient is known (with or without an address). */
  orderKnown: boolean;
}

/**
 * Claims up to `limit` due pending mails for `leaseMs`: rows another instance holds are skipped, so
 * several instances share the queue, and a claimed row is not due again until the lease ends, so no
 * other instance takes it while this one is mailing it. The claim commits at once: no transaction
 * stays open while the SMTP server is talked to. An instance that dies mid-way leaves its rows to be
 * taken up again when their lease ends.
 */
export async function claimDue(db: Queryable, opts: { limit: number; leaseMs: number; leaseId: string }): Promise<ClaimedMail[]> {
  const { rows } = await db.query<ClaimedMail>(
    `WITH due AS (
       SELECT id FROM notifications WHERE status = 'pending' AND next_attempt_at <= now()
       ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
     )
     UPDATE notifications n SET lease_id = $3, next_attempt_at = now() + $2 * interval '1 millisecond'
     FROM due WHERE n.id = due.id
     RETURNING n.id, n.user_id AS "userId", n.order_id AS "orderId", n.subject, n.message, n.attempts, n.created_at AS "createdAt",
       COALESCE(n.email, (SELECT r.email FROM recipients r WHERE r.order_id = n.order_id AND r.user_id = n.user_id)) AS email,
       EXISTS (SELECT 1 FROM recipients r WHERE r.order_id = n.order_id AND r.user_id = n.user_id) AS "orderKnown"`,
    [opts.limit, opts.leaseMs, opts.leaseId],
  );
  return rows;
}

/**
 * Records the outcome of an attempt, only while the row is still pending under this claim: a sender
 * whose lease ran out (another instance took the row up) does not overwrite what that one recorded.
 */
export async function recordOutcome(db: Queryable, id: string, leaseId: string, outcome: Outcome): Promise<boolean> {
  const next = outcome.status === 'pending' ? outcome.nextAttemptAt : null;
  const lastError = outcome.status === 'sent' ? null : outcome.lastError;
  const { rowCount } = await db.query(
    `UPDATE notifications SET status = $3, email = COALESCE($4, email), attempts = $5, next_attempt_at = $6, last_error = $7,
       sent_at = CASE WHEN $3::text = 'sent' THEN now() END, lease_id = NULL
     WHERE id = $1 AND lease_id = $2 AND status = 'pending'`,
    [id, leaseId, outcome.status, outcome.email, outcome.attempts, next, lastError],
  );
  return rowCount === 1;
}
