import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { migrate, type Pool } from '@folio/platform/db';
import { EmbeddedTransport } from '@folio/platform/messaging/embedded-transport';
import { messagingMigrations } from '@folio/platform/messaging/outbox';
import { startService } from '@folio/platform/service';
import { createTestDatabase, type TestDatabase } from '@folio/platform/testing';
import { startTestIdentity, type TestIdentity } from '@folio/platform/testing-identity';
import type { ProductPage } from './book.schemas.ts';
import { parseIsbn } from './isbn.ts';
import { DEFAULT_SEED_BOOKS, seedCatalog } from './seed.ts';
import catalog from './service.ts';

const seedCli = fileURLToPath(new URL('./seed-cli.ts', import.meta.url));

const snapshot = async (pool: Pool) =>
  (
    await pool.query(
      `SELECT b.id, b.isbn, b.title, b.authors, b.description, b.price_amount, b.price_currency, c.slug
       FROM books b LEFT JOIN categories c ON c.id = b.category_id ORDER BY b.isbn`,
    )
  ).rows;

describe('the demo catalogue seed', () => {
  let a: TestDatabase;
  let b: TestDatabase;
  before(async () => {
    [a, b] = await Promise.all([createTestDatabase('seed-a'), createTestDatabase('seed-b')]);
    await Promise.all([a, b].map((db) => migrate(db.pool, [messagingMigrations, catalog.migrations!])));
  });
  after(async () => {
    await Promise.all([a.drop(), b.drop()]);
  });

  test('is deterministic: two fresh databases get the same books', async () => {
    await seedCatalog(a.pool, { books: 400 });
    await seedCatalog(b.pool, { books: 400 });
    const [rowsA, rowsB] = await Promise.all([snapshot(a.pool), snapshot(b.pool)]);
    assert.equal(rowsA.length, 400);
    assert.deepEqual(rowsA, rowsB);
  });

  test('is realistic: valid ISBN-13s, euro prices from 7.99 to 49.99, authors and a sub-category for every book', async () => {
    const rows = await snapshot(a.pool);
    for (const r of rows) {
      assert.deepEqual(parseIsbn(r.isbn), { ok: true, isbn13: r.isbn });
      assert.ok(r.price_amount >= 799 && r.price_amount <= 4999 && Number.isInteger(r.price_amount), `${r.price_amount}`);
      assert.equal(r.price_currency, 'EUR');
      assert.ok(r.authors.length >= 1 && r.authors.length <= 3);
      assert.ok(r.slug, `${r.title} has a category`);
      assert.ok(r.description.length > 20);
    }
    assert.ok(new Set(rows.map((r) => r.slug)).size >= 15, 'books spread over the categories');
    assert.ok(new Set(rows.flatMap((r) => r.authors)).size >= 100, 'many authors');
    assert.ok(new Set(rows.map((r) => r.title)).size >= 300, 'mostly different titles');
  });

  test('is idempotent, and a larger seed only adds the books that follow', async () => {
    const before = await snapshot(a.pool);
    const again = await seedCatalog(a.pool, { books: 400 });
    assert.deepEqual([again.books, again.inserted], [400, 0]);
    assert.deepEqual(await snapshot(a.pool), before);

    const lines: string[] = [];
    const more = await seedCatalog(a.pool, { books: 1200, log: (l) => lines.push(l) });
    assert.equal(more.inserted, 800);
    const after = await snapshot(a.pool);
    assert.equal(after.length, 1200);
    const byIsbn = new Map(after.map((r) => [r.isbn, r]));
    for (const r of before) assert.deepEqual(byIsbn.get(r.isbn), r);
    assert.ok(lines.some((l) => l.includes('500/1200')) && lines.some((l) => l.includes('1000/1200')), 'progress every 500 books');
  });

  test('the CLI seeds the database DATABASE_URL names', async () => {
    const db = await createTestDatabase('seed-cli');
    try {
      const child = spawn(process.execPath, [seedCli, '--books', '250'], { env: { ...process.env, DATABASE_URL: db.url }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
      });
      child.stderr.on('data', (c: Buffer) => {
        out += c.toString();
      });
      const code = await new Promise((resolve) => child.on('exit', resolve));
      assert.equal(code, 0, out);
      assert.match(out, /250 of 250 books added/);
      // The first 250 books of the same sequence the other databases got.
      const seeded = await snapshot(db.pool);
      const reference = new Map((await snapshot(b.pool)).map((r) => [r.isbn, r]));
      assert.equal(seeded.length, 250);
      for (const r of seeded) assert.deepEqual(reference.get(r.isbn), r);
      const bad = spawn(process.execPath, [seedCli, '--books', 'many'], { env: { ...process.env, DATABASE_URL: db.url }, stdio: 'ignore' });
      assert.equal(await new Promise((resolve) => bad.on('exit', resolve)), 2);
    } finally {
      await db.drop();
    }
  });
});

describe('CATALOG_SEED_IF_EMPTY', () => {
  let db: TestDatabase;
  let identity: TestIdentity;
  before(async () => {
    db = await createTestDatabase('seed-start');
    identity = await startTestIdentity();
  });
  after(async () => {
    await identity.close();
    await db.drop();
  });

  const start = (seed: string) =>
    startService(catalog, {
      env: { DATABASE_URL: db.url, PORT: '0', LOG_LEVEL: 'error', IDENTITY_URL: identity.url, CATALOG_SEED_IF_EMPTY: seed },
      transport: new EmbeddedTransport(),
    });
  const count = async () => (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM books')).rows[0]!.n;

  test('off by default: the catalogue starts empty', async () => {
    const service = await start('');
    try {
      assert.equal(await count(), 0);
    } finally {
      await service.close();
    }
  });

  test(`seeds ${DEFAULT_SEED_BOOKS} books into an empty catalogue before serving, in a few seconds, and only once`, async () => {
    const started = performance.now();
    const service = await start('true');
    const seconds = (performance.now() - started) / 1000;
    try {
      const page = (await (await fetch(`${service.url}/api/products?limit=5`)).json()) as ProductPage;
      assert.equal(page.items.length, 5, 'books are there as soon as the service answers');
      assert.equal(await count(), DEFAULT_SEED_BOOKS);
      assert.ok(seconds < 10, `start-up with the seed took ${seconds.toFixed(1)} s`);
    } finally {
      await service.close();
    }
    await db.pool.query("UPDATE books SET title = 'Kept' WHERE isbn = (SELECT min(isbn) FROM books)");
    await db.pool.query('DELETE FROM books WHERE isbn = (SELECT max(isbn) FROM books)');
    const again = await start('true');
    try {
      assert.equal(await count(), DEFAULT_SEED_BOOKS - 1, 'a catalogue with books is left alone');
      assert.equal((await db.pool.query("SELECT 1 FROM books WHERE title = 'Kept'")).rowCount, 1);
    } finally {
      await again.close();
    }
  });
});
