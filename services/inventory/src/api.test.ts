import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type Answer, call, type InventoryFixture, reserveBody, startInventory, stockBook } from './inventory.fixture.ts';
import type { ReservationView, StockView } from './inventory.schemas.ts';

interface Problem {
  type: string;
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
}

let f: InventoryFixture;

before(async () => {
  f = await startInventory('inventory-api');
});
after(() => f.close());

/** A 4xx problem+json whose errors name `field`. */
function assertProblem(res: Answer, status: number, field?: string) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(res.contentType, /application\/problem\+json/);
  if (field === undefined) return;
  const fields = ((res.body as Problem).errors ?? []).map((e) => e.field);
  assert.ok(fields.includes(field), `expected an error naming ${field}, got ${JSON.stringify(res.body)}`);
}

describe('public stock', () => {
  test('one book, several books; a book without stock is a 404 alone and left out of a list', async () => {
    const a = await stockBook(f, 7);
    const b = await stockBook(f, 2);
    await call(f.url, 'POST', '/internal/reservations', { body: reserveBody([{ bookId: b, quantity: 1 }]) });
    const one = await call<StockView>(f.url, 'GET', `/api/inventory/${a}`);
    assert.equal(one.status, 200);
    assert.deepEqual(one.body, { bookId: a, onHand: 7, reserved: 0, available: 7 });
    assertProblem(await call(f.url, 'GET', `/api/inventory/${randomUUID()}`), 404);
    const unknown = randomUUID();
    const list = await call<{ items: StockView[] }>(f.url, 'GET', `/api/inventory?ids=${b},${unknown},${a.toUpperCase()}`);
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.deepEqual(list.body.items, [
      { bookId: b, onHand: 2, reserved: 1, available: 1 },
      { bookId: a, onHand: 7, reserved: 0, available: 7 },
    ]);
  });
});

describe('admin restock', () => {
  test('adds copies, opening the stock of a book that had none', async () => {
    const bookId = randomUUID();
    const first = await call<StockView>(f.url, 'POST', `/api/inventory/${bookId}/restock`, { token: f.adminToken, body: { quantity: 10 } });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(first.body, { bookId, onHand: 10, reserved: 0, available: 10 });
    const more = await call<StockView>(f.url, 'POST', `/api/inventory/${bookId}/restock`, { token: f.adminToken, body: { quantity: 10_000 } });
    assert.deepEqual(more.body, { bookId, onHand: 10_010, reserved: 0, available: 10_010 });
  });

  test('401 without a token, 403 for a customer, and nothing changes', async () => {
    const bookId = await stockBook(f, 1);
    const path = `/api/inventory/${bookId}/restock`;
    assertProblem(await call(f.url, 'POST', path, { body: { quantity: 5 } }), 401);
    assertProblem(await call(f.url, 'POST', path, { body: { quantity: 5 }, token: 'not-a-token' }), 401);
    assertProblem(await call(f.url, 'POST', path, { body: { quantity: 5 }, token: f.customerToken }), 403);
    // The token is checked before the input: a customer learns nothing about the body.
    assertProblem(await call(f.url, 'POST', path, { body: { quantity: 0 }, token: f.customerToken }), 403);
    assert.equal((await call<StockView>(f.url, 'GET', `/api/inventory/${bookId}`)).body.onHand, 1);
  });
});

describe('admin reservation listing', () => {
  test('by order, by status, newest first; admins only', async () => {
    const bookId = await stockBook(f, 5);
    const first = reserveBody([{ bookId, quantity: 1 }]);
    const second = reserveBody([{ bookId, quantity: 2 }]);
    await call(f.url, 'POST', '/internal/reservations', { body: first });
    await call(f.url, 'POST', '/internal/reservations', { body: second });
    await call(f.url, 'POST', `/internal/reservations/${first.orderId}/confirm`);

    const byOrder = await call<{ items: ReservationView[] }>(f.url, 'GET', `/api/inventory/reservations?orderId=${second.orderId}`, { token: f.adminToken });
    assert.equal(byOrder.status, 200, JSON.stringify(byOrder.body));
    assert.equal(byOrder.body.items.length, 1);
    assert.deepEqual(byOrder.body.items[0]!.lines, second.lines);
    assert.equal(byOrder.body.items[0]!.status, 'reserved');

    const confirmed = await call<{ items: ReservationView[] }>(f.url, 'GET', '/api/inventory/reservations?status=confirmed', { token: f.adminToken });
    assert.ok(confirmed.body.items.some((r) => r.orderId === first.orderId));
    assert.ok(confirmed.body.items.every((r) => r.status === 'confirmed' && r.confirmedAt));

    const newest = await call<{ items: ReservationView[] }>(f.url, 'GET', '/api/inventory/reservations?limit=2', { token: f.adminToken });
    assert.deepEqual(
      newest.body.items.map((r) => r.orderId),
      [second.orderId, first.orderId],
    );

    assertProblem(await call(f.url, 'GET', '/api/inventory/reservations'), 401);
    assertProblem(await call(f.url, 'GET', '/api/inventory/reservations', { token: f.customerToken }), 403);
  });
});

