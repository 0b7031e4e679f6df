import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EmbeddedTransport } from '@folio/platform/messaging/embedded-transport';
import { type RunningService, startService } from '@folio/platform/service';
import { createTestDatabase, eventually, type TestDatabase } from '@folio/platform/testing';
import { startTestIdentity, type TestIdentity } from '@folio/platform/testing-identity';
import { seedCatalog } from '../../catalog/src/seed.ts';
import catalog from '../../catalog/src/service.ts';
import { call, reserveBody, stockOf } from './inventory.fixture.ts';
import inventory from './service.ts';

/**
 * The catalogue and the inventory on one bus, each on its own database, as `npm start` runs them:
 * a book the catalogue creates or seeds gets stock in the inventory (BookAdded), and the catalogue
 * shows what the inventory says is available (StockChanged).
 */
const INITIAL = 3;

interface Product {
  id: string;
  inStock: boolean;
  availability: string;
}

describe('catalogue → inventory → catalogue', () => {
  let identity: TestIdentity;
  let transport: EmbeddedTransport;
  let catalogDb: TestDatabase;
  let inventoryDb: TestDatabase;
  let catalogService: RunningService;
  let inventoryService: RunningService;
  let adminToken: string;

  before(async () => {
    identity = await startTestIdentity();
    transport = new EmbeddedTransport();
    [catalogDb, inventoryDb] = await Promise.all([createTestDatabase('flow-catalog'), createTestDatabase('flow-inventory')]);
    const common = { PORT: '0', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error', IDENTITY_URL: identity.url };
    inventoryService = await startService(inventory, {
      env: { ...common, DATABASE_URL: inventoryDb.url, INVENTORY_INITIAL_STOCK: String(INITIAL) },
      transport,
    });
    catalogService = await startService(catalog, { env: { ...common, DATABASE_URL: catalogDb.url }, transport });
    adminToken = await identity.token('admin-1', { roles: ['admin'] });
  });
  after(async () => {
    await catalogService.close();
    await inventoryService.close();
    await transport.close();
    await identity.close();
    await Promise.all([catalogDb.drop(), inventoryDb.drop()]);
  });

  const product = async (id: string) => (await call<Product>(catalogService.url, 'GET', `/api/products/${id}`)).body;
  const stockRows = async () => (await inventoryDb.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM stock')).rows[0]!.n;

  test('a book created by an admin gets its initial stock, and the catalogue shows it in stock', async () => {
    const categories = (await call<{ items: { slug: string; children: { id: string; slug: string }[] }[] }>(catalogService.url, 'GET', '/api/categories')).body;
    const categoryId = categories.items.flatMap((c) => c.children).find((c) => c.slug === 'thriller')!.id;
    const created = await call<Product>(catalogService.url, 'POST', '/api/products', {
      token: adminToken,
      body: { title: 'Zero Hour in Geneva', authors: ['Ines Hartmann'], isbn: '9780306406157', price: { amount: 1299, currency: 'EUR' }, categoryId },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const bookId = created.body.id;
    assert.equal(created.body.inStock, false, 'nothing is sellable until the inventory says so');

    await eventually(async () => (await stockOf(inventoryDb.pool, bookId))?.onHand === INITIAL, { what: 'the inventory to open stock for the book' });
    await eventually(async () => (await product(bookId)).inStock, { what: 'the catalogue to show the book in stock' });

    // Selling every copy takes it out of stock in the catalogue.
    const body = reserveBody([{ bookId, quantity: INITIAL }]);
    assert.equal((await call(inventoryService.url, 'POST', '/internal/reservations', { body })).status, 201);
    await eventually(async () => (await product(bookId)).availability === 'out_of_stock', { what: 'the catalogue to show the book out of stock' });
    // Released, it is back.
    await call(inventoryService.url, 'POST', `/internal/reservations/${body.orderId}/release`);
    await eventually(async () => (await product(bookId)).inStock, { what: 'the book back in stock' });
  });

  test('seeded books get stock; seeding again adds stock only for the books that are new', async () => {
    const before = await stockRows();
    const seeded = await seedCatalog(catalogDb.pool, { books: 60 });
    assert.equal(seeded.inserted, 60);
    await eventually(async () => (await stockRows()) === before + 60, { what: 'stock for the 60 seeded books' });
    const { rows } = await inventoryDb.pool.query<{ onHand: number; initial: number }>('SELECT DISTINCT on_hand AS "onHand", initial FROM stock');
    assert.deepEqual(rows, [{ onHand: INITIAL, initial: INITIAL }]);

    // A seeded book's copies sold: seeding again must not reopen (refill) its stock.
    const { rows: ids } = await catalogDb.pool.query<{ id: string }>('SELECT id FROM books ORDER BY isbn LIMIT 1 OFFSET 5');
    const soldOut = ids[0]!.id;
    const body = reserveBody([{ bookId: soldOut, quantity: INITIAL }]);
    await call(inventoryService.url, 'POST', '/internal/reservations', { body });
    await call(inventoryService.url, 'POST', `/internal/reservations/${body.orderId}/confirm`);

    const more = await seedCatalog(catalogDb.pool, { books: 80 });
    assert.equal(more.inserted, 20);
    await eventually(async () => (await stockRows()) === before + 80, { what: 'stock for the 20 new books' });
    await eventually(async () => (await catalogDb.pool.query('SELECT 1 FROM outbox')).rowCount === 0, { what: 'the catalogue outbox to drain' });
    assert.deepEqual(await stockOf(inventoryDb.pool, soldOut), { onHand: 0, reserved: 0, sold: INITIAL, restocked: 0, initial: INITIAL });
    await eventually(async () => !(await product(soldOut)).inStock, { what: 'the sold-out book out of stock in the catalogue' });
  });
});
