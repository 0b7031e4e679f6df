import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { INSUFFICIENT_STOCK, RESERVATION_LOST } from '@folio/contracts/internal';
import { withTransaction } from '@folio/platform/db';
import { eventually } from '@folio/platform/testing';
import { call, type InventoryFixture, reserveBody, startInventory, stockBook, stockOf } from './inventory.fixture.ts';

/** A reservation, or a problem: the tests look at whichever came. */
interface Body {
  orderId: string;
  status: string | number;
  lines: { bookId: string; quantity: number }[];
  expiresAt: string | null;
  confirmedAt?: string | null;
  releasedAt?: string | null;
  restockedAt?: string | null;
  type?: string;
  detail?: string;
  books?: { bookId: string; requested: number; available: number }[];
}

let f: InventoryFixture;

before(async () => {
  // A quick sweeper, so a reservation with a short deadline expires within the test.
  f = await startInventory('inventory-reservations', { RESERVATION_SWEEP_INTERVAL_MS: '50' });
});
after(() => f.close());

const reserve = (body: unknown) => call<Body>(f.url, 'POST', '/internal/reservations', { body });
const confirm = (orderId: string) => call<Body>(f.url, 'POST', `/internal/reservations/${orderId}/confirm`);
const release = (orderId: string) => call<Body>(f.url, 'POST', `/internal/reservations/${orderId}/release`);
const state = (orderId: string) => call<Body>(f.url, 'GET', `/internal/reservations/${orderId}`);
const byBook = (lines: { bookId: string; quantity: number }[]) => [...lines].sort((a, b) => a.bookId.localeCompare(b.bookId));

/** A reservation whose deadline is a few hundred milliseconds away, then waits for the sweeper to expire it. */
async function expiredReservation(lines: { bookId: string; quantity: number }[]): Promise<string> {
  const body = reserveBody(lines, { ms: 1000 });
  assert.equal((await reserve(body)).status, 201);
  await eventually(async () => (await state(body.orderId)).body.status === 'expired', { what: 'the reservation to expire' });
  return body.orderId;
}

