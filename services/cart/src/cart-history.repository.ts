/**
 * All SQL on the `carts` table: the history of every cart (and, in embedded mode, the active cart's
 * header row). Functions take a Queryable/Tx so the caller owns the transaction.
 */
import type { Queryable, Tx } from '@folio/platform/db';
import type { CartOwner } from './cart.store.ts';

export type CartStatus = 'active' | 'abandoned' | 'converted';

/** The history's life cycle: only an active cart ends, and it ends once (every UPDATE below is guarded by status = 'active'). */
export const CART_TRANSITIONS: { readonly [S in CartStatus]: readonly CartStatus[] } = {
  active: ['abandoned', 'converted'],
  abandoned: [],
  converted: [],
};

export interface CartRow {
  id: string;
  ownerKey: string;
  createdAt: Date;
  expiresAt: Date;
  /** Set by lockActive: whether the row's expiry has passed by the database clock. */
  expired: boolean;
}

const COLUMNS = 'id, owner_key AS "ownerKey", created_at AS "createdAt", expires_at AS "expiresAt", expires_at <= now() AS expired';

const ownerColumns = (owner: CartOwner): [string, string | null, boolean] => [owner.key, owner.kind === 'user' ? owner.userId : null, owner.kind === 'guest'];

/**
 * Opens the history row of a new cart. With `ifNoActive` it does nothing (and answers undefined) when the
 * owner already has an active row, including one being inserted by a concurrent transaction.
 */
export async function insertCart(
  q: Queryable,
  cart: { id: string; owner: CartOwner; expires: { at: Date } | { inSeconds: number } },
  opts: { ifNoActive: boolean },
): Promise<CartRow | undefined> {
  const [ownerKey, userId, guest] = ownerColumns(cart.owner);
  const expiry = 'at' in cart.expires ? '$5::timestamptz' : 'now() + make_interval(secs => $5::int)';
  const value = 'at' in cart.expires ? cart.expires.at.toISOString() : cart.expires.inSeconds;
  const { rows } = await q.query<CartRow>(
    `INSERT INTO carts (id, owner_key, user_id, guest, expires_at) VALUES ($1, $2, $3, $4, ${expiry})
     ${opts.ifNoActive ? "ON CONFLICT (owner_key) WHERE status = 'active' DO NOTHING" : ''}
     RETURNING ${COLUMNS}`,
    [cart.id, ownerKey, userId, guest, value],
  );
  return rows[0];
}

/** The owner's active row, locked until the transaction ends. */
export async function lockActive(tx: Tx, ownerKey: string): Promise<CartRow | undefined> {
  const { rows } = await tx.query<CartRow>(`SELECT ${COLUMNS} FROM carts WHERE owner_key = $1 AND status = 'active' FOR UPDATE`, [ownerKey]);
  return rows[0];
}

/** Records a write: new expiry and, when given, the lines as they now are. */
export async function touchCart(q: Queryable, id: string, expires: { at: Date } | { inSeconds: number }, snapshot?: string): Promise<Date | undefined> {
  const expiry = 'at' in expires ? '$2::timestamptz' : 'now() + make_interval(secs => $2::int)';
  const { rows } = await q.query<{ expiresAt: Date }>(
    `UPDATE carts SET updated_at = now(), expires_at = ${expiry}, lines = COALESCE($3::jsonb, lines)
     WHERE id = $1 AND status = 'active' RETURNING expires_at AS "expiresAt"`,
    [id, 'at' in expires ? expires.at.toISOString() : expires.inSeconds, snapshot ?? null],
  );
  return rows[0]?.expiresAt;
}

/** Ends an active cart as converted: paid (orderId) or merged into an account's cart (mergedInto). */
export async function convertCart(q: Queryable, id: string, why: { orderId: string } | { mergedInto: string }, snapshot?: string): Promise<boolean> {
  const { rowCount } = await q.query(
    `UPDATE carts SET status = 'converted', converted_at = now(), updated_at = now(), order_id = $2, merged_into = $3,
       lines = COALESCE($4::jsonb, lines)
     WHERE id = $1 AND status = 'active'`,
    [id, 'orderId' in why ? why.orderId : null, 'mergedInto' in why ? why.mergedInto : null, snapshot ?? null],
  );
  return rowCount === 1;
}

/** Ends every active cart of the owner as converted by the order (the cart itself may already be gone). */
export async function convertActiveOf(q: Queryable, ownerKey: string, orderId: string, snapshot?: string): Promise<number> {
  const { rowCount } = await q.query(
    `UPDATE carts SET status = 'converted', converted_at = now(), updated_at = now(), order_id = $2, lines = COALESCE($3::jsonb, lines)
     WHERE owner_key = $1 AND status = 'active'`,
    [ownerKey, orderId, snapshot ?? null],
  );
  return rowCount ?? 0;
}

/** Ends active carts as abandoned, each with its final lines when known. */
export async function abandonCarts(q: Queryable, carts: ReadonlyArray<{ id: string; snapshot?: string }>): Promise<number> {
  if (carts.length === 0) return 0;
  const { rowCount } = await q.query(
    `UPDATE carts c SET status = 'abandoned', abandoned_at = now(), lines = COALESCE(x.lines, c.lines)
     FROM unnest($1::uuid[], $2::jsonb[]) AS x(id, lines)
     WHERE c.id = x.id AND c.status = 'active'`,
    [carts.map((c) => c.id), carts.map((c) => c.snapshot ?? null)],
  );
  return rowCount ?? 0;
}

/** Ends the owner's active row(s) as abandoned: its cart is gone from the store (Redis expired it). */
export async function abandonActiveOf(q: Queryable, ownerKey: string): Promise<number> {
  const { rowCount } = await q.query(`UPDATE carts SET status = 'abandoned', abandoned_at = now() WHERE owner_key = $1 AND status = 'active'`, [ownerKey]);
  return rowCount ?? 0;
}

/**
 * Claims up to `limit` active rows whose expiry has passed, locked until the transaction ends; rows
 * another instance holds are skipped, so several instances share the sweep.
 */
export async function claimExpired(tx: Tx, limit: number): Promise<CartRow[]> {
  const { rows } = await tx.query<CartRow>(
    `SELECT ${COLUMNS} FROM carts WHERE status = 'active' AND expires_at <= now()
     ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return rows;
}

/** Carts still alive in the store (read since their last write): their history expiry moves to the store's. */
export async function extendExpiries(q: Queryable, carts: ReadonlyArray<{ id: string; expiresAt: Date }>): Promise<void> {
  if (carts.length === 0) return;
  await q.query(
    `UPDATE carts c SET expires_at = x.expires_at FROM unnest($1::uuid[], $2::timestamptz[]) AS x(id, expires_at)
     WHERE c.id = x.id AND c.status = 'active'`,
    [carts.map((c) => c.id), carts.map((c) => c.expiresAt.toISOString())],
  );
}
