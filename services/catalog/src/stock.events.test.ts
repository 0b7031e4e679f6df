import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StockChanged } from '@folio/contracts/events';
import { migrate, withTransaction } from '@folio/platform/db';
import { createLogger } from '@folio/platform/log';
import type { Envelope, PayloadOf } from '@folio/platform/messaging/envelope';
import { headers, topicOf } from '@folio/platform/messaging/envelope';
import { messagingMigrations, Outbox } from '@folio/platform/messaging/outbox';
import { OutboxRelay } from '@folio/platform/messaging/relay';
import { createTestDatabase, type TestDatabase } from '@folio/platform/testing';
import type { Product } from './book.schemas.ts';
import { type CatalogFixture, call, startCatalog } from './catalog.fixture.ts';
import { seedCatalog } from './seed.ts';

/**
 * The inventory service does not exist yet; this stands in for it the way it will work: a
 * StockChanged written to its own outbox in a transaction, relayed onto the bus the catalogue
 * consumes from (the same embedded transport).
 */
let f: CatalogFixture;
let inventory: TestDatabase;
let outbox: Outbox;
let relay: OutboxRelay;

before(async () => {
  f = await startCatalog('catalog-stock');
  await seedCatalog(f.pool, { books: 20 });
  inventory = await createTestDatabase('inventory-stand-in');
  await migrate(inventory.pool, [messagingMigrations]);
  outbox = new Outbox();
  relay = new OutboxRelay({ name: 'inventory', pool: inventory.pool, transport: f.transport, log: createLogger({ name: 'inventory', level: 'error' }) });
});
after(async () => {
  await f.close();
  await inventory.drop();
});

type StockEvent = Envelope<PayloadOf<typeof StockChanged>>;

/** Publishes through the inventory's outbox; resolves once the catalogue's consumer has handled it. */
async function stockChanged(bookId: string, available: number): Promise<StockEvent> {
  const event = await withTransaction(inventory.pool, (tx) =>
    outbox.publish(tx, StockChanged, { aggregateId: bookId, payload: { bookId, available, inStock: available > 0 } }),
  );
  // The embedded bus answers only once every consuming group has handled the batch.
  assert.equal(await relay.publishBatch(), 1);
  return event;
}

/** Delivers an event again, as an at-least-once broker may. */
async function redeliver(event: StockEvent): Promise<void> {
  await f.transport.publish([
    {
      topic: topicOf(StockChanged),
      key: event.aggregateId,
      value: JSON.stringify(event),
      headers: { [headers.messageId]: event.id, [headers.eventType]: event.type, [headers.correlationId]: event.correlationId },
    },
  ]);
}

const product = async (id: string) => (await call<Product>(f.url, 'GET', `/api/products/${id}`)).body;

async function consumed(outcome: string): Promise<number> {
  const text = await (await fetch(`${f.url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('folio_messages_consumed_total{') && l.includes(`outcome="${outcome}"`) && l.includes('consumer="catalog"'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('availability from StockChanged', () => {
  let bookId: string;
  before(async () => {
    bookId = (await call<{ items: Product[] }>(f.url, 'GET', '/api/products?limit=1')).body.items[0]!.id;
  });

  test('a book is out of stock until the inventory says otherwise', async () => {
    const p = await product(bookId);
    assert.equal(p.availability, 'out_of_stock');
    assert.equal(p.inStock, false);
  });

  test('events flip availability both ways, in listings too', async () => {
    await stockChanged(bookId, 5);
    assert.deepEqual(await product(bookId).then((p) => [p.availability, p.inStock]), ['in_stock', true]);
    const { rows } = await f.pool.query<{ available: number }>('SELECT available FROM books WHERE id = $1', [bookId]);
    assert.equal(rows[0]?.available, 5);
    const listed = await call<{ items: Product[] }>(f.url, 'GET', `/api/products?ids=${bookId}`);
    assert.equal(listed.body.items[0]?.availability, 'in_stock');

    await stockChanged(bookId, 0);
    assert.deepEqual(await product(bookId).then((p) => [p.availability, p.inStock]), ['out_of_stock', false]);
  });

  test('a duplicate delivery has no second effect', async () => {
    const restocked = await stockChanged(bookId, 3);
    await stockChanged(bookId, 0);
    const duplicatesBefore = await consumed('duplicate');
    // Applied again, the older event would put the book back in stock.
    await redeliver(restocked);
    assert.equal(await consumed('duplicate'), duplicatesBefore + 1);
    assert.deepEqual(await product(bookId).then((p) => [p.availability, p.inStock]), ['out_of_stock', false]);
  });

  test('an event for an unknown book is ignored, not retried or dead-lettered', async () => {
    const deadBefore = await consumed('dead-lettered');
    const appliedBefore = await consumed('applied');
    await stockChanged(crypto.randomUUID(), 7);
    await stockChanged('SKU-not-a-uuid', 7);
    assert.equal(await consumed('applied'), appliedBefore + 2);
    assert.equal(await consumed('dead-lettered'), deadBefore);
    // And the consumer still works afterwards.
    await stockChanged(bookId, 2);
    assert.equal((await product(bookId)).availability, 'in_stock');
  });
});