describe('reserve: all or nothing', () => {
  test('a two-line order where one line lacks stock is refused naming exactly that book, and nothing is reserved', async () => {
    const plenty = await stockBook(f, 10);
    const scarce = await stockBook(f, 2);
    const body = reserveBody([
      { bookId: plenty, quantity: 3 },
      { bookId: scarce, quantity: 5 },
    ]);
    const res = await reserve(body);
    assert.equal(res.status, 409, JSON.stringify(res.body));
    assert.match(res.contentType, /application\/problem\+json/);
    assert.equal(res.body.type, INSUFFICIENT_STOCK);
    assert.deepEqual(res.body.books, [{ bookId: scarce, requested: 5, available: 2 }]);
    assert.deepEqual(await stockOf(f.pool, plenty), { onHand: 10, reserved: 0, sold: 0, restocked: 10, initial: 0 });
    assert.deepEqual(await stockOf(f.pool, scarce), { onHand: 2, reserved: 0, sold: 0, restocked: 2, initial: 0 });
    assert.equal((await state(body.orderId)).status, 404, 'a refused order leaves no reservation');
    const { rows } = await f.pool.query('SELECT 1 FROM reservations WHERE order_id = $1', [body.orderId]);
    assert.equal(rows.length, 0);
  });

  test('every short line is named; a book the inventory does not know counts as 0 available', async () => {
    const scarce = await stockBook(f, 1);
    const unknown = randomUUID();
    const res = await reserve(
      reserveBody([
        { bookId: unknown, quantity: 1 },
        { bookId: scarce, quantity: 2 },
      ]),
    );
    assert.equal(res.status, 409);
    assert.deepEqual(
      byBook(res.body.books as never),
      byBook([
        { bookId: unknown, requested: 1, available: 0 },
        { bookId: scarce, requested: 2, available: 1 },
      ] as never),
    );
  });

  test('a reservation holds the stock of every line', async () => {
    const a = await stockBook(f, 4);
    const b = await stockBook(f, 4);
    const body = reserveBody([
      { bookId: a, quantity: 1 },
      { bookId: b, quantity: 4 },
    ]);
    const res = await reserve(body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(
      { ...res.body, lines: byBook(res.body.lines) },
      { orderId: body.orderId, status: 'reserved', lines: byBook(body.lines), expiresAt: body.expiresAt },
    );
    assert.deepEqual(await stockOf(f.pool, a), { onHand: 4, reserved: 1, sold: 0, restocked: 4, initial: 0 });
    assert.deepEqual(await stockOf(f.pool, b), { onHand: 4, reserved: 4, sold: 0, restocked: 4, initial: 0 });
    const view = await call<{ available: number }>(f.url, 'GET', `/api/inventory/${b}`);
    assert.deepEqual(view.body, { bookId: b, onHand: 4, reserved: 4, available: 0 });
  });
});

describe('reserve: idempotent by order id', () => {
  test('a repeat answers the same reservation and reserves nothing more', async () => {
    const book = await stockBook(f, 5);
    const body = reserveBody([{ bookId: book, quantity: 2 }]);
    const first = await reserve(body);
    assert.equal(first.status, 201);
    const again = await reserve(body);
    assert.equal(again.status, 201);
    assert.deepEqual(again.body, first.body);
    // Even with a later deadline: the first outcome stands.
    const later = await reserve({ ...body, expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    assert.deepEqual(later.body, first.body);
    assert.equal((await stockOf(f.pool, book))?.reserved, 2);
  });

  test('concurrent repeats reserve once', async () => {
    const book = await stockBook(f, 10);
    const body = reserveBody([{ bookId: book, quantity: 3 }]);
    const answers = await Promise.all(Array.from({ length: 20 }, () => reserve(body)));
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([201]));
    assert.equal((await stockOf(f.pool, book))?.reserved, 3);
  });

  test('the same order id with other lines is a conflict, not a second reservation', async () => {
    const book = await stockBook(f, 5);
    const body = reserveBody([{ bookId: book, quantity: 1 }]);
    assert.equal((await reserve(body)).status, 201);
    const other = await reserve({ ...body, lines: [{ bookId: book, quantity: 2 }] });
    assert.equal(other.status, 409);
    assert.notEqual(other.body.type, INSUFFICIENT_STOCK);
    assert.equal((await stockOf(f.pool, book))?.reserved, 1);
  });

  test('a refused order is refused again by checking again, and reserved once the stock is there', async () => {
    const book = await stockBook(f, 1);
    const body = reserveBody([{ bookId: book, quantity: 3 }]);
    assert.equal((await reserve(body)).status, 409);
    const again = await reserve(body);
    assert.equal(again.status, 409);
    assert.deepEqual(again.body.books, [{ bookId: book, requested: 3, available: 1 }]);
    await stockBook(f, 2, book);
    assert.equal((await reserve(body)).status, 201);
    assert.equal((await stockOf(f.pool, book))?.reserved, 3);
  });
});

describe('confirm', () => {
  test('the copies leave for good: on hand and reserved go down; a repeat changes nothing', async () => {
    const book = await stockBook(f, 5);
    const body = reserveBody([{ bookId: book, quantity: 2 }]);
    await reserve(body);
    const res = await confirm(body.orderId);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'confirmed');
    assert.deepEqual(res.body.lines, body.lines);
    assert.deepEqual(await stockOf(f.pool, book), { onHand: 3, reserved: 0, sold: 2, restocked: 5, initial: 0 });
    const again = await confirm(body.orderId);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, res.body);
    assert.deepEqual(await stockOf(f.pool, book), { onHand: 3, reserved: 0, sold: 2, restocked: 5, initial: 0 });
    const view = (await state(body.orderId)).body;
    assert.equal(view.status, 'confirmed');
    assert.ok(view.confirmedAt && view.releasedAt === null && view.restockedAt === null, JSON.stringify(view));
  });

  test('an order without a reservation is a 404', async () => {
    const res = await confirm(randomUUID());
    assert.equal(res.status, 404);
    assert.match(res.contentType, /application\/problem\+json/);
  });

  test('after a release, the stock is taken again when it is still there', async () => {
    const book = await stockBook(f, 3);
    const body = reserveBody([{ bookId: book, quantity: 2 }]);
    await reserve(body);
    assert.equal((await release(body.orderId)).body.status, 'released');
    const res = await confirm(body.orderId);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'confirmed');
    assert.deepEqual(await stockOf(f.pool, book), { onHand: 1, reserved: 0, sold: 2, restocked: 3, initial: 0 });
    const view = (await state(body.orderId)).body;
    assert.ok(view.confirmedAt && view.releasedAt, 'both steps are recorded');
  });

  test('after expiry, the stock is taken again when available', async () => {
    const book = await stockBook(f, 4);
    const orderId = await expiredReservation([{ bookId: book, quantity: 3 }]);
    assert.deepEqual(await stockOf(f.pool, book), { onHand: 4, reserved: 0, sold: 0, restocked: 4, initial: 0 });
    const res = await confirm(orderId);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'confirmed');
    assert.deepEqual(await stockOf(f.pool, book), { onHand: 1, reserved: 0, sold: 3, restocked: 4, initial: 0 });
  });

  test('after expiry, with the stock gone to another order, it answers RESERVATION_LOST and changes nothing', async () => {
    const book = await stockBook(f, 2);
    const other = await stockBook(f, 5);
    const orderId = await expiredReservation([
      { bookId: other, quantity: 1 },
      { bookId: book, quantity: 2 },
    ]);
    // Someone else buys the scarce book meanwhile.
    const rival = reserveBody([{ bookId: book, quantity: 1 }]);
    assert.equal((await reserve(rival)).status, 201);
    const res = await confirm(orderId);
    assert.equal(res.status, 409, JSON.stringify(res.body));
    assert.equal(res.body.type, RESERVATION_LOST);
    assert.deepEqual(res.body.books, [{ bookId: book, requested: 2, available: 1 }]);
    assert.equal((await state(orderId)).body.status, 'expired');
    assert.deepEqual(
      await stockOf(f.pool, other),
      { onHand: 5, reserved: 0, sold: 0, restocked: 5, initial: 0 },
      'all or nothing: the other line is not taken',
    );
    assert.deepEqual(await stockOf(f.pool, book), { onHand: 2, reserved: 1, sold: 0, restocked: 2, initial: 0 });
    // Asked again, the answer is the same.
    assert.equal((await confirm(orderId)).body.type, RESERVATION_LOST);
  });
});

