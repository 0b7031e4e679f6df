import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { BookAdded, OrderCancelled, OrderRefunded, StockChanged } from '@folio/contracts/events';
import type { Envelope, PayloadOf } from '@folio/platform/messaging/envelope';
import { eventually } from '@folio/platform/testing';
import { call, deliver, type InventoryFixture, listen, metric, redeliver, reserveBody, startInventory, stockBook, stockOf } from './inventory.fixture.ts';

const INITIAL = 25;

let f: InventoryFixture;
let stockEvents: Envelope<PayloadOf<typeof StockChanged>>[];

before(async () => {
  f = await startInventory('inventory-events', { INVENTORY_INITIAL_STOCK: String(INITIAL) });
  stockEvents = await listen(f.transport, StockChanged);
});
after(() => f.close());

const consumed = (outcome: string) => metric(f.url, 'folio_messages_consumed_total', { consumer: 'inventory', outcome });
const announced = (bookId: string) => stockEvents.filter((e) => e.payload.bookId === bookId).map((e) => e.payload);
const status = async (orderId: string) => (await call<{ status: string }>(f.url, 'GET', `/internal/reservations/${orderId}`)).body.status;

async function reserved(lines: { bookId: string; quantity: number }[]): Promise<string> {
  const body = reserveBody(lines);
  const res = await call(f.url, 'POST', '/internal/reservations', { body });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return body.orderId;
}

/** As the order service sends it: more than the inventory reads. */
function refunded(orderId: string, restock: boolean) {
  const payload = { orderId, restock, userId: 'reader-1', paymentId: randomUUID(), amount: { amount: 1299, currency: 'EUR' }, lines: [] };
  return deliver(f.transport, OrderRefunded, orderId, payload);
}
const cancelled = (orderId: string) => deliver(f.transport, OrderCancelled, orderId, { orderId, userId: 'reader-1', reason: 'payment window closed' });

describe('BookAdded', () => {
  test('opens the book’s stock with the initial quantity and announces it', async () => {
    const bookId = randomUUID();
    await deliver(f.transport, BookAdded, bookId, { bookId, title: 'The Salt House' });
    assert.deepEqual(await stockOf(f.pool, bookId), { onHand: INITIAL, reserved: 0, sold: 0, restocked: 0, initial: INITIAL });
    await eventually(() => announced(bookId).length > 0, { what: 'StockChanged for the new book' });
    assert.deepEqual(announced(bookId), [{ bookId, available: INITIAL, inStock: true }]);
  });

  test('a duplicate delivery, or a second announcement of the book, does nothing twice', async () => {
    const bookId = randomUUID();
    const event = await deliver(f.transport, BookAdded, bookId, { bookId, title: 'Borrowed Years' });
    // Some copies sold meanwhile: a second opening would put them back.
    const orderId = await reserved([{ bookId, quantity: 5 }]);
    await call(f.url, 'POST', `/internal/reservations/${orderId}/confirm`);
    const duplicatesBefore = await consumed('duplicate');
    await redeliver(f.transport, event);
    assert.equal(await consumed('duplicate'), duplicatesBefore + 1);
    await deliver(f.transport, BookAdded, bookId, { bookId, title: 'Borrowed Years' });
    assert.deepEqual(await stockOf(f.pool, bookId), { onHand: INITIAL - 5, reserved: 0, sold: 5, restocked: 0, initial: INITIAL });
    await eventually(() => announced(bookId).length >= 2, { what: 'StockChanged for the reservation' });
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(
      announced(bookId).map((p) => p.available),
      [INITIAL, INITIAL - 5],
      'opened once, then the reservation; the confirmation leaves availability as it was',
    );
  });

  test('a book id that is not a uuid is ignored, not retried or dead-lettered', async () => {
    const dead = await consumed('dead-lettered');
    await deliver(f.transport, BookAdded, 'SKU-123', { bookId: 'SKU-123', title: 'Odd' });
    assert.equal(await consumed('dead-lettered'), dead);
    const { rows } = await f.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM stock');
    assert.equal(rows[0]!.n, 2, 'only the two books of the tests above have stock');
  });
});

