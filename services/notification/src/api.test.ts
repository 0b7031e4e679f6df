/** GET /api/notifications: a reader's own notifications, newest first, paged; nobody else's. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { get, type NotificationFixture, orderEvents, startNotification } from './notification.fixture.ts';
import type { NotificationPage } from './notification.schemas.ts';

let f: NotificationFixture;
let ada: string;
let ben: string;
let nobody: string;

before(async () => {
  f = await startNotification('notification-api');
  [ada, ben, nobody] = await Promise.all([f.identity.token('ada'), f.identity.token('ben'), f.identity.token('nobody')]);
  const adas = orderEvents(f.transport, { userId: 'ada', email: 'ada@example.org' });
  await adas.created();
  await adas.paymentFailed();
  await adas.paid();
  await adas.refunded();
  const bens = orderEvents(f.transport, { userId: 'ben', email: 'ben@example.org' });
  await bens.created();
  await bens.cancelled();
});
after(() => f.close());

const page = (token: string | undefined, query = '') => get<NotificationPage>(f.url, `/api/notifications${query}`, token);

describe('GET /api/notifications', () => {
  test('needs a signed-in reader', async () => {
    const res = await page(undefined);
    assert.equal(res.status, 401);
    assert.equal((await get(f.url, '/api/notifications', 'not-a-token')).status, 401);
  });

  test('answers the reader’s own, newest first, in the documented shape', async () => {
    const res = await page(ada);
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.items.map((n) => n.type),
      ['order-refunded', 'order-paid', 'payment-failed'],
    );
    const [refund] = res.body.items;
    assert.deepEqual(Object.keys(refund!).sort(), ['createdAt', 'id', 'message', 'orderId', 'sentAt', 'status', 'subject', 'type']);
    assert.match(refund!.subject, /Your refund of €31\.92/);
    assert.equal(refund!.status, 'sent');
    assert.ok(refund!.sentAt && !Number.isNaN(Date.parse(refund!.sentAt)));
    assert.equal(res.body.nextCursor, null);
  });

  test('another reader sees only theirs, and a reader without any sees none', async () => {
    const bens = await page(ben);
    assert.deepEqual(
      bens.body.items.map((n) => n.type),
      ['order-cancelled'],
    );
    const adaIds = new Set((await page(ada)).body.items.map((n) => n.orderId));
    assert.ok(!adaIds.has(bens.body.items[0]!.orderId));
    assert.deepEqual((await page(nobody)).body, { items: [], nextCursor: null });
  });

  test('pages by cursor without gaps or repeats', async () => {
    const first = await page(ada, '?limit=2');
    assert.equal(first.body.items.length, 2);
    assert.ok(first.body.nextCursor);
    const second = await page(ada, `?limit=2&cursor=${first.body.nextCursor}`);
    assert.equal(second.body.items.length, 1);
    assert.equal(second.body.nextCursor, null);
    const all = (await page(ada)).body.items.map((n) => n.id);
    assert.deepEqual(
      [...first.body.items, ...second.body.items].map((n) => n.id),
      all,
    );
    // Ben's cursor position does not open Ada's list to him: the list is always the caller's.
    const bensNext = await page(ben, `?limit=1&cursor=${first.body.nextCursor}`);
    assert.ok(bensNext.body.items.every((n) => n.type === 'order-cancelled'));
  });

  test('a bad limit or cursor is a 400 naming the field', async () => {
    for (const [query, field] of [
      ['?limit=0', 'limit'],
      ['?limit=51', 'limit'],
      ['?cursor=bm9wZQ', 'querystring/cursor'],
      ['?cursor=not*base64', 'querystring/cursor'],
      ['?colour=red', ''],
    ] as const) {
      const res = await get<{ status: number; errors?: { field: string }[] }>(f.url, `/api/notifications${query}`, ada);
      assert.equal(res.status, 400, query);
      if (field)
        assert.ok(
          res.body.errors?.some((e) => e.field.includes(field)),
          `${query}: ${JSON.stringify(res.body)}`,
        );
    }
  });

  test('is in the OpenAPI document, with its security', async () => {
    const doc = (await get<{ paths: Record<string, { get?: { tags?: string[]; security?: unknown[] } }> }>(f.url, '/openapi.json')).body;
    const op = doc.paths['/api/notifications']?.get;
    assert.deepEqual(op?.tags, ['notifications']);
    assert.deepEqual(op?.security, [{ bearerAuth: [] }]);
  });
});
