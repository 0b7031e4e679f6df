/** All SQL of the order service. Functions take a Queryable or a Tx: the caller owns the transaction. */
import type { Address } from '@folio/contracts/address';
import type { PaymentStatus } from '@folio/contracts/internal';
import type { Queryable, Tx } from '@folio/platform/db';
import type { OrderStatus } from './order.state.ts';

/** The remote steps of the saga that the driver runs. */
export const PENDING_STEPS = ['open-payment', 'confirm-stock', 'request-refund'] as const;
export type PendingStep = (typeof PENDING_STEPS)[number];

export interface OrderRow {
  id: string;
  userId: string;
  email: string | null;
  status: OrderStatus;
  currency: string;
  subtotal: number;
  tax: number;
  shipping: number;
  total: number;
  shippingAddress: Address;
  shippingMethod: string;
  paymentDeadline: Date;
  paymentAttempt: number;
  paidPaymentId: string | null;
  paidAt: Date | null;
  cancelReason: string | null;
  refundReason: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** created_at with microseconds, for keyset cursors. */
  createdKey: string;
  pendingStep: PendingStep | null;
  stepAttempts: number;
  nextStepAt: Date | null;
  lastStepError: string | null;
}

export interface LineRow {
  orderId: string;
  position: number;
  bookId: string;
  title: string;
  quantity: number;
  unitPrice: number;
  lineTotal: number;
  taxRateBp: number;
}

export interface PaymentRow {
  paymentId: string;
  orderId: string;
  attempt: number | null;
  status: PaymentStatus;
  paymentUrl: string | null;
  failureReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface TimelineRow {
  orderId: string;
  at: Date;
  status: string;
  event: string;
  detail: string | null;
}

const ORDER_COLUMNS = `id, user_id, email, status, currency, subtotal, tax, shipping, total, shipping_address, shipping_method, payment_deadline,
  payment_attempt, paid_payment_id, paid_at, cancel_reason, refund_reason, created_at, updated_at,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_key,
  pending_step, step_attempts, next_step_at, last_step_error`;

interface OrderRecord {
  id: string;
  user_id: string;
  email: string | null;
  status: OrderStatus;
  currency: string;
  subtotal: number;
  tax: number;
  shipping: number;
  total: number;
  shipping_address: Address;
  shipping_method: string;
  payment_deadline: Date;
  payment_attempt: number;
  paid_payment_id: string | null;
  paid_at: Date | null;
  cancel_reason: string | null;
  refund_reason: string | null;
  created_at: Date;
  updated_at: Date;
  created_key: string;
  pending_step: PendingStep | null;
  step_attempts: number;
  next_step_at: Date | null;
  last_step_error: string | null;
}

const toOrder = (r: OrderRecord): OrderRow => ({
  id: r.id,
  userId: r.user_id,
  email: r.email,
  status: r.status,
  currency: r.currency,
  subtotal: r.subtotal,
  tax: r.tax,
  shipping: r.shipping,
  total: r.total,
  shippingAddress: r.shipping_address,
  shippingMethod: r.shipping_method,
  paymentDeadline: r.payment_deadline,
  paymentAttempt: r.payment_attempt,
  paidPaymentId: r.paid_payment_id,
  paidAt: r.paid_at,
  cancelReason: r.cancel_reason,
  refundReason: r.refund_reason,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  createdKey: r.created_key,
  pendingStep: r.pending_step,
  stepAttempts: r.step_attempts,
  nextStepAt: r.next_step_at,
  lastStepError: r.last_step_error,
});

// ---------------------------------------------------------------------------------------------
// Orders

/** What checkout decided, as stored: the order's own columns, its lines, and the first remote step. */
export type NewOrder = Pick<
  OrderRow,
  'id' | 'userId' | 'email' | 'currency' | 'subtotal' | 'tax' | 'shipping' | 'total' | 'shippingAddress' | 'shippingMethod' | 'paymentDeadline'
> & {
  lines: Array<Omit<LineRow, 'orderId' | 'position'>>;
  /** The first remote step and when the driver may take it over. */
  pendingStep: PendingStep;
  stepDueInMs: number;
};

/** Inserts the order and its lines; false when an order with this id exists already (a retried checkout). */
export async function insertOrder(tx: Tx, order: NewOrder): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO orders (id, user_id, status, currency, subtotal, tax, shipping, total, shipping_address, shipping_method, payment_deadline,
       pending_step, next_step_at, email)
     VALUES ($1, $2, 'created', $3, $4, $5, $6, $7, $8, $9, $10, $11, now() + make_interval(secs => $12::float8 / 1000), $13)
     ON CONFLICT (id) DO NOTHING`,
    [
      order.id,
      order.userId,
      order.currency,
      order.subtotal,
      order.tax,
      order.shipping,
      order.total,
      JSON.stringify(order.shippingAddress),
      order.shippingMethod,
      order.paymentDeadline,
      order.pendingStep,
      order.stepDueInMs,
      order.email,
    ],
  );
  if (rowCount === 0) return false;
  await tx.query(
    `INSERT INTO order_lines (order_id, position, book_id, title, quantity, unit_price, line_total, tax_rate_bp)
     SELECT $1, l.position, l.book_id, l.title, l.quantity, l.unit_price, l.line_total, l.tax_rate_bp
     FROM jsonb_to_recordset($2::jsonb) AS l (position int, book_id uuid, title text, quantity int, unit_price int, line_total int, tax_rate_bp int)`,
    [
      order.id,
      JSON.stringify(
        order.lines.map((l, i) => ({
          position: i + 1,
          book_id: l.bookId,
          title: l.title,
          quantity: l.quantity,
          unit_price: l.unitPrice,
          line_total: l.lineTotal,
          tax_rate_bp: l.taxRateBp,
        })),
      ),
    ],
  );
  return true;
}

export async function findOrder(db: Queryable, id: string): Promise<OrderRow | undefined> {
  const { rows } = await db.query<OrderRecord>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1`, [id]);
  return rows[0] ? toOrder(rows[0]) : undefined;
}