describe('OrderCancelled', () => {
  test('releases the order’s reservation and announces the freed copies', async () => {
    const bookId = await stockBook(f, 4);
    const orderId = await reserved([{ bookId, quantity: 3 }]);
    await eventually(() => announced(bookId).some((p) => p.available === 1), { what: 'StockChanged for the reservation' });
    await cancelled(orderId);
    assert.equal(await status(orderId), 'released');
    assert.deepEqual(await stockOf(f.pool, bookId), { onHand: 4, reserved: 0, sold: 0, restocked: 4, initial: 0 });
    await eventually(() => announced(bookId).at(-1)?.available === 4, { what: 'StockChanged for the release' });
    // Delivered again (another message id): still released once.
    await cancelled(orderId);
    assert.deepEqual(await stockOf(f.pool, bookId), { onHand: 4, reserved: 0, sold: 0, restocked: 4, initial: 0 });
  });

  test('leaves a confirmed order sold, and an unknown order is no error', async () => {
    const bookId = await stockBook(f, 4);
    const orderId = await reserved([{ bookId, quantity: 2 }]);
    await call(f.url, 'POST', `/internal/reservations/${orderId}/confirm`);
    const dead = await consumed('dead-lettered');
    await cancelled(orderId);
    await cancelled(randomUUID());
    assert.equal(await status(orderId), 'confirmed');
    assert.deepEqual(await stockOf(f.pool, bookId), { onHand: 2, reserved: 0, sold: 2, restocked: 4, initial: 0 });
    assert.equal(await consumed('dead-lettered'), dead);
  });
});

describe('OrderRefunded', () => {
  test('with restock, returns the confirmed copies to stock, once', async () => {
    const a = await stockBook(f, 5);
    const b = await stockBook(f, 5);
    const orderId = await reserved([
      { bookId: a, quantity: 2 },
      { bookId: b, quantity: 1 },
    ]);
    await call(f.url, 'POST', `/internal/reservations/${orderId}/confirm`);
    assert.deepEqual(await stockOf(f.pool, a), { onHand: 3, reserved: 0, sold: 2, restocked: 5, initial: 0 });

    const event = await refunded(orderId, true);
    assert.deepEqual(await stockOf(f.pool, a), { onHand: 5, reserved: 0, sold: 2, restocked: 7, initial: 0 });
    assert.deepEqual(await stockOf(f.pool, b), { onHand: 5, reserved: 0, sold: 1, restocked: 6, initial: 0 });
    const view = (await call<{ status: string; restockedAt: string | null }>(f.url, 'GET', `/internal/reservations/${orderId}`)).body;
    assert.equal(view.status, 'confirmed');
    assert.ok(view.restockedAt, 'restocked_at is recorded');
    await eventually(() => announced(a).at(-1)?.available === 5, { what: 'StockChanged for the returned copies' });

    // The same message again, and another refund message for the order: no second return.
    await redeliver(f.transport, event);
    await refunded(orderId, true);
    assert.deepEqual(await stockOf(f.pool, a), { onHand: 5, reserved: 0, sold: 2, restocked: 7, initial: 0 });
    assert.deepEqual(await stockOf(f.pool, b), { onHand: 5, reserved: 0, sold: 1, restocked: 6, initial: 0 });
  });

  test('without restock, or for an order that was never confirmed, changes nothing', async () => {
    const bookId = await stockBook(f, 5);
    const confirmed = await reserved([{ bookId, quantity: 1 }]);
    await call(f.url, 'POST', `/internal/reservations/${confirmed}/confirm`);
    await refunded(confirmed, false);
    const held = await reserved([{ bookId, quantity: 2 }]);
    await refunded(held, true);
    await refunded(randomUUID(), true);
    assert.deepEqual(await stockOf(f.pool, bookId), { onHand: 4, reserved: 2, sold: 1, restocked: 5, initial: 0 });
    assert.equal(await status(held), 'reserved');
  });
});

describe('StockChanged', () => {
  test('one event per book per change of availability, carrying the new number', async () => {
    const a = await stockBook(f, 3);
    const b = await stockBook(f, 1);
    const orderId = await reserved([
      { bookId: a, quantity: 1 },
      { bookId: b, quantity: 1 },
    ]);
    await call(f.url, 'POST', `/internal/reservations/${orderId}/release`);
    await eventually(() => announced(a).length === 3 && announced(b).length === 3, { what: 'three events per book' });
    assert.deepEqual(announced(a), [
      { bookId: a, available: 3, inStock: true },
      { bookId: a, available: 2, inStock: true },
      { bookId: a, available: 3, inStock: true },
    ]);
    assert.deepEqual(announced(b), [
      { bookId: b, available: 1, inStock: true },
      { bookId: b, available: 0, inStock: false },
      { bookId: b, available: 1, inStock: true },
    ]);
    const keys = stockEvents.filter((e) => e.payload.bookId === a).map((e) => e.aggregateId);
    assert.deepEqual(new Set(keys), new Set([a]), 'keyed by the book');
  });
});
