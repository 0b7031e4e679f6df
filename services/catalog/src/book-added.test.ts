import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BookAdded } from '@folio/contracts/events';
import type { Envelope, PayloadOf } from '@folio/platform/messaging/envelope';
import { topicOf } from '@folio/platform/messaging/envelope';
import type { Subscription } from '@folio/platform/messaging/transport';
import { eventually } from '@folio/platform/testing';
import type { Product } from './book.schemas.ts';
import { type CatalogFixture, call, startCatalog } from './catalog.fixture.ts';
import type { CategoryTree } from './category.schemas.ts';
import { seedCatalog } from './seed.ts';

/**
 * BookAdded leaves the catalogue through its outbox, in the transaction that creates the book. A
 * subscriber on the same embedded bus stands in for the inventory service.
 */
type Added = Envelope<PayloadOf<typeof BookAdded>>;

let f: CatalogFixture;
let subscription: Subscription;
const received: Added[] = [];

before(async () => {
  f = await startCatalog('catalog-book-added');
  subscription = await f.transport.subscribe({
    groupId: 'inventory-stand-in',
    topics: [topicOf(BookAdded)],
    handler: async (m) => {
      received.push(JSON.parse(m.value) as Added);
    },
  });
});
after(async () => {
  await subscription.close();
  await f.close();
});

const addedFor = (bookId: string) => received.filter((e) => e.payload.bookId === bookId);
const outboxRows = async () => (await f.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox')).rows[0]!.n;

describe('BookAdded', () => {
  test('a book created through the admin API is announced once, keyed by its id', async () => {
    const tree = (await call<CategoryTree>(f.url, 'GET', '/api/categories')).body.items;
    const fantasy = tree.flatMap((c) => c.children).find((c) => c.slug === 'fantasy')!;
    const body = {
      title: 'The Cartographer of Tides',
      authors: ['Wilhelmina Trask'],
      isbn: '978-0-306-40615-7',
      price: { amount: 1499, currency: 'EUR' },
      categoryId: fantasy.id,
    };
    const created = await call<Product>(f.url, 'POST', '/api/products', { token: f.adminToken, body });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const bookId = created.body.id;

    const events = await eventually(() => addedFor(bookId).length > 0 && addedFor(bookId), { what: 'BookAdded for the created book' });
    assert.equal(events.length, 1);
    assert.equal(events[0]!.type, BookAdded.type);
    assert.equal(events[0]!.aggregateId, bookId);
    assert.deepEqual(events[0]!.payload, { bookId, title: 'The Cartographer of Tides' });

    // A refused creation (the ISBN is taken) rolls back its event with it.
    await eventually(async () => (await outboxRows()) === 0, { what: 'the relay to finish with the first event' });
    const before = received.length;
    const duplicate = await call(f.url, 'POST', '/api/products', { token: f.adminToken, body: { ...body, title: 'Another' } });
    assert.equal(duplicate.status, 409);
    assert.equal(await outboxRows(), 0);
    assert.equal(received.length, before);
  });

  test('the seed announces every book it inserts, and only those', async () => {
    const seeded = await seedCatalog(f.pool, { books: 30 });
    assert.equal(seeded.inserted, 30);
    const { rows } = await f.pool.query<{ id: string; title: string }>('SELECT id, title FROM books WHERE isbn <> $1', ['9780306406157']);
    assert.equal(rows.length, 30);
    await eventually(() => rows.every((r) => addedFor(r.id).length > 0), { what: 'BookAdded for the 30 seeded books' });
    for (const r of rows)
      assert.deepEqual(
        addedFor(r.id).map((e) => e.payload),
        [{ bookId: r.id, title: r.title }],
      );

    // Seeding again with more: only the books that follow are new, and only they are announced.
    const total = received.length;
    const more = await seedCatalog(f.pool, { books: 45 });
    assert.equal(more.inserted, 15);
    await eventually(async () => received.length >= total + 15 && (await outboxRows()) === 0, { what: 'the 15 new books announced' });
    const fresh = received.slice(total).map((e) => e.payload.bookId);
    const existing = new Set(rows.map((r) => r.id));
    assert.equal(new Set(fresh).size, 15);
    assert.ok(
      fresh.every((id) => !existing.has(id)),
      'no event for a book that already existed',
    );
    const { rows: all } = await f.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM books');
    assert.equal(all[0]!.n, 46);
  });
});