describe('bad input is a 4xx problem naming the field, never a 500', () => {
  const admin = (path: string, body?: unknown) => call(f.url, 'POST', path, { token: f.adminToken, body });

  test('restock', async () => {
    const path = `/api/inventory/${randomUUID()}/restock`;
    assertProblem(await admin(path, { quantity: 0 }), 400, 'body/quantity');
    assertProblem(await admin(path, { quantity: 10_001 }), 400, 'body/quantity');
    assertProblem(await admin(path, { quantity: 1.5 }), 400, 'body/quantity');
    assertProblem(await admin(path, { quantity: '5' }), 400, 'body/quantity');
    assertProblem(await admin(path, {}), 400, 'body/quantity');
    assertProblem(await admin(path, { quantity: 1, note: 'x' }), 400, 'body/note');
    assertProblem(await admin('/api/inventory/not-a-uuid/restock', { quantity: 1 }), 400, 'params/bookId');
    assertProblem(await call(f.url, 'POST', path, { token: f.adminToken, raw: '{"quantity": ' }), 400);
  });

  test('stock reads', async () => {
    assertProblem(await call(f.url, 'GET', '/api/inventory/12345'), 400, 'params/bookId');
    assertProblem(await call(f.url, 'GET', '/api/inventory'), 400, 'querystring/ids');
    assertProblem(await call(f.url, 'GET', '/api/inventory?ids=abc'), 400, 'querystring/ids');
    const tooMany = Array.from({ length: 101 }, () => randomUUID()).join(',');
    assertProblem(await call(f.url, 'GET', `/api/inventory?ids=${tooMany}`), 400, 'querystring/ids');
    assertProblem(await call(f.url, 'GET', '/api/inventory/reservations?limit=0', { token: f.adminToken }), 400, 'querystring/limit');
    assertProblem(await call(f.url, 'GET', '/api/inventory/reservations?status=lost', { token: f.adminToken }), 400, 'querystring/status');
    assertProblem(await call(f.url, 'GET', '/api/inventory/reservations?orderId=1', { token: f.adminToken }), 400, 'querystring/orderId');
  });

  test('reservations', async () => {
    const bookId = await stockBook(f, 200);
    const good = reserveBody([{ bookId, quantity: 1 }]);
    const reserve = (body: unknown) => call(f.url, 'POST', '/internal/reservations', { body });
    assertProblem(await reserve({ ...good, orderId: 'order-1' }), 400, 'body/orderId');
    assertProblem(await reserve({ ...good, lines: [] }), 400, 'body/lines');
    assertProblem(await reserve({ ...good, lines: [{ bookId, quantity: 0 }] }), 400, 'body/lines/0/quantity');
    assertProblem(await reserve({ ...good, lines: [{ bookId, quantity: 100 }] }), 400, 'body/lines/0/quantity');
    assertProblem(await reserve({ ...good, lines: [{ bookId: 'x', quantity: 1 }] }), 400, 'body/lines/0/bookId');
    assertProblem(await reserve({ ...good, lines: Array.from({ length: 51 }, () => ({ bookId: randomUUID(), quantity: 1 })) }), 400, 'body/lines');
    assertProblem(
      await reserve({
        ...good,
        lines: [
          { bookId, quantity: 1 },
          { bookId: bookId.toUpperCase(), quantity: 2 },
        ],
      }),
      400,
      'body/lines/1/bookId',
    );
    assertProblem(await reserve({ ...good, expiresAt: 'tomorrow' }), 400, 'body/expiresAt');
    assertProblem(await reserve({ ...good, expiresAt: new Date(Date.now() - 1000).toISOString() }), 400, 'body/expiresAt');
    assertProblem(await reserve({ ...good, expiresAt: new Date(Date.now() + 8 * 86_400_000).toISOString() }), 400, 'body/expiresAt');
    assertProblem(await reserve({ ...good, extra: true }), 400, 'body/extra');
    const { orderId: _, ...withoutOrder } = good;
    assertProblem(await reserve(withoutOrder), 400, 'body/orderId');
    for (const action of ['confirm', 'release']) assertProblem(await call(f.url, 'POST', `/internal/reservations/nope/${action}`), 400, 'params/orderId');
    assertProblem(await call(f.url, 'GET', '/internal/reservations/nope'), 400, 'params/orderId');
    // None of it reserved anything.
    assert.equal((await call<StockView>(f.url, 'GET', `/api/inventory/${bookId}`)).body.reserved, 0);
  });
});

test('the OpenAPI document describes every route, with security on the admin ones', async () => {
  const doc = (await call<{ paths: Record<string, Record<string, { summary?: string; security?: unknown[] }>> }>(f.url, 'GET', '/openapi.json')).body;
  const expected: [string, string, boolean][] = [
    ['/api/inventory', 'get', false],
    ['/api/inventory/{bookId}', 'get', false],
    ['/api/inventory/{bookId}/restock', 'post', true],
    ['/api/inventory/reservations', 'get', true],
    ['/internal/reservations', 'post', false],
    ['/internal/reservations/{orderId}', 'get', false],
    ['/internal/reservations/{orderId}/confirm', 'post', false],
    ['/internal/reservations/{orderId}/release', 'post', false],
  ];
  for (const [path, method, secured] of expected) {
    const op = doc.paths[path]?.[method];
    assert.ok(op?.summary, `${method} ${path} is documented`);
    assert.equal(Boolean(op.security?.length), secured, `${method} ${path} security`);
  }
});
