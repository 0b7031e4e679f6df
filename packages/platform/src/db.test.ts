import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { isTransientDatabaseError } from './db.ts';
import { type App, createServer, listen } from './http.ts';
import { createLogger } from './log.ts';
import { createTestDatabase, type TestDatabase } from './testing.ts';

let db: TestDatabase;
let app: App;
let base: string;
let tiny: pg.Pool;

before(async () => {
  db = await createTestDatabase('db');
  // One connection, quickly given up on: exhausted as soon as someone holds it.
  tiny = new pg.Pool({ connectionString: db.url, max: 1, connectionTimeoutMillis: 200 });
  app = await createServer({ name: 'db-test', log: createLogger({ name: 'db-test', level: 'silent' }), docs: false });
  app.get('/count', async () => (await tiny.query('SELECT 1 AS one')).rows[0]);
  app.get('/bug', async () => {
    throw new Error('a plain bug');
  });
  base = await listen(app, 0);
});
after(async () => {
  await app.close();
  await tiny.end();
  await db.drop();
});

test('an exhausted pool answers 503 with Retry-After, not 500', async () => {
  assert.equal((await fetch(`${base}/count`)).status, 200);
  const held = await tiny.connect();
  try {
    const res = await fetch(`${base}/count`);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '1');
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
  } finally {
    held.release();
  }
  assert.equal((await fetch(`${base}/count`)).status, 200, 'and recovers');
  assert.equal((await fetch(`${base}/bug`)).status, 500, 'a real bug is still a 500');
});

test('deadlocks, serialization conflicts and lost connections are transient; constraint violations are not', () => {
  for (const code of ['40P01', '40001', '53300', '57P01']) assert.ok(isTransientDatabaseError({ code, message: 'x' }), code);
  assert.ok(isTransientDatabaseError(new Error('Connection terminated unexpectedly')));
  for (const code of ['23505', '23514', '42P01']) assert.ok(!isTransientDatabaseError({ code, message: 'x' }), code);
  assert.ok(!isTransientDatabaseError(undefined));
});
