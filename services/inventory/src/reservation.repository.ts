/**
 * All SQL on reservations: `reservation_orders` (one row per order: its status, its lock) and
 * `reservations` (its lines). Functions take a Queryable/Tx so the caller owns the transaction.
 */
import type { Queryable, Tx } from '@folio/platform/db';
import type { Reservation, ReservationLine, ReservationStatus, StockEffect } from './reservation.state.ts';

interface ReservationRow {
  orderId: string;
  status: ReservationStatus;
  expiresAt: Date;
  createdAt: Date;
  confirmedAt: Date | null;
  releasedAt: Date | null;
  restockedAt: Date | null;
  lines: ReservationLine[];
}

/** The row as the union of the state machine; the table's CHECKs guarantee the timestamps each status needs. */
function toReservation(r: ReservationRow): Reservation {
  const common = { orderId: r.orderId, lines: r.lines, expiresAt: r.expiresAt, createdAt: r.createdAt };
  switch (r.status) {
    case 'reserved':
      return { ...common, status: 'reserved' };
    case 'confirmed':
      return { ...common, status: 'confirmed', confirmedAt: r.confirmedAt!, releasedAt: r.releasedAt, restockedAt: r.restockedAt };
    case 'released':
      return { ...common, status: 'released', releasedAt: r.releasedAt! };
    case 'expired':
      return { ...common, status: 'expired', releasedAt: r.releasedAt! };
    default: {
      const never: never = r.status;
      throw new Error(`unknown reservation status ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Opens an order's reservation and answers when; undefined when the order has one already (a concurrent
 * request making it is waited for: its outcome decides).
 */
export async function insertOrder(tx: Tx, orderId: string, expiresAt: Date): Promise<{ createdAt: Date } | undefined> {
  const { rows } = await tx.query<{ createdAt: Date }>(
    `INSERT INTO reservation_orders (order_id, status, expires_at) VALUES ($1, 'reserved', $2) ON CONFLICT (order_id) DO NOTHING
     RETURNING created_at AS "createdAt"`,
    [orderId, expiresAt],
  );
  return rows[0];
}

export async function insertLines(tx: Tx, orderId: string, lines: readonly ReservationLine[], expiresAt: Date): Promise<void> {
  await tx.query(
    `INSERT INTO reservations (order_id, book_id, quantity, status, expires_at)
     SELECT $1, l.book_id, l.quantity, 'reserved', $4 FROM unnest($2::uuid[], $3::int[]) AS l (book_id, quantity)`,
    [orderId, lines.map((l) => l.bookId), lines.map((l) => l.quantity), expiresAt],
  );
}

/** Locks the order's reservation until the transaction ends; false when the order has none. */
export async function lockOrder(tx: Tx, orderId: string): Promise<boolean> {
  const { rowCount } = await tx.query('SELECT 1 FROM reservation_orders WHERE order_id = $1 FOR UPDATE', [orderId]);
  return rowCount === 1;
}

/**
 * Claims up to `limit` reservations still held past their deadline, locked until the transaction
 * ends. Rows another instance holds are skipped, so several instances share the sweep.
 */
export async function claimDue(tx: Tx, limit: number): Promise<string[]> {
  const { rows } = await tx.query<{ orderId: string }>(
    `SELECT order_id AS "orderId" FROM reservation_orders WHERE status = 'reserved' AND expires_at <= now()
     ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return rows.map((r) => r.orderId);
}

export interface ReservationFilter {
  orderIds?: readonly string[];
  status?: ReservationStatus;
  limit?: number;
}

/** Reservations with their lines (by book id), newest first. */
export async function findReservations(db: Queryable, filter: ReservationFilter): Promise<Reservation[]> {
  const { rows } = await db.query<ReservationRow>(
    `WITH o AS (
       SELECT * FROM reservation_orders
       WHERE ($1::uuid[] IS NULL OR order_id = ANY($1::uuid[])) AND ($2::text IS NULL OR status = $2)
       ORDER BY created_at DESC, order_id LIMIT $3
     )
     SELECT o.order_id AS "orderId", o.status, o.expires_at AS "expiresAt", o.created_at AS "createdAt",
            max(l.confirmed_at) AS "confirmedAt", max(l.released_at) AS "releasedAt", max(l.restocked_at) AS "restockedAt",
            jsonb_agg(jsonb_build_object('bookId', l.book_id, 'quantity', l.quantity) ORDER BY l.book_id) AS lines
     FROM o JOIN reservations l ON l.order_id = o.order_id
     GROUP BY o.order_id, o.status, o.expires_at, o.created_at
     ORDER BY o.created_at DESC, o.order_id`,
    [filter.orderIds ?? null, filter.status ?? null, filter.limit ?? filter.orderIds?.length ?? 100],
  );
  return rows.map(toReservation);
}

export async function findReservation(db: Queryable, orderId: string): Promise<Reservation | undefined> {
  return (await findReservations(db, { orderIds: [orderId] }))[0];
}

/** The timestamp a step sets on the lines. */
function stampOf(effect: Exclude<StockEffect, 'hold'>): string {
  switch (effect) {
    case 'sell':
    case 'retake':
      return 'confirmed_at = now()';
    case 'free':
      return 'released_at = now()';
    case 'return':
      return 'restocked_at = now()';
    default: {
      const never: never = effect;
      throw new Error(`unknown stock effect ${JSON.stringify(never)}`);
    }
  }
}

/** Records a step of the state machine on the orders and all their lines (the caller holds the orders' locks). */
export async function recordStep(tx: Tx, orderIds: readonly string[], to: ReservationStatus, effect: Exclude<StockEffect, 'hold'>): Promise<void> {
  await tx.query('UPDATE reservation_orders SET status = $2, updated_at = now() WHERE order_id = ANY($1::uuid[])', [orderIds, to]);
  await tx.query(`UPDATE reservations SET status = $2, ${stampOf(effect)} WHERE order_id = ANY($1::uuid[])`, [orderIds, to]);
}
