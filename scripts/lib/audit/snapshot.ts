/**
 * What the audit reads: the columns it needs from each service's own database, one read-only
 * REPEATABLE READ transaction per database (so the tables of one database agree with each other),
 * joined in memory by the checks. All the audit's SQL is here.
 *
 * The databases are read one after the other in causal order — order, payment, inventory, cart,
 * notification — and most facts flow from a later database to an earlier one or are given the grace:
 * a payment succeeds before its order is paid, and a reservation is confirmed before its order is paid,
 * so reading the order first means "this order is paid" is always backed by what is read afterwards.
 * What follows an order's change (a cart cleared, a notification, stock released) is only expected once
 * the change is older than the grace.
 */
import { describeDatabaseUrl } from '@folio/platform/db';
import pg from 'pg';

/** The services whose databases the audit reads, in reading order. */
export const AUDITED_SERVICES = ['order', 'payment', 'inventory', 'cart', 'notification'] as const;
export type AuditedService = (typeof AUDITED_SERVICES)[number];

export interface OrderRow {
  id: string;
  userId: string;
  status: string;
  paymentDeadline: Date;
  paidPaymentId: string | null;
  paidAt: Date | null;
  pendingStep: string | null;
  nextStepAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The order service's projection of a payment attempt (order_payments). */
export interface ProjectionRow {
  paymentId: string;
  orderId: string;
  status: string;
  updatedAt: Date;
}

export interface PaymentRow {
  id: string;
  orderId: string;
  attempt: number;
  status: string;
  deadline: Date;
  refundRequestedAt: Date | null;
  refundedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** One order's reservation (reservation_orders) with a summary of its lines. */
export interface ReservationRow {
  orderId: string;
  status: string;
  expiresAt: Date;
  updatedAt: Date;
  lines: number;
  /** The latest confirmed_at of its lines (null when none is confirmed). */
  confirmedAt: Date | null;
  /** How many of its lines went back on the shelf (restocked_at set). */
  restockedLines: number;
}

/** One book's stock counters, with the sums of its reservation lines by status. */
export interface StockRow {
  bookId: string;
  onHand: number;
  reserved: number;
  initial: number;
  restocked: number;
  sold: number;
  /** Σ quantity of its lines still held (status reserved). */
  held: number;
  /** Σ quantity of its confirmed lines (copies that left for good). */
  confirmed: number;
  /** Σ quantity of its confirmed lines returned to the shelf by a refund. */
  returned: number;
}

export interface CartRow {
  id: string;
  ownerKey: string;
  status: string;
  orderId: string | null;
  createdAt: Date;
  convertedAt: Date | null;
}

export interface Snapshot {
  /** The order database's clock when its snapshot was taken: the audit's "now". */
  now: Date;
  orders: OrderRow[];
  projection: ProjectionRow[];
  payments: PaymentRow[];
  reservations: ReservationRow[];
  stock: StockRow[];
  /** Carts converted for an order, and signed-in readers' carts still active. */
  carts: CartRow[];
  /** Order ids that have an order-paid notification. */
  paidNotifications: Set<string>;
}

/** A database the audit could not read: names the service, the database and why. */
export class AuditDatabaseError extends Error {
  readonly service: string;
  readonly database: string;
  constructor(service: string, database: string, reason: string, cause?: unknown) {
    super(`${service} database ${database} ${reason}`, { cause });
    this.name = 'AuditDatabaseError';
    this.service = service;
    this.database = database;
  }
}

function databaseName(url: string): string {
  try {
    return new URL(url).pathname.replace(/^\//, '') || url;
  } catch {
    return url;
  }
}

/** Why a query or connection failed, as the operator should read it. */
function reasonOf(err: unknown, url: string): string {
  const e = err as { code?: string; message?: string };
  switch (e?.code) {
    case '3D000':
      return 'does not exist';
    case '42P01':
    case '42703':
      return `does not have the schema the audit reads (${e.message}); are the service's migrations applied?`;
    case '28P01':
    case '28000':
      return `refused the audit's credentials (${e.message})`;
    default:
      return `cannot be read at ${safeDescribe(url)}: ${e?.message || String(err)}`;
  }
}

function safeDescribe(url: string): string {
  try {
    return describeDatabaseUrl(url);
  } catch {
    return 'an invalid URL';
  }
}

/** Runs `read` in a read-only REPEATABLE READ transaction of the service's database. */
async function readDatabase<T>(service: AuditedService, url: string, read: (db: pg.ClientBase) => Promise<T>): Promise<T> {
  const database = databaseName(url);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, application_name: 'folio-audit' });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const result = await read(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    throw new AuditDatabaseError(service, database, reasonOf(err, url), err);
  } finally {
    await client.end().catch(() => {});
  }
}

async function readOrders(db: pg.ClientBase) {
  const { rows: clock } = await db.query<{ now: Date }>('SELECT now() AS now');
  const { rows: orders } = await db.query<OrderRow>(
    `SELECT id::text, user_id AS "userId", status, payment_deadline AS "paymentDeadline", paid_payment_id::text AS "paidPaymentId",
            paid_at AS "paidAt", pending_step AS "pendingStep", next_step_at AS "nextStepAt", created_at AS "createdAt", updated_at AS "updatedAt"
     FROM orders`,
  );
  const { rows: projection } = await db.query<ProjectionRow>(
    `SELECT payment_id::text AS "paymentId", order_id::text AS "orderId", status, updated_at AS "updatedAt" FROM order_payments`,
  );
  return { now: clock[0]!.now, orders, projection };
}

async function readPayments(db: pg.ClientBase): Promise<PaymentRow[]> {
  const { rows } = await db.query<PaymentRow>(
    `SELECT id::text, order_id::text AS "orderId", attempt, status, deadline, refund_requested_at AS "refundRequestedAt", refunded_at AS "refundedAt",
            created_at AS "createdAt", updated_at AS "updatedAt"
     FROM payments`,
  );
  return rows;
}

async function readInventory(db: pg.ClientBase): Promise<{ reservations: ReservationRow[]; stock: StockRow[] }> {
  const { rows: reservations } = await db.query<ReservationRow>(
    `SELECT o.order_id::text AS "orderId", o.status, o.expires_at AS "expiresAt", o.updated_at AS "updatedAt",
            count(l.book_id)::int AS lines, max(l.confirmed_at) AS "confirmedAt",
            count(l.restocked_at)::int AS "restockedLines"
     FROM reservation_orders o LEFT JOIN reservations l ON l.order_id = o.order_id
     GROUP BY o.order_id`,
  );
  const { rows: stock } = await db.query<StockRow>(
    `SELECT s.book_id::text AS "bookId", s.on_hand AS "onHand", s.reserved, s.initial, s.restocked, s.sold,
            coalesce(l.held, 0)::int AS held, coalesce(l.confirmed, 0)::int AS confirmed, coalesce(l.returned, 0)::int AS returned
     FROM stock s
     LEFT JOIN (
       SELECT book_id,
              sum(quantity) FILTER (WHERE status = 'reserved') AS held,
              sum(quantity) FILTER (WHERE status = 'confirmed') AS confirmed,
              sum(quantity) FILTER (WHERE status = 'confirmed' AND restocked_at IS NOT NULL) AS returned
       FROM reservations GROUP BY book_id) l ON l.book_id = s.book_id`,
  );
  return { reservations, stock };
}

async function readCarts(db: pg.ClientBase): Promise<CartRow[]> {
  const { rows } = await db.query<CartRow>(
    `SELECT id::text, owner_key AS "ownerKey", status, order_id AS "orderId", created_at AS "createdAt", converted_at AS "convertedAt"
     FROM carts
     WHERE (status = 'converted' AND order_id IS NOT NULL) OR (status = 'active' AND NOT guest)`,
  );
  return rows;
}

async function readNotifications(db: pg.ClientBase): Promise<Set<string>> {
  const { rows } = await db.query<{ orderId: string }>(
    `SELECT DISTINCT lower(order_id) AS "orderId" FROM notifications WHERE type = 'order-paid' AND order_id IS NOT NULL`,
  );
  return new Set(rows.map((r) => r.orderId));
}

/** Reads every audited database, in causal order (see the header). */
export async function readSnapshot(databaseUrl: (service: AuditedService) => string): Promise<Snapshot> {
  const order = await readDatabase('order', databaseUrl('order'), readOrders);
  const payments = await readDatabase('payment', databaseUrl('payment'), readPayments);
  const inventory = await readDatabase('inventory', databaseUrl('inventory'), readInventory);
  const carts = await readDatabase('cart', databaseUrl('cart'), readCarts);
  const paidNotifications = await readDatabase('notification', databaseUrl('notification'), readNotifications);
  return { ...order, payments, ...inventory, carts, paidNotifications };
}
