/** All SQL about books. Functions take a Queryable so the caller decides the transaction. */
import type { Money } from '@folio/contracts/money';
import type { Queryable } from '@folio/platform/db';
import type { BookStatus } from './book.schemas.ts';
import type { CategoryRef } from './category.schemas.ts';
import type { SortOrder } from './cursor.ts';

export interface Book {
  id: string;
  title: string;
  authors: string[];
  isbn: string;
  description: string;
  price: Money;
  category: CategoryRef | null;
  status: BookStatus;
  inStock: boolean;
  available: number;
  createdAt: Date;
  updatedAt: Date;
}

/** What a book is made of when it is created or changed (the service has validated and normalised it). */
export interface BookFields {
  title: string;
  authors: string[];
  isbn: string;
  description: string;
  price: Money;
  categoryId: string;
}

interface BookRow {
  id: string;
  title: string;
  authors: string[];
  isbn: string;
  description: string;
  price_amount: number;
  price_currency: string;
  status: BookStatus;
  in_stock: boolean;
  available: number;
  created_at: Date;
  updated_at: Date;
  category_id: string | null;
  category_name: string | null;
  category_slug: string | null;
}

/** Columns of a book joined with its category, from `b` (books or a CTE of them) and `c` (categories). */
const COLUMNS = `b.id, b.title, b.authors, b.isbn, b.description, b.price_amount, b.price_currency, b.status, b.in_stock, b.available,
  b.created_at, b.updated_at, c.id AS category_id, c.name AS category_name, c.slug AS category_slug`;

function toBook(r: BookRow): Book {
  return {
    id: r.id,
    title: r.title,
    authors: r.authors,
    isbn: r.isbn,
    description: r.description,
    price: { amount: r.price_amount, currency: r.price_currency },
    category: r.category_id && r.category_name && r.category_slug ? { id: r.category_id, name: r.category_name, slug: r.category_slug } : null,
    status: r.status,
    inStock: r.in_stock,
    available: r.available,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export async function findBook(db: Queryable, id: string, opts: { forUpdate?: boolean } = {}): Promise<Book | undefined> {
  const lock = opts.forUpdate ? 'FOR UPDATE OF b' : '';
  const { rows } = await db.query<BookRow>(`SELECT ${COLUMNS} FROM books b LEFT JOIN categories c ON c.id = b.category_id WHERE b.id = $1 ${lock}`, [id]);
  return rows[0] ? toBook(rows[0]) : undefined;
}

export async function findBookIdByIsbn(db: Queryable, isbn: string): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM books WHERE isbn = $1', [isbn]);
  return rows[0]?.id;
}

export async function insertBook(db: Queryable, id: string, f: BookFields): Promise<Book> {
  const { rows } = await db.query<BookRow>(
    `WITH b AS (
       INSERT INTO books (id, title, authors, isbn, description, price_amount, price_currency, category_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *
     )
     SELECT ${COLUMNS} FROM b LEFT JOIN categories c ON c.id = b.category_id`,
    [id, f.title, f.authors, f.isbn, f.description, f.price.amount, f.price.currency, f.categoryId],
  );
  return toBook(rows[0]!);
}

/** Changes the given fields; undefined when there is no such book. */
export async function updateBook(db: Queryable, id: string, changes: Partial<BookFields>): Promise<Book | undefined> {
  const params: unknown[] = [id];
  const set: string[] = ['updated_at = now()'];
  const assign = (column: string, value: unknown) => {
    params.push(value);
    set.push(`${column} = $${params.length}`);
  };
  if (changes.title !== undefined) assign('title', changes.title);
  if (changes.authors !== undefined) assign('authors', changes.authors);
  if (changes.isbn !== undefined) assign('isbn', changes.isbn);
  if (changes.description !== undefined) assign('description', changes.description);
  if (changes.price !== undefined) {
    assign('price_amount', changes.price.amount);
    assign('price_currency', changes.price.currency);
  }
  if (changes.categoryId !== undefined) assign('category_id', changes.categoryId);
  const { rows } = await db.query<BookRow>(
    `WITH b AS (UPDATE books SET ${set.join(', ')} WHERE id = $1 RETURNING *)
     SELECT ${COLUMNS} FROM b LEFT JOIN categories c ON c.id = b.category_id`,
    params,
  );
  return rows[0] ? toBook(rows[0]) : undefined;
}

export async function setStatus(db: Queryable, id: string, status: BookStatus): Promise<Book | undefined> {
  const { rows } = await db.query<BookRow>(
    `WITH b AS (UPDATE books SET status = $2, updated_at = now() WHERE id = $1 RETURNING *)
     SELECT ${COLUMNS} FROM b LEFT JOIN categories c ON c.id = b.category_id`,
    [id, status],
  );
  return rows[0] ? toBook(rows[0]) : undefined;
}

/** Records what the inventory says; false when there is no such book. */
export async function setAvailability(db: Queryable, id: string, available: number, inStock: boolean): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE books SET available = $2, in_stock = $3, updated_at = now() WHERE id = $1', [id, available, inStock]);
  return rowCount === 1;
}