/** The order, locked for the rest of the transaction: every change to an order goes through this. */
export async function lockOrder(tx: Tx, id: string): Promise<OrderRow | undefined> {
  const { rows } = await tx.query<OrderRecord>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1 FOR UPDATE`, [id]);
  return rows[0] ? toOrder(rows[0]) : undefined;
}

/** A reader's orders, newest first, after the keyset position (created_at with microseconds, id). */
export async function listOrders(db: Queryable, userId: string, limit: number, after?: { createdKey: string; id: string }): Promise<OrderRow[]> {
  const { rows } = after
    ? await db.query<OrderRecord>(
        `SELECT ${ORDER_COLUMNS} FROM orders WHERE user_id = $1 AND (created_at, id) < ($3::timestamptz, $4::uuid)
         ORDER BY created_at DESC, id DESC LIMIT $2`,
        [userId, limit, after.createdKey, after.id],
      )
    : await db.query<OrderRecord>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, [userId, limit]);
  return rows.map(toOrder);
}

/** Every reader's orders (the admin view), newest first, optionally of one status, after the keyset position. */
export async function listAllOrders(
  db: Queryable,
  filter: { status?: OrderStatus | undefined },
  limit: number,
  after?: { createdKey: string; id: string },
): Promise<OrderRow[]> {
  const { rows } = await db.query<OrderRecord>(
    `SELECT ${ORDER_COLUMNS} FROM orders
     WHERE ($2::text IS NULL OR status = $2) AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
     ORDER BY created_at DESC, id DESC LIMIT $1`,
    [limit, filter.status ?? null, after?.createdKey ?? null, after?.id ?? null],
  );
  return rows.map(toOrder);
}

/** Sets the status (and the fields that go with it), only from the status the caller saw. */
export async function updateStatus(
  tx: Tx,
  id: string,
  from: OrderStatus,
  to: OrderStatus,
  fields: { paidPaymentId?: string; cancelReason?: string } = {},
): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE orders SET status = $3, updated_at = now(),
       paid_payment_id = COALESCE($4, paid_payment_id),
       paid_at = CASE WHEN $3 = 'paid' THEN now() ELSE paid_at END,
       cancel_reason = COALESCE($5, cancel_reason)
     WHERE id = $1 AND status = $2`,
    [id, from, to, fields.paidPaymentId ?? null, fields.cancelReason ?? null],
  );
  return rowCount === 1;
}

export async function setRefundReason(tx: Tx, id: string, reason: string): Promise<void> {
  await tx.query('UPDATE orders SET refund_reason = $2, updated_at = now() WHERE id = $1', [id, reason]);
}

/** Asks for attempt `attempt` next (the open-payment step opens it). */
export async function setPaymentAttempt(tx: Tx, id: string, attempt: number): Promise<void> {
  await tx.query('UPDATE orders SET payment_attempt = $2, updated_at = now() WHERE id = $1', [id, attempt]);
}

// ---------------------------------------------------------------------------------------------
// Lines, payments, timeline (for one order or a page of them)

