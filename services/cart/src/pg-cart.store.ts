/**
 * Carts entirely in PostgreSQL (embedded mode, no REDIS_URL): the `carts` row is the cart's header and
 * its history at once, `cart_items` its lines. A change runs in one transaction holding the cart row's
 * lock (SELECT … FOR UPDATE); a new cart is inserted with ON CONFLICT on the one-active-cart-per-owner
 * index, so two first adds racing end up in one cart. Expiry is `expires_at`, pushed forward on every
 * read and write; a cart past it is treated as gone at once and ended by the sweep.
 */
import { randomUUID } from 'node:crypto';
import type { Pool, Queryable, Tx } from '@folio/platform/db';
import { withTransaction } from '@folio/platform/db';
import type { CartChange, CartLine, CartOwner, CartStore, Lines, MergeResult, MergeRule, StoredCart } from './cart.store.ts';
import { snapshotOf, sortedLines } from './cart.store.ts';
import { abandonCarts, type CartRow, claimExpired, convertCart, insertCart, lockActive, touchCart } from './cart-history.repository.ts';

interface ItemRow {
  cartId: string;
  productId: string;
  title: string;
  quantity: number;
  unitAmount: string;
  currency: string;
  addedAt: Date;
}

const ITEM_COLUMNS = `i.cart_id AS "cartId", i.product_id AS "productId", i.title, i.quantity, i.unit_amount AS "unitAmount", i.currency, i.added_at AS "addedAt"`;

const lineOf = (r: ItemRow): CartLine => ({
  productId: r.productId,
  title: r.title,
  quantity: r.quantity,
  unitPrice: { amount: Number(r.unitAmount), currency: r.currency },
  addedAt: r.addedAt.toISOString(),
});

async function loadLines(q: Queryable, cartIds: readonly string[]): Promise<Map<string, Lines>> {
  const byCart = new Map<string, Lines>(cartIds.map((id) => [id, new Map()]));
  if (cartIds.length === 0) return byCart;
  const { rows } = await q.query<ItemRow>(`SELECT ${ITEM_COLUMNS} FROM cart_items i WHERE i.cart_id = ANY($1::uuid[])`, [cartIds]);
  for (const r of rows) byCart.get(r.cartId)?.set(r.productId, lineOf(r));
  return byCart;
}

/** Writes what the change did: deleted lines, and new or changed ones. */
async function writeLines(tx: Tx, cartId: string, before: Lines, after: Lines): Promise<void> {
  const removed = [...before.keys()].filter((id) => !after.has(id));
  if (removed.length > 0) await tx.query('DELETE FROM cart_items WHERE cart_id = $1 AND product_id = ANY($2::uuid[])', [cartId, removed]);
  const changed = [...after.values()].filter((l) => JSON.stringify(l) !== JSON.stringify(before.get(l.productId)));
  if (changed.length === 0) return;
  await tx.query(
    `INSERT INTO cart_items (cart_id, product_id, title, quantity, unit_amount, currency, added_at)
     SELECT $1, x.product_id, x.title, x.quantity, x.unit_amount, x.currency, x.added_at
     FROM unnest($2::uuid[], $3::text[], $4::int[], $5::bigint[], $6::text[], $7::timestamptz[])
       AS x(product_id, title, quantity, unit_amount, currency, added_at)
     ON CONFLICT (cart_id, product_id) DO UPDATE
       SET title = EXCLUDED.title, quantity = EXCLUDED.quantity, unit_amount = EXCLUDED.unit_amount,
           currency = EXCLUDED.currency, added_at = EXCLUDED.added_at`,
    [
      cartId,
      changed.map((l) => l.productId),
      changed.map((l) => l.title),
      changed.map((l) => l.quantity),
      changed.map((l) => l.unitPrice.amount),
      changed.map((l) => l.unitPrice.currency),
      changed.map((l) => l.addedAt),
    ],
  );
}

const cloneLines = (lines: Lines): Lines => new Map([...lines].map(([id, l]) => [id, { ...l, unitPrice: { ...l.unitPrice } }]));

