import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { INSUFFICIENT_STOCK } from '@folio/contracts/internal';
import { call, type InventoryFixture, reserveBody, startInventory, stockBook, stockOf } from './inventory.fixture.ts';

let f: InventoryFixture;

before(async () => {
  f = await startInventory('inventory-concurrency');
});
after(() => f.close());

const reserve = (body: unknown) => call<{ type?: string; status: string | number }>(f.url, 'POST', '/internal/reservations', { body });

describe('under heavy concurrency', () => {
  test('200 concurrent one-copy reservations for 20 copies: exactly 20 succeed; then 20 confirmations empty the shelf', async () => {
    const book = await stockBook(f, 20);
    // Watch the counters while the storm runs: they must never leave their bounds.
    let watching = true;
    const seen: { onHand: number; reserved: number }[] = [];
    const watcher = (async () => {
      while (watching) {
        const s = await stockOf(f.pool, book);
        if (s) seen.push(s);
        await new Promise((r) => setTimeout(r, 2));
      }
    })();

    const bodies = Array.from({ length: 200 }, () => reserveBody([{ bookId: book, quantity: 1 }]));
    const answers = await Promise.all(bodies.map(reserve));
    watching = false;
    await watcher;

    const won = bodies.filter((_, i) => answers[i]!.status === 201);
    const lost = answers.filter((a) => a.status === 409);
    assert.equal(won.length, 20, `statuses: ${JSON.stringify(answers.map((a) => a.status))}`);
    assert.equal(lost.length, 180);
    assert.ok(
      lost.every((a) => a.body.type === INSUFFICIENT_STOCK),
      'every refusal is INSUFFICIENT_STOCK',
    );
    assert.deepEqual(await stockOf(f.pool, book), { onHand: 20, reserved: 20, sold: 0, restocked: 20, initial: 0 });
    assert.ok(seen.length > 0);
    for (const s of seen) assert.ok(s.reserved >= 0 && s.reserved <= 20 && s.onHand - s.reserved >= 0, JSON.stringify(s));
    const { rows } = await f.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM reservations WHERE book_id = $1 AND status = 'reserved'", [book]);
    assert.equal(rows[0]!.n, 20);

    const confirmed = await Promise.all(won.map((b) => call(f.url, 'POST', `/internal/reservations/${b.orderId}/confirm`)));
    assert.deepEqual(new Set(confirmed.map((c) => c.status)), new Set([200]));
    assert.deepEqual(await stockOf(f.pool, book), { onHand: 0, reserved: 0, sold: 20, restocked: 20, initial: 0 });
    const stock = await call(f.url, 'GET', `/api/inventory/${book}`);
    assert.deepEqual(stock.body, { bookId: book, onHand: 0, reserved: 0, available: 0 });
  });

  test('orders locking overlapping books in opposite orders neither deadlock nor oversell', async () => {
    const books = [await stockBook(f, 30), await stockBook(f, 30), await stockBook(f, 30)];
    // Each order names the books in a different order; the service locks them in one order.
    const bodies = Array.from({ length: 60 }, (_, i) => {
      const rotated = [...books.slice(i % 3), ...books.slice(0, i % 3)];
      return reserveBody((i % 2 ? rotated.reverse() : rotated).map((bookId) => ({ bookId, quantity: 1 })));
    });
    const answers = await Promise.all(bodies.map(reserve));
    const statuses = answers.map((a) => a.status);
    assert.equal(statuses.filter((s) => s === 201).length, 30, JSON.stringify(statuses));
    assert.equal(statuses.filter((s) => s === 409).length, 30, 'the rest are refused for stock, never a 500');
    for (const book of books) assert.deepEqual(await stockOf(f.pool, book), { onHand: 30, reserved: 30, sold: 0, restocked: 30, initial: 0 });
  });

  test('concurrent confirm, release and repeat of one order settle on one outcome', async () => {
    const book = await stockBook(f, 10);
    for (let round = 0; round < 10; round++) {
      const body = reserveBody([{ bookId: book, quantity: 1 }], { orderId: randomUUID() });
      assert.equal((await reserve(body)).status, 201);
      const path = (action: string) => `/internal/reservations/${body.orderId}/${action}`;
      const answers = await Promise.all([
        call(f.url, 'POST', path('confirm')),
        call(f.url, 'POST', path('release')),
        reserve(body),
        call(f.url, 'POST', path('confirm')),
      ]);
      for (const a of answers) assert.ok([200, 201, 409].includes(a.status), JSON.stringify(a));
      const s = (await stockOf(f.pool, book))!;
      assert.equal(s.reserved, 0);
      assert.equal(s.onHand + s.sold, 10);
    }
  });
});