describe('release', () => {
  test('frees the held copies; a repeat changes nothing', async () => {
    const book = await stockBook(f, 3);
    const body = reserveBody([{ bookId: book, quantity: 3 }]);
    await reserve(body);
    const res = await release(body.orderId);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'released');
    assert.deepEqual(await stockOf(f.pool, book), { onHand: 3, reserved: 0, sold: 0, restocked: 3, initial: 0 });
    assert.deepEqual((await release(body.orderId)).body, res.body);
    assert.deepEqual(await stockOf(f.pool, book), { onHand: 3, reserved: 0, sold: 0, restocked: 3, initial: 0 });
  });

  test('an order without a reservation: releasing nothing is fine', async () => {
    const orderId = randomUUID();
    const res = await release(orderId);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { orderId, status: 'none', lines: [], expiresAt: null });
  });

  test('an expired reservation: nothing left to release, answered as it is', async () => {
    const book = await stockBook(f, 2);
    const orderId = await expiredReservation([{ bookId: book, quantity: 1 }]);
    const res = await release(orderId);
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'expired');
    assert.deepEqual(await stockOf(f.pool, book), { onHand: 2, reserved: 0, sold: 0, restocked: 2, initial: 0 });
  });

  test('a confirmed reservation cannot be released (409) and stays sold', async () => {
    const book = await stockBook(f, 3);
    const body = reserveBody([{ bookId: book, quantity: 1 }]);
    await reserve(body);
    await confirm(body.orderId);
    const res = await release(body.orderId);
    assert.equal(res.status, 409, JSON.stringify(res.body));
    assert.match(res.body.detail ?? '', /confirmed/);
    assert.equal((await state(body.orderId)).body.status, 'confirmed');
    assert.deepEqual(await stockOf(f.pool, book), { onHand: 2, reserved: 0, sold: 1, restocked: 3, initial: 0 });
  });
});

describe('the database keeps the invariants whatever the code does', () => {
  test('more reserved than on hand, or copies unaccounted for, is refused', async () => {
    const book = await stockBook(f, 2);
    await assert.rejects(f.pool.query('UPDATE stock SET reserved = 3 WHERE book_id = $1', [book]), /stock_reserved_within_on_hand|reserved/);
    await assert.rejects(f.pool.query('UPDATE stock SET on_hand = -1, reserved = 0 WHERE book_id = $1', [book]), /check constraint/);
    await assert.rejects(f.pool.query('UPDATE stock SET on_hand = 5 WHERE book_id = $1', [book]), /stock_copies_accounted/);
  });

  test('a reserved count that does not match the open reservations is refused at commit', async () => {
    const book = await stockBook(f, 5);
    // reserved + 1 and on_hand + 1 / restocked + 1 keep the row's own checks, but no reservation holds that copy.
    await assert.rejects(
      f.pool.query('UPDATE stock SET reserved = reserved + 1, on_hand = on_hand + 1, restocked = restocked + 1 WHERE book_id = $1', [book]),
      /open reservations hold/,
    );
    const body = reserveBody([{ bookId: book, quantity: 2 }]);
    await reserve(body);
    // A line in another status than its order's.
    await assert.rejects(
      f.pool.query("UPDATE reservations SET status = 'released', released_at = now() WHERE order_id = $1", [body.orderId]),
      /reservations_order_id_status_fkey/,
    );
    // The order and its lines released, but the stock still counting the copies as reserved.
    await assert.rejects(
      withTransaction(f.pool, async (tx) => {
        await tx.query("UPDATE reservation_orders SET status = 'released' WHERE order_id = $1", [body.orderId]);
        await tx.query("UPDATE reservations SET status = 'released', released_at = now() WHERE order_id = $1", [body.orderId]);
      }),
      /counts 2 reserved copies but its open reservations hold 0/,
    );
    assert.equal((await state(body.orderId)).body.status, 'reserved');
  });
});
