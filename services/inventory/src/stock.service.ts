/**
 * The rules of stock: reading is public, deliveries (restocks) need the admin role, checked on the
 * first line. A book's stock opens when the catalogue announces the book (BookAdded).
 */
import type { Principal } from '@folio/platform/auth';
import { type Pool, type Tx, withTransaction } from '@folio/platform/db';
import type { Logger } from '@folio/platform/log';
import type { Outbox } from '@folio/platform/messaging/outbox';
import { problems } from '@folio/platform/problem';
import { MAX_IDS } from './inventory.schemas.ts';
import { addCopies, findStock, openStock, type Stock } from './stock.repository.ts';
import { announceAvailability } from './stock-changed.ts';

export interface StockService {
  get(bookId: string): Promise<Stock>;
  /** The books of a comma-separated id list that have stock, in the order asked. */
  list(ids: string): Promise<Stock[]>;
  restock(principal: Principal, bookId: string, quantity: number): Promise<Stock>;
  /** BookAdded, in the consumer's transaction: opens the book's stock once. */
  open(tx: Tx, bookId: string): Promise<Stock | undefined>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PG_NUMERIC_OUT_OF_RANGE = '22003';

const fieldProblem = (field: string, message: string) => problems.badRequest(`${field} ${message}`, [{ field, message }]);

/** `ids=a,b,c`: distinct, well-formed uuids, at most MAX_IDS. */
function parseIds(raw: string): string[] {
  const parts = raw.split(',').map((s) => s.trim());
  if (parts.length > MAX_IDS) throw fieldProblem('querystring/ids', `lists ${parts.length} ids; at most ${MAX_IDS} are looked up at once`);
  const bad = parts.find((s) => !UUID.test(s));
  if (bad !== undefined) throw fieldProblem('querystring/ids', `must be comma-separated book ids (uuids); "${bad.slice(0, 40)}" is not one`);
  return [...new Set(parts.map((s) => s.toLowerCase()))];
}

export function createStockService(deps: { pool: Pool; outbox: Outbox; log: Logger; initialStock: number }): StockService {
  const { pool, outbox, log } = deps;
  return {
    async get(bookId) {
      const [stock] = await findStock(pool, [bookId.toLowerCase()]);
      if (!stock) throw problems.notFound(`No stock is kept for book ${bookId}.`);
      return stock;
    },

    async list(raw) {
      const ids = parseIds(raw);
      const byId = new Map((await findStock(pool, ids)).map((s) => [s.bookId, s]));
      return ids.flatMap((id) => byId.get(id) ?? []);
    },

    async restock(principal, bookId, quantity) {
      if (!principal.roles.includes('admin')) throw problems.forbidden('Restocking needs the "admin" role.');
      const stock = await withTransaction(pool, async (tx) => {
        const { stock, change } = await addCopies(tx, bookId.toLowerCase(), quantity);
        await announceAvailability(tx, outbox, [change]);
        return stock;
      }).catch((err: { code?: string }) => {
        if (err.code === PG_NUMERIC_OUT_OF_RANGE) throw problems.conflict(`Book ${bookId} cannot hold that many more copies.`, { bookId });
        throw err;
      });
      log.info({ bookId: stock.bookId, quantity, onHand: stock.onHand, by: principal.userId }, 'book restocked');
      return stock;
    },

    async open(tx, bookId) {
      const stock = await openStock(tx, bookId.toLowerCase(), deps.initialStock);
      if (stock) await announceAvailability(tx, outbox, [{ bookId: stock.bookId, before: stock.available, after: stock.available }], { force: true });
      return stock;
    },
  };
}