export async function countBooks(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM books');
  return rows[0]?.n ?? 0;
}

export interface ListSpec {
  /** Full text, trigram and exact-ISBN matching; `isbn` is set when the text is an ISBN. */
  search?: { text: string; isbn: string | undefined };
  categoryIds?: string[];
  ids?: string[];
  activeOnly: boolean;
  sort: SortOrder;
  /** The keyset position: items strictly after it in the sort order. */
  after?: { key: string; id: string };
  limit: number;
}

export interface ListedBook {
  book: Book;
  /** The item's sort key as text, for the next page's cursor. */
  cursorKey: string;
}

/** How each sort order keys and compares; the id follows the key's direction so one row comparison does the keyset. */
const ORDERS: Record<SortOrder, { key: (rank: string) => string; type: string; desc: boolean }> = {
  relevance: { key: (rank) => rank, type: 'numeric', desc: true },
  title: { key: () => 'b.title', type: 'text', desc: false },
  price_asc: { key: () => 'b.price_amount', type: 'integer', desc: false },
  price_desc: { key: () => 'b.price_amount', type: 'integer', desc: true },
  newest: { key: () => 'b.created_at', type: 'timestamptz', desc: true },
};

/** Trigram word similarity (0–1) above which a title or author name counts as a fuzzy match; "tolkein" ~ "Tolkien" is 0.5. */
export const FUZZY_THRESHOLD = 0.45;

/** Makes the trigram operators of this transaction use FUZZY_THRESHOLD. */
export async function useFuzzyThreshold(tx: Queryable): Promise<void> {
  await tx.query(`SELECT set_config('pg_trgm.word_similarity_threshold', $1, true)`, [String(FUZZY_THRESHOLD)]);
}

/** One page of books (limit + 1 rows are asked for by the caller to know whether another page follows). */
export async function listBooks(db: Queryable, spec: ListSpec): Promise<ListedBook[]> {
  const params: unknown[] = [];
  const p = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const where: string[] = [];
  if (spec.activeOnly) where.push(`b.status = 'active'`);
  if (spec.ids) where.push(`b.id = ANY(${p(spec.ids)}::uuid[])`);
  if (spec.categoryIds) where.push(`b.category_id = ANY(${p(spec.categoryIds)}::uuid[])`);

  let rank = '0::numeric';
  if (spec.search) {
    const q = p(spec.search.text);
    const english = `websearch_to_tsquery('english', ${q})`;
    const simple = `websearch_to_tsquery('simple', ${q})`;
    const isbn = spec.search.isbn ? p(spec.search.isbn) : undefined;
    const matches = [`b.search @@ ${english}`, `b.search @@ ${simple}`, `${q} <% b.title`, `${q} <% catalog_authors_text(b.authors)`];
    if (isbn) matches.push(`b.isbn = ${isbn}`);
    where.push(`(${matches.join(' OR ')})`);
    // Rounded to a numeric so the key survives the round trip through the cursor exactly.
    rank = `round((ts_rank(b.search, ${english})::float8 + ts_rank(b.search, ${simple})::float8
      + greatest(word_similarity(${q}, b.title), word_similarity(${q}, catalog_authors_text(b.authors)))::float8
      ${isbn ? `+ CASE WHEN b.isbn = ${isbn} THEN 10 ELSE 0 END` : ''})::numeric, 6)`;
  }

  const order = ORDERS[spec.sort];
  const key = order.key(rank);
  const direction = order.desc ? 'DESC' : 'ASC';
  const keyset = spec.after ? `WHERE (b.sort_key, b.id) ${order.desc ? '<' : '>'} (${p(spec.after.key)}::${order.type}, ${p(spec.after.id)}::uuid)` : '';
  const cursorKey = spec.sort === 'newest' ? `to_char(b.sort_key AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')` : 'b.sort_key::text';

  const { rows } = await db.query<BookRow & { cursor_key: string }>(
    `SELECT ${COLUMNS}, ${cursorKey} AS cursor_key
     FROM (SELECT b.*, ${key} AS sort_key FROM books b ${where.length ? `WHERE ${where.join(' AND ')}` : ''}) b
     LEFT JOIN categories c ON c.id = b.category_id
     ${keyset}
     ORDER BY b.sort_key ${direction}, b.id ${direction}
     LIMIT ${p(spec.limit)}`,
    params,
  );
  return rows.map((r) => ({ book: toBook(r), cursorKey: r.cursor_key }));
}
