/** Idempotency-Key records against a real PostgreSQL (the order service's own migration). */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { migrate } from '@folio/platform/db';
import { messagingMigrations } from '@folio/platform/messaging/outbox';
import { folderOf } from '@folio/platform/service';
import { createTestDatabase, type TestDatabase } from '@folio/platform/testing';
import { canonicalJson, claimKey, completeKey, deleteExpiredKeys, expireLease, holdKey, releaseKey, requestHash } from './idempotency.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('order_idem');
  await migrate(db.pool, [messagingMigrations, folderOf(new URL('../migrations', import.meta.url))]);
});
after(async () => {
  await db?.drop();
});

const request = (over: Partial<Parameters<typeof claimKey>[1]> = {}) => ({
  userId: 'reader-1',
  key: randomUUID(),
  requestHash: requestHash('POST /api/orders', { a: 1 }),
  orderId: randomUUID(),
  leaseSeconds: 60,
  ...over,
});

describe('request hashes', () => {
  test('the same body in any key order hashes the same; another body does not', () => {
    assert.equal(canonicalJson({ b: [1, { y: 2, x: 1 }], a: 'x' }), '{"a":"x","b":[1,{"x":1,"y":2}]}');
    assert.equal(requestHash('op', { a: 1, b: { c: 2, d: 3 } }), requestHash('op', { b: { d: 3, c: 2 }, a: 1 }));
    assert.notEqual(requestHash('op', { a: 1 }), requestHash('op', { a: 2 }));
    assert.notEqual(requestHash('op', { a: 1 }), requestHash('other', { a: 1 }));
  });
});

describe('claiming a key', () => {
  test('the first claim owns it with its order id; a second one while it runs is busy', async () => {
    const r = request();
    assert.deepEqual(await claimKey(db.pool, r), { kind: 'owned', orderId: r.orderId, resumed: false });
    const again = await claimKey(db.pool, { ...r, orderId: randomUUID() });
    assert.equal(again.kind, 'busy');
    assert.ok(again.kind === 'busy' && again.retryAfterSeconds >= 1 && again.retryAfterSeconds <= 5);
  });

  test('a finished key answers the first answer again; with another request, a mismatch', async () => {
    const r = request();
    await claimKey(db.pool, r);
    await completeKey(db.pool, r.userId, r.key, 201, { id: r.orderId, total: 1234 });
    assert.deepEqual(await claimKey(db.pool, { ...r, orderId: randomUUID() }), { kind: 'replay', status: 201, body: { id: r.orderId, total: 1234 } });
    assert.deepEqual(await claimKey(db.pool, { ...r, requestHash: requestHash('POST /api/orders', { a: 2 }) }), { kind: 'mismatch' });
  });

  test('a different request with a key still running is a mismatch, not busy', async () => {
    const r = request();
    await claimKey(db.pool, r);
    assert.deepEqual(await claimKey(db.pool, { ...r, requestHash: 'other' }), { kind: 'mismatch' });
  });

  test('keys are per reader', async () => {
    const r = request();
    await claimKey(db.pool, r);
    const other = await claimKey(db.pool, { ...r, userId: 'reader-2', orderId: randomUUID() });
    assert.equal(other.kind, 'owned');
  });

  test('after a crash (the lease ran out) a retry takes the key over with the same order id', async () => {
    const r = request({ leaseSeconds: 0 });
    await claimKey(db.pool, r);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(await claimKey(db.pool, { ...r, orderId: randomUUID(), leaseSeconds: 60 }), { kind: 'owned', orderId: r.orderId, resumed: true });
    assert.equal((await claimKey(db.pool, { ...r, orderId: randomUUID() })).kind, 'busy', 'the taker holds it now');
  });

  test('a key given back (an outage) runs afresh with a new order id', async () => {
    const r = request();
    await claimKey(db.pool, r);
    await releaseKey(db.pool, r.userId, r.key);
    const fresh = randomUUID();
    assert.deepEqual(await claimKey(db.pool, { ...r, orderId: fresh }), { kind: 'owned', orderId: fresh, resumed: false });
  });

  test('a key whose order exists is handed back by ending its lease: a retry resumes the same order at once', async () => {
    const r = request();
    await claimKey(db.pool, r);
    await expireLease(db.pool, r.userId, r.key);
    assert.deepEqual(await claimKey(db.pool, { ...r, orderId: randomUUID() }), { kind: 'owned', orderId: r.orderId, resumed: true });
  });

  test('a running request renews its lease; once it stops (a crash), a retry takes over within the lease', async () => {
    const r = request({ leaseSeconds: 1 });
    await claimKey(db.pool, r);
    const stop = holdKey(db.pool, r, 200);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal((await claimKey(db.pool, { ...r, orderId: randomUUID() })).kind, 'busy', 'still held after longer than the lease');
    stop();
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    assert.deepEqual(await claimKey(db.pool, { ...r, orderId: randomUUID() }), { kind: 'owned', orderId: r.orderId, resumed: true });
  });

  test('concurrent claims: exactly one owns the key', async () => {
    const r = request();
    const claims = await Promise.all(Array.from({ length: 8 }, () => claimKey(db.pool, { ...r, orderId: randomUUID() })));
    assert.equal(claims.filter((c) => c.kind === 'owned').length, 1);
    assert.equal(claims.filter((c) => c.kind === 'busy').length, 7);
  });

  test('old keys expire', async () => {
    const r = request();
    await claimKey(db.pool, r);
    await completeKey(db.pool, r.userId, r.key, 201, {});
    await db.pool.query(`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1`, [r.key]);
    assert.ok((await deleteExpiredKeys(db.pool, 24, 100)) >= 1);
    assert.equal((await claimKey(db.pool, { ...r, orderId: randomUUID() })).kind, 'owned');
  });
});
