/**
 * The rules of the catalogue: who may change books, what a valid book is, how a listing is paged.
 * Reading is public; every change needs the admin role, checked on the first line.
 */
import { randomUUID } from 'node:crypto';
import { BookAdded } from '@folio/contracts/events';
import type { Principal } from '@folio/platform/auth';
import { type Pool, type Tx, withTransaction } from '@folio/platform/db';
import type { Logger } from '@folio/platform/log';
import type { Outbox } from '@folio/platform/messaging/outbox';
import { problems } from '@folio/platform/problem';
import {
  type Book,
  type BookFields,
  findBook,
  findBookIdByIsbn,
  insertBook,
  type ListSpec,
  listBooks,
  setStatus,
  updateBook,
  useFuzzyThreshold,
} from './book.repository.ts';
import { type BookStatus, type CreateBookBody, DEFAULT_LIMIT, type ListProductsQuery, MAX_IDS, type UpdateBookBody } from './book.schemas.ts';
import { findCategory } from './category.repository.ts';
import type { CategoryService } from './category.service.ts';
import { CursorError, decodeCursor, encodeCursor, type SortOrder } from './cursor.ts';
import { isbnOfQuery, parseIsbn } from './isbn.ts';

export type StatusCommand = 'retire' | 'reactivate';

/** Every status answers every command; retiring a retired book (or reactivating an active one) changes nothing. */
const TRANSITIONS: Record<BookStatus, Record<StatusCommand, BookStatus>> = {
  active: { retire: 'unavailable', reactivate: 'active' },
  unavailable: { retire: 'unavailable', reactivate: 'active' },
};

export interface BookPage {
  books: Book[];
  nextCursor: string | null;
}

export interface BookService {
  list(query: ListProductsQuery): Promise<BookPage>;
  get(id: string): Promise<Book>;
  create(principal: Principal, body: CreateBookBody): Promise<Book>;
  update(principal: Principal, id: string, body: UpdateBookBody): Promise<Book>;
  changeStatus(principal: Principal, id: string, command: StatusCommand): Promise<Book>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PG_UNIQUE_VIOLATION = '23505';
const PG_FOREIGN_KEY_VIOLATION = '23503';

function assertAdmin(principal: Principal): void {
  if (!principal.roles.includes('admin')) throw problems.forbidden('Changing the catalogue needs the "admin" role.');
}

const fieldProblem = (field: string, message: string) => problems.badRequest(`${field} ${message}`, [{ field, message }]);

export function createBookService(deps: { pool: Pool; log: Logger; outbox: Outbox; categories: CategoryService }): BookService {
  const { pool, log, outbox, categories } = deps;

  async function assertCategoryExists(tx: Tx, categoryId: string): Promise<void> {
    if (!(await findCategory(tx, { id: categoryId }))) throw unknownCategory();
  }

  async function assertIsbnFree(tx: Tx, isbn: string, exceptBookId?: string): Promise<void> {
    const holder = await findBookIdByIsbn(tx, isbn);
    if (holder !== undefined && holder !== exceptBookId) throw duplicateIsbn(isbn, holder);
  }

  /** A concurrent writer can still win between the check and the write: the constraints have the last word. */
  function translateConstraint(err: unknown, isbn: string | undefined): unknown {
    const e = err as { code?: string; constraint?: string };
    if (e.code === PG_UNIQUE_VIOLATION && e.constraint === 'books_isbn_key' && isbn) return duplicateIsbn(isbn);
    if (e.code === PG_FOREIGN_KEY_VIOLATION && e.constraint === 'books_category_id_fkey') return unknownCategory();
    return err;
  }

  return {
    async list(query) {
      const text = query.q === undefined ? undefined : cleanText('querystring/q', query.q).replace(/\s+/g, ' ') || undefined;
      const ids = query.ids === undefined ? undefined : parseIds(query.ids);
      // Relevance needs words to be relevant to; without q the listing is by title.
      const sort: SortOrder = !text && (query.sort === undefined || query.sort === 'relevance') ? 'title' : (query.sort ?? 'relevance');
      const limit = query.limit ?? (ids ? ids.length : DEFAULT_LIMIT);
      let after: ListSpec['after'];
      if (query.cursor !== undefined) {
        try {
          after = decodeCursor(query.cursor, sort);
        } catch (err) {
          if (err instanceof CursorError) throw fieldProblem('querystring/cursor', err.message);
          throw err;
        }
      }
      const categoryIds = query.category === undefined ? undefined : await categories.filterIds(query.category);
      const spec: ListSpec = {
        activeOnly: ids === undefined,
        sort,
        limit: limit + 1,
        ...(text ? { search: { text, isbn: isbnOfQuery(text) } } : {}),
        ...(ids ? { ids } : {}),
        ...(categoryIds ? { categoryIds } : {}),
        ...(after ? { after } : {}),
      };
      const rows = spec.search
        ? await withTransaction(pool, async (tx) => {
            await useFuzzyThreshold(tx);
            return listBooks(tx, spec);
          })
        : await listBooks(pool, spec);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        books: page.map((r) => r.book),
        nextCursor: rows.length > limit && last ? encodeCursor({ sort, key: last.cursorKey, id: last.book.id }) : null,
      };
    },

    async get(id) {
      const book = await findBook(pool, id);
      if (!book) throw problems.notFound(`No book ${id}.`);
      return book;
    },

    async create(principal, body) {
      assertAdmin(principal);
      const fields: BookFields = {
        title: cleanText('body/title', body.title),
        authors: body.authors.map((a, i) => cleanText(`body/authors/${i}`, a)),
        isbn: isbnField(body.isbn),
        description: cleanText('body/description', body.description ?? ''),
        price: { amount: body.price.amount, currency: body.price.currency },
        categoryId: body.categoryId.toLowerCase(),
      };
      const book = await withTransaction(pool, async (tx) => {
        await assertCategoryExists(tx, fields.categoryId);
        await assertIsbnFree(tx, fields.isbn);
        const created = await insertBook(tx, randomUUID(), fields).catch((err) => {
          throw translateConstraint(err, fields.isbn);
        });
        // In the same transaction: the inventory opens stock for the book if and only if it exists.
        await outbox.publish(tx, BookAdded, { aggregateId: created.id, payload: { bookId: created.id, title: created.title } });
        return created;
      });
      log.info({ bookId: book.id, isbn: book.isbn, by: principal.userId }, 'book created');
      return book;
    },

    async update(principal, id, body) {
      assertAdmin(principal);
      const changes: Partial<BookFields> = {};
      if (body.title !== undefined) changes.title = cleanText('body/title', body.title);
      if (body.authors !== undefined) changes.authors = body.authors.map((a, i) => cleanText(`body/authors/${i}`, a));
      if (body.isbn !== undefined) changes.isbn = isbnField(body.isbn);
      if (body.description !== undefined) changes.description = cleanText('body/description', body.description);
      if (body.price !== undefined) changes.price = { amount: body.price.amount, currency: body.price.currency };
      if (body.categoryId !== undefined) changes.categoryId = body.categoryId.toLowerCase();
      const book = await withTransaction(pool, async (tx) => {
        if (!(await findBook(tx, id, { forUpdate: true }))) throw problems.notFound(`No book ${id}.`);
        if (changes.categoryId !== undefined) await assertCategoryExists(tx, changes.categoryId);
        if (changes.isbn !== undefined) await assertIsbnFree(tx, changes.isbn, id);
        return updateBook(tx, id, changes).catch((err) => {
          throw translateConstraint(err, changes.isbn);
        });
      });
      if (!book) throw problems.notFound(`No book ${id}.`);
      log.info({ bookId: id, fields: Object.keys(changes), by: principal.userId }, 'book updated');
      return book;
    },

    async changeStatus(principal, id, command) {
      assertAdmin(principal);
      return withTransaction(pool, async (tx) => {
        const book = await findBook(tx, id, { forUpdate: true });
        if (!book) throw problems.notFound(`No book ${id}.`);
        const next = TRANSITIONS[book.status][command];
        if (next === book.status) return book;
        const changed = await setStatus(tx, id, next);
        log.info({ bookId: id, from: book.status, to: next, by: principal.userId }, `book ${command}d`);
        return changed ?? book;
      });
    },
  };
}

