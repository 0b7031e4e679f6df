/** All SQL on the `stock` table. Functions take a Queryable/Tx so the caller owns the transaction. */
import type { Queryable, Tx } from '@folio/platform/db';
import type { StockDelta } from './reservation.state.ts';

export interface Stock {
  bookId: string;
  onHand: number;
  reserved: number;
  available: number;
  initial: number;
  restocked: number;
  sold: number;
  updatedAt: Date;
}

/** A book's available quantity (on_hand − reserved) before and after a transaction's change. */
export interface AvailabilityChange {
  bookId: string;
  before: number;
  after: number;
}

const COLUMNS = `book_id AS "bookId", on_hand AS "onHand", reserved, on_hand - reserved AS available, initial, restocked, sold, updated_at AS "updatedAt"`;

/**
 * Locks the stock rows of the books, always in book_id order, so two transactions locking
 * overlapping sets never wait on each other in a cycle. Books without a row are absent from the map.
 */
export async function lockStock(tx: Tx, bookIds: readonly string[]): Promise<Map<string, Stock>> {
  const { rows } = await tx.query<Stock>(`SELECT ${COLUMNS} FROM stock WHERE book_id = ANY($1::uuid[]) ORDER BY book_id FOR UPDATE`, [[...new Set(bookIds)]]);
  return new Map(rows.map((r) => [r.bookId, r]));
}

/**
 * Applies counter changes, summed per book (one UPDATE per book per call), and says how each
 * book's availability moved. Takes the row locks in book_id order first, unless the caller says it
 * holds them already (lockStock); the CHECK constraints refuse any change that would oversell.
 */
export async function applyDeltas(tx: Tx, deltas: readonly StockDelta[], opts: { locked?: boolean } = {}): Promise<AvailabilityChange[]> {
  const byBook = new Map<string, StockDelta>();
  for (const d of deltas) {
    const sum = byBook.get(d.bookId) ?? { bookId: d.bookId, onHand: 0, reserved: 0, sold: 0, restocked: 0 };
    byBook.set(d.bookId, {
      bookId: d.bookId,
      onHand: sum.onHand + d.onHand,
      reserved: sum.reserved + d.reserved,
      sold: sum.sold + d.sold,
      restocked: sum.restocked + d.restocked,
    });
  }
  const summed = [...byBook.values()];
  if (summed.length === 0) return [];
  if (!opts.locked) await lockStock(tx, [...byBook.keys()]);
  const { rows } = await tx.query<{ bookId: string; available: number }>(
    `UPDATE stock s SET on_hand = s.on_hand + d.on_hand, reserved = s.reserved + d.reserved, sold = s.sold + d.sold,
       restocked = s.restocked + d.restocked, updated_at = now()
     FROM unnest($1::uuid[], $2::int[], $3::int[], $4::int[], $5::int[]) AS d (book_id, on_hand, reserved, sold, restocked)
     WHERE s.book_id = d.book_id
     RETURNING s.book_id AS "bookId", s.on_hand - s.reserved AS available`,
    [summed.map((d) => d.bookId), summed.map((d) => d.onHand), summed.map((d) => d.reserved), summed.map((d) => d.sold), summed.map((d) => d.restocked)],
  );
  if (rows.length !== summed.length) throw new Error(`stock rows missing for ${summed.length - rows.length} of ${summed.length} books`);
  return rows.map((r) => {
    const d = byBook.get(r.bookId)!;
    return { bookId: r.bookId, after: r.available, before: r.available - (d.onHand - d.reserved) };
  });
}

/** Opens a book's stock with `onHand` copies unless it has a row already; undefined when it had one. */
export async function openStock(tx: Tx, bookId: string, onHand: number): Promise<Stock | undefined> {
  const { rows } = await tx.query<Stock>(
    `INSERT INTO stock (book_id, on_hand, initial) VALUES ($1, $2, $2) ON CONFLICT (book_id) DO NOTHING RETURNING ${COLUMNS}`,
    [bookId, onHand],
  );
  return rows[0];
}

/** Adds copies (a delivery), opening the book's stock when it has none yet. */
export async function addCopies(tx: Tx, bookId: string, quantity: number): Promise<{ stock: Stock; change: AvailabilityChange }> {
  const { rows } = await tx.query<Stock>(
    `INSERT INTO stock (book_id, on_hand, initial, restocked) VALUES ($1, $2, 0, $2)
     ON CONFLICT (book_id) DO UPDATE SET on_hand = stock.on_hand + EXCLUDED.on_hand, restocked = stock.restocked + EXCLUDED.restocked, updated_at = now()
     RETURNING ${COLUMNS}`,
    [bookId, quantity],
  );
  const stock = rows[0]!;
  return { stock, change: { bookId, before: stock.available - quantity, after: stock.available } };
}

export async function findStock(db: Queryable, bookIds: readonly string[]): Promise<Stock[]> {
  const { rows } = await db.query<Stock>(`SELECT ${COLUMNS} FROM stock WHERE book_id = ANY($1::uuid[])`, [bookIds]);
  return rows;
}