export async function linesOf(db: Queryable, orderIds: readonly string[]): Promise<LineRow[]> {
  const { rows } = await db.query<{
    order_id: string;
    position: number;
    book_id: string;
    title: string;
    quantity: number;
    unit_price: number;
    line_total: number;
    tax_rate_bp: number;
  }>('SELECT * FROM order_lines WHERE order_id = ANY($1::uuid[]) ORDER BY order_id, position', [orderIds]);
  return rows.map((r) => ({
    orderId: r.order_id,
    position: r.position,
    bookId: r.book_id,
    title: r.title,
    quantity: r.quantity,
    unitPrice: r.unit_price,
    lineTotal: r.line_total,
    taxRateBp: r.tax_rate_bp,
  }));
}

interface PaymentRecord {
  payment_id: string;
  order_id: string;
  attempt: number | null;
  status: PaymentStatus;
  payment_url: string | null;
  failure_reason: string | null;
  created_at: Date;
  updated_at: Date;
}
const toPayment = (r: PaymentRecord): PaymentRow => ({
  paymentId: r.payment_id,
  orderId: r.order_id,
  attempt: r.attempt,
  status: r.status,
  paymentUrl: r.payment_url,
  failureReason: r.failure_reason,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export async function paymentsOf(db: Queryable, orderIds: readonly string[]): Promise<PaymentRow[]> {
  const { rows } = await db.query<PaymentRecord>(
    'SELECT * FROM order_payments WHERE order_id = ANY($1::uuid[]) ORDER BY order_id, attempt NULLS LAST, created_at',
    [orderIds],
  );
  return rows.map(toPayment);
}

export async function timelinesOf(db: Queryable, orderIds: readonly string[]): Promise<TimelineRow[]> {
  const { rows } = await db.query<{ order_id: string; at: Date; status: string; event: string; detail: string | null }>(
    'SELECT order_id, at, status, event, detail FROM order_timeline WHERE order_id = ANY($1::uuid[]) ORDER BY order_id, seq',
    [orderIds],
  );
  return rows.map((r) => ({ orderId: r.order_id, at: r.at, status: r.status, event: r.event, detail: r.detail }));
}

export async function addTimeline(tx: Queryable, orderId: string, status: OrderStatus, event: string, detail: string | null = null): Promise<void> {
  await tx.query('INSERT INTO order_timeline (order_id, status, event, detail) VALUES ($1, $2, $3, $4)', [
    orderId,
    status,
    event,
    detail?.slice(0, 1000) ?? null,
  ]);
}

export interface PaymentFact {
  paymentId: string;
  orderId: string;
  attempt: number | null;
  status: PaymentStatus;
  paymentUrl?: string | null;
  failureReason?: string | null;
}

/**
 * Records what is known of an attempt; returns the row before (undefined when it is new). The status moves
 * as the payment service's own machine does: pending → anything; success → refunded; failed, cancelled or
 * timeout → success (a late capture: the gateway took the money after all). An answer overtaken by an
 * event, or an event delivered late, never takes an attempt back.
 */
export async function recordPayment(tx: Tx, fact: PaymentFact): Promise<{ before: PaymentRow | undefined; after: PaymentRow }> {
  const { rows: before } = await tx.query<PaymentRecord>('SELECT * FROM order_payments WHERE payment_id = $1 FOR UPDATE', [fact.paymentId]);
  const { rows } = await tx.query<PaymentRecord>(
    `INSERT INTO order_payments AS p (payment_id, order_id, attempt, status, payment_url, failure_reason)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (payment_id) DO UPDATE SET
       attempt = COALESCE(p.attempt, EXCLUDED.attempt),
       status = CASE
         WHEN p.status = 'pending' THEN EXCLUDED.status
         WHEN p.status = 'success' AND EXCLUDED.status = 'refunded' THEN EXCLUDED.status
         WHEN p.status IN ('failed', 'cancelled', 'timeout') AND EXCLUDED.status = 'success' THEN EXCLUDED.status
         ELSE p.status END,
       payment_url = COALESCE(EXCLUDED.payment_url, p.payment_url),
       failure_reason = COALESCE(EXCLUDED.failure_reason, p.failure_reason),
       updated_at = now()
     RETURNING *`,
    [fact.paymentId, fact.orderId, fact.attempt, fact.status, fact.paymentUrl ?? null, fact.failureReason ?? null],
  );
  return { before: before[0] ? toPayment(before[0]) : undefined, after: toPayment(rows[0]!) };
}

/** Fills in the hosted page of an attempt that had none (the gateway was unreachable when it was opened). */
export async function setPaymentUrl(db: Queryable, paymentId: string, paymentUrl: string): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE order_payments SET payment_url = $2, updated_at = now() WHERE payment_id = $1 AND payment_url IS NULL', [
    paymentId,
    paymentUrl,
  ]);
  return rowCount === 1;
}