/** Trimmed text PostgreSQL can store: a text value cannot hold the NUL character, so that is the caller's error, not a 500. */
function cleanText(field: string, value: string): string {
  if (value.includes('\u0000')) throw fieldProblem(field, 'must not contain the NUL character');
  return value.trim();
}

function isbnField(input: string): string {
  const parsed = parseIsbn(input);
  if (!parsed.ok) throw fieldProblem('body/isbn', `is not a valid ISBN: ${parsed.reason}`);
  return parsed.isbn13;
}

/** `ids=a,b,c`: distinct, well-formed uuids, at most MAX_IDS. */
function parseIds(raw: string): string[] {
  const parts = raw.split(',').map((s) => s.trim());
  if (parts.length > MAX_IDS) throw fieldProblem('querystring/ids', `lists ${parts.length} ids; at most ${MAX_IDS} are looked up at once`);
  const bad = parts.find((s) => !UUID.test(s));
  if (bad !== undefined) throw fieldProblem('querystring/ids', `must be comma-separated book ids (uuids); "${bad.slice(0, 40)}" is not one`);
  return [...new Set(parts.map((s) => s.toLowerCase()))];
}

function unknownCategory() {
  return problems.unprocessable('body/categoryId names no category; GET /api/categories lists them.', {
    errors: [{ field: 'body/categoryId', message: 'names no category' }],
  });
}

function duplicateIsbn(isbn: string, bookId?: string) {
  return problems.conflict(`A book with ISBN ${isbn} already exists${bookId ? ` (${bookId})` : ''}; ISBNs are unique.`, {
    ...(bookId ? { bookId } : {}),
    errors: [{ field: 'body/isbn', message: 'is already used by another book' }],
  });
}
