/** All SQL about payments. Functions take a Queryable or Tx so the caller decides the transaction. */
import type { Money } from '@folio/contracts/money';
import type { Queryable, Tx } from '@folio/platform/db';
import type { PaymentStatus } from './payment.state.ts';

export interface Payment {
  id: string;
  orderId: string;
  userId: string;
  attempt: number;
  amount: Money;
  status: PaymentStatus;
  sessionId: string | null;
  paymentIntent: string | null;
  paymentUrl: string | null;
  deadline: Date;
  failureReason: string | null;
  cancelRequested: boolean;
  expireSession: boolean;
  refundRequestedAt: Date | null;
  refundReason: string | null;
  refundId: string | null;
  refundedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

interface PaymentRow {
  id: string;
  order_id: string;
  user_id: string;
  attempt: number;
  amount: number;
  currency: string;
  status: PaymentStatus;
  gateway_session_id: string | null;
  gateway_payment_intent: string | null;
  payment_url: string | null;
  deadline: Date;
  failure_reason: string | null;
  cancel_requested: boolean;
  expire_session: boolean;
  refund_requested_at: Date | null;
  refund_reason: string | null;
  refund_id: string | null;
  refunded_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const toPayment = (r: PaymentRow): Payment => ({
  id: r.id,
  orderId: r.order_id,
  userId: r.user_id,
  attempt: r.attempt,
  amount: { amount: r.amount, currency: r.currency },
  status: r.status,
  sessionId: r.gateway_session_id,
  paymentIntent: r.gateway_payment_intent,
  paymentUrl: r.payment_url,
  deadline: r.deadline,
  failureReason: r.failure_reason,
  cancelRequested: r.cancel_requested,
  expireSession: r.expire_session,
  refundRequestedAt: r.refund_requested_at,
  refundReason: r.refund_reason,
  refundId: r.refund_id,
  refundedAt: r.refunded_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** The fields a change may set, by column. */
export interface PaymentChanges {
  status?: PaymentStatus;
  sessionId?: string;
  paymentIntent?: string;
  paymentUrl?: string | null;
  failureReason?: string | null;
  cancelRequested?: boolean;
  expireSession?: boolean;
  refundRequestedAt?: Date;
  refundReason?: string;
  refundId?: string;
  refundedAt?: Date;
  nextCheckAt?: Date;
}

const COLUMN_OF: { [K in keyof Required<PaymentChanges>]: string } = {
  status: 'status',
  sessionId: 'gateway_session_id',
  paymentIntent: 'gateway_payment_intent',
  paymentUrl: 'payment_url',
  failureReason: 'failure_reason',
  cancelRequested: 'cancel_requested',
  expireSession: 'expire_session',
  refundRequestedAt: 'refund_requested_at',
  refundReason: 'refund_reason',
  refundId: 'refund_id',
  refundedAt: 'refunded_at',
  nextCheckAt: 'next_check_at',
};

export async function insertPending(
  tx: Tx,
  p: { id: string; orderId: string; userId: string; attempt: number; amount: Money; deadline: Date; nextCheckAt: Date },
): Promise<Payment | undefined> {
  const { rows } = await tx.query<PaymentRow>(
    `INSERT INTO payments (id, order_id, user_id, attempt, amount, currency, deadline, next_check_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (order_id, attempt) DO NOTHING
     RETURNING *`,
    [p.id, p.orderId, p.userId, p.attempt, p.amount.amount, p.amount.currency, p.deadline, p.nextCheckAt],
  );
  return rows[0] ? toPayment(rows[0]) : undefined;
}

export async function findById(db: Queryable, id: string): Promise<Payment | undefined> {
  const { rows } = await db.query<PaymentRow>('SELECT * FROM payments WHERE id = $1', [id]);
  return rows[0] ? toPayment(rows[0]) : undefined;
}

export async function listByOrder(db: Queryable, orderId: string): Promise<Payment[]> {
  const { rows } = await db.query<PaymentRow>('SELECT * FROM payments WHERE order_id = $1 ORDER BY attempt', [orderId]);
  return rows.map(toPayment);
}

/**
 * Locks every attempt of the order (in attempt order, so two transactions never wait on each other
 * crosswise): whatever changes one attempt sees all of them as they are, which is what makes "another
 * attempt already succeeded" a reliable question.
 */
export async function lockOrder(tx: Tx, orderId: string): Promise<Payment[]> {
  const { rows } = await tx.query<PaymentRow>('SELECT * FROM payments WHERE order_id = $1 ORDER BY attempt FOR UPDATE', [orderId]);
  return rows.map(toPayment);
}

/** The order a payment belongs to, found by the payment id, its session or its payment intent. */
export async function findOrderOf(db: Queryable, ref: { paymentId?: string; sessionId?: string; paymentIntent?: string }): Promise<Payment | undefined> {
  const { rows } = await db.query<PaymentRow>(
    `SELECT * FROM payments
     WHERE ($1::text IS NOT NULL AND gateway_session_id = $1)
        OR ($2::text IS NOT NULL AND gateway_payment_intent = $2)
        OR ($3::uuid IS NOT NULL AND id = $3)
     ORDER BY (gateway_session_id = $1) IS TRUE DESC, (gateway_payment_intent = $2) IS TRUE DESC
     LIMIT 1`,
    [ref.sessionId ?? null, ref.paymentIntent ?? null, ref.paymentId ?? null],
  );
  return rows[0] ? toPayment(rows[0]) : undefined;
}

export async function update(db: Queryable, id: string, changes: PaymentChanges): Promise<Payment> {
  const sets: string[] = [];
  const values: unknown[] = [id];
  for (const [key, value] of Object.entries(changes) as Array<[keyof PaymentChanges, unknown]>) {
    if (value === undefined) continue;
    values.push(value);
    sets.push(`${COLUMN_OF[key]} = $${values.length}`);
  }
  const { rows } = await db.query<PaymentRow>(`UPDATE payments SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE id = $1 RETURNING *`, values);
  if (!rows[0]) throw new Error(`payment ${id} vanished`);
  return toPayment(rows[0]);
}

export async function insertTransition(tx: Tx, t: { paymentId: string; from: PaymentStatus; to: PaymentStatus; reason: string }): Promise<void> {
  await tx.query('INSERT INTO payment_transitions (payment_id, from_status, to_status, reason) VALUES ($1, $2, $3, $4)', [
    t.paymentId,
    t.from,
    t.to,
    t.reason.slice(0, 500),
  ]);
}

/** Records a gateway event as applied; false when it already was (a replay or a duplicate delivery). */
export async function recordGatewayEvent(tx: Tx, eventId: string, type: string): Promise<boolean> {
  const { rowCount } = await tx.query('INSERT INTO gateway_events (event_id, type) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING', [
    eventId,
    type.slice(0, 100),
  ]);
  return rowCount === 1;
}

/** The rows each background job looks after. */
export type Chore = 'create-session' | 'timeout' | 'reconcile' | 'refund' | 'expire-session';

const CHORES: Record<Chore, string> = {
  'create-session': "status = 'pending' AND gateway_session_id IS NULL AND deadline > now()",
  timeout: "status = 'pending' AND deadline <= now()",
  reconcile: "status = 'pending' AND gateway_session_id IS NOT NULL AND deadline > now() AND created_at <= now() - make_interval(secs => $3)",
  refund: 'refund_requested_at IS NOT NULL AND refund_id IS NULL',
  'expire-session': 'expire_session AND gateway_session_id IS NOT NULL',
};

/**
 * Claims up to `limit` rows due for a chore: FOR UPDATE SKIP LOCKED so instances never take the same
 * row, and a lease (next_check_at) so the claim holds while the gateway is called outside any transaction.
 */
export async function claim(db: Queryable, chore: Chore, opts: { limit: number; leaseSeconds: number; reconcileAfterSeconds?: number }): Promise<Payment[]> {
  const { rows } = await db.query<PaymentRow>(
    `UPDATE payments SET next_check_at = now() + make_interval(secs => $2)
     WHERE id IN (
       SELECT id FROM payments
       WHERE ${CHORES[chore]} AND next_check_at <= now()
       ORDER BY next_check_at
       LIMIT $1
       FOR UPDATE SKIP LOCKED)
     RETURNING *`,
    chore === 'reconcile' ? [opts.limit, opts.leaseSeconds, opts.reconcileAfterSeconds ?? 60] : [opts.limit, opts.leaseSeconds],
  );
  return rows.map(toPayment);
}

/** When a job may look at the row again (after a gateway failure, or for the next reconciliation). */
export async function checkAgainAt(db: Queryable, id: string, at: Date): Promise<void> {
  await db.query('UPDATE payments SET next_check_at = $2 WHERE id = $1', [id, at]);
}