export function createPgCartStore(opts: { pool: Pool; ttlSeconds: number }): CartStore {
  const { pool, ttlSeconds } = opts;

  /** Ends a cart whose expiry passed before the sweep got to it, keeping its lines in the history. */
  async function endExpired(tx: Tx, row: CartRow): Promise<void> {
    const lines = (await loadLines(tx, [row.id])).get(row.id) ?? new Map();
    await tx.query('DELETE FROM cart_items WHERE cart_id = $1', [row.id]);
    await abandonCarts(tx, [{ id: row.id, snapshot: snapshotOf(lines.values()) }]);
  }

  /** The owner's live cart row, locked; expired ones are ended on the way. */
  async function lockLive(tx: Tx, owner: CartOwner): Promise<CartRow | undefined> {
    const row = await lockActive(tx, owner.key);
    if (!row?.expired) return row;
    await endExpired(tx, row);
    return undefined;
  }

  async function lockOrCreate(tx: Tx, owner: CartOwner): Promise<CartRow> {
    const live = await lockLive(tx, owner);
    if (live) return live;
    // A concurrent first write for the same owner makes this insert wait for it and then do nothing: take its row.
    const created = await insertCart(tx, { id: randomUUID(), owner, expires: { inSeconds: ttlSeconds } }, { ifNoActive: true });
    const row = created ?? (await lockActive(tx, owner.key));
    if (!row) throw new Error(`cart of ${owner.kind} could not be created or found`);
    return row;
  }

  async function finish(tx: Tx, row: CartRow, lines: Lines): Promise<StoredCart> {
    const expiresAt = await touchCart(tx, row.id, { inSeconds: ttlSeconds });
    return { id: row.id, createdAt: row.createdAt.toISOString(), expiresAt: (expiresAt ?? row.expiresAt).toISOString(), lines: sortedLines(lines.values()) };
  }

  const store: CartStore = {
    kind: 'postgres',

    async read(owner) {
      // One statement: renew the expiry of a live cart and read its lines from the same snapshot.
      const { rows } = await pool.query<{ id: string; createdAt: Date; expiresAt: Date } & Partial<ItemRow>>(
        `WITH c AS (
           UPDATE carts SET expires_at = now() + make_interval(secs => $2::int)
           WHERE owner_key = $1 AND status = 'active' AND expires_at > now()
           RETURNING id, created_at, expires_at
         )
         SELECT c.id, c.created_at AS "createdAt", c.expires_at AS "expiresAt", ${ITEM_COLUMNS}
         FROM c LEFT JOIN cart_items i ON i.cart_id = c.id`,
        [owner.key, ttlSeconds],
      );
      const first = rows[0];
      if (!first) return undefined;
      const lines = rows.filter((r) => r.productId).map((r) => lineOf(r as ItemRow));
      return { id: first.id, createdAt: first.createdAt.toISOString(), expiresAt: first.expiresAt.toISOString(), lines: sortedLines(lines) };
    },

    async update(owner: CartOwner, change: CartChange, { create }: { create: boolean }) {
      return withTransaction(pool, async (tx) => {
        const row = create ? await lockOrCreate(tx, owner) : await lockLive(tx, owner);
        if (!row) return undefined;
        const before = (await loadLines(tx, [row.id])).get(row.id) ?? new Map();
        const lines = cloneLines(before);
        change(lines);
        await writeLines(tx, row.id, before, lines);
        return finish(tx, row, lines);
      });
    },

    async merge<R>(guest: CartOwner, user: CartOwner, rule: MergeRule<R>): Promise<MergeResult<R | undefined>> {
      const merged = await withTransaction(pool, async (tx) => {
        // Lock order: the guest cart, then the account's cart (see cart.store.ts).
        const from = await lockLive(tx, guest);
        if (!from) return undefined;
        const into = await lockOrCreate(tx, user);
        const loaded = await loadLines(tx, [from.id, into.id]);
        const guestLines = loaded.get(from.id) ?? new Map();
        const before = loaded.get(into.id) ?? new Map();
        const lines = cloneLines(before);
        const outcome = rule(lines, cloneLines(guestLines));
        await writeLines(tx, into.id, before, lines);
        await tx.query('DELETE FROM cart_items WHERE cart_id = $1', [from.id]);
        await convertCart(tx, from.id, { mergedInto: into.id }, snapshotOf(guestLines.values()));
        return { cart: await finish(tx, into, lines), outcome };
      });
      // No live guest cart: an earlier merge took it (or it expired). Nothing to do; answer the account's cart.
      return merged ?? { cart: await store.read(user), outcome: undefined };
    },

    async convert(tx, owner, orderId) {
      const row = await lockActive(tx, owner.key);
      if (!row) return false;
      const lines = (await loadLines(tx, [row.id])).get(row.id) ?? new Map();
      await tx.query('DELETE FROM cart_items WHERE cart_id = $1', [row.id]);
      return convertCart(tx, row.id, { orderId }, snapshotOf(lines.values()));
    },

    async sweepExpired(limit) {
      return withTransaction(pool, async (tx) => {
        const rows = await claimExpired(tx, limit);
        if (rows.length === 0) return 0;
        const ids = rows.map((r) => r.id);
        const lines = await loadLines(tx, ids);
        await tx.query('DELETE FROM cart_items WHERE cart_id = ANY($1::uuid[])', [ids]);
        await abandonCarts(
          tx,
          ids.map((id) => ({ id, snapshot: snapshotOf(lines.get(id)?.values() ?? []) })),
        );
        return rows.length;
      });
    },
  };
  return store;
}
