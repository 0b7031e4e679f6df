/** LISTEN/NOTIFY long polling against a real PostgreSQL: a committed NOTIFY wakes the watchers of its key only. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ChangeListener } from './change-listener.ts';
import { createLogger } from './log.ts';
import { createTestDatabase, type TestDatabase } from './testing.ts';

let db: TestDatabase;
let listener: ChangeListener;
before(async () => {
  db = await createTestDatabase('change_listener');
  listener = new ChangeListener({ databaseUrl: db.url, channel: 'thing_changed', log: createLogger({ name: 'test', level: 'error' }) });
  await listener.start();
});
after(async () => {
  await listener?.close();
  await db?.drop();
});

describe('ChangeListener', () => {
  test('a committed notification wakes the watchers of its key, and only them', async () => {
    const a = listener.watch('a', 5_000);
    const b = listener.watch('b', 300);
    await db.pool.query(`SELECT pg_notify('thing_changed', 'a')`);
    assert.equal(await a.changed, true);
    assert.equal(await b.changed, false, 'b timed out: its key did not change');
  });

  test('a notification in a transaction that rolls back wakes nobody', async () => {
    const a = listener.watch('a', 400);
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_notify('thing_changed', 'a')`);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    assert.equal(await a.changed, false);
  });

  test('cancel and close end a watch as unchanged', async () => {
    const a = listener.watch('a', 5_000);
    a.cancel();
    assert.equal(await a.changed, false);
    const other = new ChangeListener({ databaseUrl: db.url, channel: 'thing_changed', log: createLogger({ name: 'test', level: 'error' }) });
    await other.start();
    const b = other.watch('b', 5_000);
    await other.close();
    assert.equal(await b.changed, false);
    assert.equal(await other.watch('b', 5_000).changed, false, 'a closed listener does not wait');
  });
});