export async function hasPendingPayment(db: Queryable, orderId: string): Promise<boolean> {
  const { rowCount } = await db.query(`SELECT 1 FROM order_payments WHERE order_id = $1 AND status = 'pending' LIMIT 1`, [orderId]);
  return (rowCount ?? 0) > 0;
}

/** The attempt that captured the order's money (the payment service allows one), if any. */
export async function capturedPayment(db: Queryable, orderId: string): Promise<PaymentRow | undefined> {
  const { rows } = await db.query<PaymentRecord>(
    `SELECT * FROM order_payments WHERE order_id = $1 AND status IN ('success', 'refunded') ORDER BY (status = 'success') DESC, updated_at DESC LIMIT 1`,
    [orderId],
  );
  return rows[0] ? toPayment(rows[0]) : undefined;
}

// ---------------------------------------------------------------------------------------------
// The saga's pending step

/** Sets the step the driver is to run next, due after delayMs; a step it replaces is dropped. */
export async function scheduleStep(tx: Tx, id: string, step: PendingStep, delayMs = 0): Promise<void> {
  await tx.query(
    `UPDATE orders SET pending_step = $2, step_attempts = 0, next_step_at = now() + make_interval(secs => $3::float8 / 1000),
       last_step_error = NULL, updated_at = now()
     WHERE id = $1`,
    [id, step, delayMs],
  );
}

/** Marks the step done (only if it is still the pending one). */
export async function clearStep(tx: Queryable, id: string, step: PendingStep): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE orders SET pending_step = NULL, step_attempts = 0, next_step_at = NULL, last_step_error = NULL, updated_at = now()
     WHERE id = $1 AND pending_step = $2`,
    [id, step],
  );
  return rowCount === 1;
}

/** Records a failed try of the step and when to try again; returns the number of failed tries so far. */
export async function stepFailed(db: Queryable, id: string, step: PendingStep, error: string, retryInMs: number): Promise<number | undefined> {
  const { rows } = await db.query<{ step_attempts: number }>(
    `UPDATE orders SET step_attempts = step_attempts + 1, next_step_at = now() + make_interval(secs => $4::float8 / 1000), last_step_error = $3
     WHERE id = $1 AND pending_step = $2
     RETURNING step_attempts`,
    [id, step, error.slice(0, 1000), retryInMs],
  );
  return rows[0]?.step_attempts;
}

export interface ClaimedStep {
  orderId: string;
  step: PendingStep;
  attempts: number;
}

/**
 * Claims due steps: FOR UPDATE SKIP LOCKED so instances share them, and a lease (next_step_at moved
 * ahead) instead of a lock held across the remote call, so a claimer that dies simply lets it come due again.
 */
export async function claimDueSteps(db: Queryable, limit: number, leaseMs: number): Promise<ClaimedStep[]> {
  const { rows } = await db.query<{ id: string; pending_step: PendingStep; step_attempts: number }>(
    `UPDATE orders SET next_step_at = now() + make_interval(secs => $2::float8 / 1000)
     WHERE id IN (
       SELECT id FROM orders WHERE pending_step IS NOT NULL AND next_step_at <= now()
       ORDER BY next_step_at LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING id, pending_step, step_attempts`,
    [limit, leaseMs],
  );
  return rows.map((r) => ({ orderId: r.id, step: r.pending_step, attempts: r.step_attempts }));
}

/**
 * Orders still awaiting payment after their deadline and the grace, with no attempt pending (those are the
 * payment service's to time out) and no payment being confirmed: locked, for the sweeper to cancel.
 */
export async function lockExpiredOrders(tx: Tx, graceSeconds: number, limit: number): Promise<OrderRow[]> {
  const { rows } = await tx.query<OrderRecord>(
    `SELECT ${ORDER_COLUMNS} FROM orders o
     WHERE status = 'created' AND payment_deadline + make_interval(secs => $1) < now()
       AND (pending_step IS NULL OR pending_step = 'open-payment')
       AND NOT EXISTS (SELECT 1 FROM order_payments p WHERE p.order_id = o.id AND p.status IN ('pending', 'success'))
     ORDER BY payment_deadline LIMIT $2
     FOR UPDATE SKIP LOCKED`,
    [graceSeconds, limit],
  );
  return rows.map(toOrder);
}
