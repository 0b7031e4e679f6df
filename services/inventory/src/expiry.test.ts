import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StockChanged } from '@folio/contracts/events';
import { withTransaction } from '@folio/platform/db';
import { EmbeddedTransport } from '@folio/platform/messaging/embedded-transport';
import type { Envelope, PayloadOf } from '@folio/platform/messaging/envelope';
import { type RunningService, startService } from '@folio/platform/service';
import { eventually } from '@folio/platform/testing';
import { call, type InventoryFixture, listen, metric, reserveBody, startInventory, stockBook, stockOf, testEnv } from './inventory.fixture.ts';
import inventory from './service.ts';

const state = async (url: string, orderId: string) => (await call<{ status: string }>(url, 'GET', `/internal/reservations/${orderId}`)).body.status;

describe('the expiry sweeper', () => {
  let f: InventoryFixture;
  let stockEvents: Envelope<PayloadOf<typeof StockChanged>>[];
  before(async () => {
    f = await startInventory('inventory-expiry', { RESERVATION_SWEEP_INTERVAL_MS: '100' });
    stockEvents = await listen(f.transport, StockChanged);
  });
  after(() => f.close());

  test('expires a reservation past its deadline, frees its stock and tells the catalogue', async () => {
    const book = await stockBook(f, 5);
    {
      const body = reserveBody([{ bookId: book, quantity: 3 }], { ms: 1000 });
      assert.equal((await call(f.url, 'POST', '/internal/reservations', { body })).status, 201);
      assert.equal((await stockOf(f.pool, book))?.reserved, 3);
      await eventually(() => stockEvents.some((e) => e.payload.bookId === book && e.payload.available === 2), { what: 'StockChanged for the reservation' });

      await eventually(async () => (await state(f.url, body.orderId)) === 'expired', { what: 'the reservation to expire' });
      assert.deepEqual(await stockOf(f.pool, book), { onHand: 5, reserved: 0, sold: 0, restocked: 5, initial: 0 });
      const { rows } = await f.pool.query<{ released: boolean }>('SELECT released_at IS NOT NULL AS released FROM reservations WHERE order_id = $1', [
        body.orderId,
      ]);
      assert.deepEqual(rows, [{ released: true }]);
      await eventually(
        () => {
          const last = stockEvents.filter((e) => e.payload.bookId === book).at(-1);
          return last?.payload.available === 5 && last.payload.inStock;
        },
        { what: 'StockChanged after the expiry' },
      );
    }
  });

  test('a reservation before its deadline is left alone', async () => {
    const book = await stockBook(f, 2);
    const body = reserveBody([{ bookId: book, quantity: 1 }], { ms: 60_000 });
    await call(f.url, 'POST', '/internal/reservations', { body });
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(await state(f.url, body.orderId), 'reserved');
    assert.equal((await stockOf(f.pool, book))?.reserved, 1);
  });

  test('one sweep announces each book once, however many of its reservations expire together', async () => {
    const book = await stockBook(f, 10);
    {
      // The same deadline for all three, so one sweep finds them due together.
      const expiresAt = new Date(Date.now() + 2000).toISOString();
      for (let i = 0; i < 3; i++) {
        const body = { ...reserveBody([{ bookId: book, quantity: 2 }]), expiresAt };
        assert.equal((await call(f.url, 'POST', '/internal/reservations', { body })).status, 201);
      }
      await eventually(async () => (await stockOf(f.pool, book))?.reserved === 0, { what: 'the three reservations to expire' });
      await eventually(() => stockEvents.some((e) => e.payload.bookId === book && e.payload.available === 10), { what: 'StockChanged' });
      const forBook = stockEvents.filter((e) => e.payload.bookId === book).map((e) => e.payload.available);
      // The delivery (10), three reservations (8, 6, 4 left), then one event for the sweep that freed all six copies.
      assert.deepEqual(forBook, [10, 8, 6, 4, 10]);
    }
  });
});

describe('two instances on one database', () => {
  let f: InventoryFixture;
  let second: RunningService;
  let secondTransport: EmbeddedTransport;
  before(async () => {
    f = await startInventory('inventory-two-sweepers', { RESERVATION_SWEEP_INTERVAL_MS: '20' });
    secondTransport = new EmbeddedTransport();
    second = await startService(inventory, { env: testEnv(f.db, f.identity, { RESERVATION_SWEEP_INTERVAL_MS: '20' }), transport: secondTransport });
  });
  after(async () => {
    await second.close();
    await secondTransport.close();
    await f.close();
  });

  test('share the sweep without freeing any reservation twice', async () => {
    const books = [await stockBook(f, 200), await stockBook(f, 200), await stockBook(f, 200)];
    const orders = 240;
    const bodies = Array.from({ length: orders }, (_, i) => ({
      ...reserveBody(
        i % 4 === 0
          ? [
              { bookId: books[0]!, quantity: 1 },
              { bookId: books[(i % 3) as 0 | 1 | 2]!, quantity: 2 },
            ].filter((l, j, all) => all.findIndex((m) => m.bookId === l.bookId) === j)
          : [{ bookId: books[i % 3]!, quantity: 1 }],
      ),
    }));
    // Half through each instance.
    const answers = await Promise.all(bodies.map((body, i) => call(i % 2 ? second.url : f.url, 'POST', '/internal/reservations', { body })));
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([201]), JSON.stringify(answers.find((a) => a.status !== 201)));
    // All due at the same moment, so both sweepers go for the same rows at once.
    await withTransaction(f.pool, async (tx) => {
      await tx.query('UPDATE reservation_orders SET expires_at = now()');
      await tx.query('UPDATE reservations SET expires_at = now()');
    });

    await eventually(
      async () => {
        const { rows } = await f.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM reservation_orders WHERE status = 'expired'");
        return rows[0]!.n === orders;
      },
      { what: `all ${orders} reservations to expire` },
    );
    for (const book of books) assert.deepEqual(await stockOf(f.pool, book), { onHand: 200, reserved: 0, sold: 0, restocked: 200, initial: 0 });
    const expired = async (url: string) => metric(url, 'folio_inventory_reservation_steps_total', { command: 'expire', outcome: 'applied' });
    const [byFirst, bySecond] = [await expired(f.url), await expired(second.url)];
    assert.equal(byFirst + bySecond, orders, `each reservation expired once (first ${byFirst}, second ${bySecond})`);
  });
});
