/**
 * The consistency audit against real databases: one per service, migrated exactly as the service
 * migrates at start-up (the platform's outbox/inbox, then its own migrations). A small consistent world
 * passes; then each test plants one kind of violation by direct SQL and the audit must name the offending
 * ids under that check — and only that check. Where the schema itself forbids the violation, the test
 * lifts that constraint for the plant (said so where it happens) and puts it back afterwards.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { after, before, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { migrate, withTransaction } from '@folio/platform/db';
import { messagingMigrations } from '@folio/platform/messaging/outbox';
import { createTestDatabase, type TestDatabase } from '@folio/platform/testing';
import { AUDITED_SERVICES, type AuditedService, type AuditReport, runAudit } from './lib/audit/audit.ts';
import { formatReport } from './lib/audit/report.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const GRACE = 60;

/** The notification table as the audit reads it, for as long as the service's own migration is not in the tree. */
const NOTIFICATIONS_FALLBACK = `CREATE TABLE notifications (
  id uuid PRIMARY KEY, user_id text NOT NULL, order_id text, event_id uuid NOT NULL UNIQUE,
  type text NOT NULL CHECK (type IN ('order-paid', 'payment-failed', 'order-cancelled', 'order-refunded')),
  subject text NOT NULL, message text NOT NULL, email text, status text NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
  attempts integer NOT NULL DEFAULT 0, next_attempt_at timestamptz, last_error text,
  created_at timestamptz NOT NULL DEFAULT now(), sent_at timestamptz)`;

async function migrationsOf(service: AuditedService): Promise<string | undefined> {
  const dir = fileURLToPath(new URL(`../services/${service}/migrations`, import.meta.url));
  const files = await readdir(dir).catch(() => [] as string[]);
  return files.some((f) => f.endsWith('.sql')) ? dir : undefined;
}

// The world's ids.
const id = () => randomUUID();
const user = { P: id(), R: id(), C: id(), L: id(), O: id(), N: id() };
const order = { P: id(), R: id(), C: id(), L: id(), O: id(), N: id() };
const pay = { P1: id(), P2: id(), R1: id(), C1: id(), L1: id(), O1: id() };
const book = { B1: id(), B2: id(), B3: id() };

/** A time `minutes` from now (negative: ago). */
const at = (minutes: number) => new Date(Date.now() + minutes * 60_000);

describe('npm run audit', () => {
  const dbs = {} as Record<AuditedService, TestDatabase>;
  const q = (service: AuditedService, sql: string, params: unknown[] = []) => dbs[service].pool.query(sql, params);
  /** Several statements in one transaction: the inventory's deferred checks judge them together at commit. */
  const inTx = (service: AuditedService, statements: Array<[string, unknown[]?]>) =>
    withTransaction(dbs[service].pool, async (tx) => {
      for (const [sql, params] of statements) await tx.query(sql, params ?? []);
    });
  const databaseUrl = (service: AuditedService) => dbs[service].url;
  const audit = (graceSeconds = GRACE) => runAudit({ databaseUrl, graceSeconds });

  before(async () => {
    await Promise.all(
      AUDITED_SERVICES.map(async (service) => {
        dbs[service] = await createTestDatabase(`audit_${service}`);
        const own = await migrationsOf(service);
        await migrate(dbs[service].pool, [messagingMigrations, ...(own ? [own] : [])]);
        if (!own && service === 'notification') await q(service, NOTIFICATIONS_FALLBACK);
      }),
    );
  });
  after(async () => {
    await Promise.all(Object.values(dbs).map((db) => db.drop()));
  });

  /** Empties every table a service writes (not its migrations' reference data). */
  async function truncate(service: AuditedService): Promise<void> {
    const { rows } = await q(service, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('schema_migrations', 'tax_rates')");
    await q(service, `TRUNCATE ${rows.map((r) => `"${r.tablename}"`).join(', ')} CASCADE`);
  }

  async function insertOrder(o: {
    id: string;
    userId: string;
    status: string;
    created: number;
    deadline: number;
    paidPaymentId?: string;
    paid?: number;
    updated: number;
    cancelReason?: string;
    attempt?: number;
    book: string;
    quantity: number;
  }): Promise<void> {
    await q(
      'order',
      `INSERT INTO orders (id, user_id, status, currency, subtotal, tax, shipping, total, shipping_address, shipping_method, payment_deadline,
         payment_attempt, paid_payment_id, paid_at, cancel_reason, created_at, updated_at)
       VALUES ($1, $2, $3, 'EUR', 1000, 70, 390, 1460, '{"country":"DE"}', 'standard', $4, $5, $6, $7, $8, $9, $10)`,
      [
        o.id,
        o.userId,
        o.status,
        at(o.deadline),
        o.attempt ?? 1,
        o.paidPaymentId ?? null,
        o.paid === undefined ? null : at(o.paid),
        o.cancelReason ?? null,
        at(o.created),
        at(o.updated),
      ],
    );
    await q(
      'order',
      `INSERT INTO order_lines (order_id, position, book_id, title, quantity, unit_price, line_total, tax_rate_bp) VALUES ($1, 1, $2, 'A book', $3, 500, $4, 700)`,
      [o.id, o.book, o.quantity, 500 * o.quantity],
    );
  }

  async function insertPayment(p: {
    id: string;
    orderId: string;
    userId: string;
    attempt: number;
    status: string;
    deadline: number;
    updated: number;
    failureReason?: string;
    refundRequested?: number;
    refunded?: number;
  }): Promise<void> {
    await q(
      'payment',
      `INSERT INTO payments (id, order_id, user_id, attempt, amount, currency, status, deadline, failure_reason, refund_requested_at, refund_id, refunded_at,
         created_at, updated_at)
       VALUES ($1, $2, $3, $4, 1460, 'EUR', $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        p.id,
        p.orderId,
        p.userId,
        p.attempt,
        p.status,
        at(p.deadline),
        p.failureReason ?? null,
        p.refundRequested === undefined ? null : at(p.refundRequested),
        p.refunded === undefined ? null : `re_${p.id.slice(0, 8)}`,
        p.refunded === undefined ? null : at(p.refunded),
        at(p.updated - 1),
        at(p.updated),
      ],
    );
    await q('order', 'INSERT INTO order_payments (payment_id, order_id, attempt, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)', [
      p.id,
      p.orderId,
      p.attempt,
      p.status,
      at(p.updated),
    ]);
  }

  /** The statements that write one order's reservation (one line), for a transaction with the stock they hold. */
  function reservation(r: {
    orderId: string;
    status: string;
    expires: number;
    book: string;
    quantity: number;
    confirmed?: number;
    released?: number;
    restocked?: number;
  }): Array<[string, unknown[]]> {
    const stamp = (m: number | undefined) => (m === undefined ? null : at(m));
    return [
      ['INSERT INTO reservation_orders (order_id, status, expires_at) VALUES ($1, $2, $3)', [r.orderId, r.status, at(r.expires)]],
      [
        `INSERT INTO reservations (order_id, book_id, quantity, status, expires_at, confirmed_at, released_at, restocked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [r.orderId, r.book, r.quantity, r.status, at(r.expires), stamp(r.confirmed), stamp(r.released), stamp(r.restocked)],
      ],
    ];
  }

  async function insertCart(c: { userId: string; status: 'active' | 'converted'; created: number; converted?: number; orderId?: string }): Promise<void> {
    await q(
      'cart',
      `INSERT INTO carts (id, owner_key, user_id, guest, status, created_at, updated_at, expires_at, converted_at, order_id)
       VALUES ($1, $2, $3, false, $4, $5, $5, $6, $7, $8)`,
      [id(), `u:${c.userId}`, c.userId, c.status, at(c.created), at(30), c.converted === undefined ? null : at(c.converted), c.orderId ?? null],
    );
  }

  async function insertNotification(orderId: string, userId: string, type: string): Promise<void> {
    await q(
      'notification',
      `INSERT INTO notifications (id, user_id, order_id, event_id, type, subject, message, email, status, sent_at) VALUES ($1, $2, $3, $4, $5, 'Folio', 'Hello', 'a@example.org', 'sent', now())`,
      [id(), userId, orderId, id(), type],
    );
  }

  /**
   * The consistent world:
   *  P paid: attempt 1 declined and later captured twice (a duplicate, refunded), attempt 2 succeeded; 2 × B1 sold; cart converted; notified.
   *  R paid, then refunded by the reader: B2 returned to stock; cart converted; notified.
   *  C cancelled, window closed: its attempt timed out; B3 released; cart kept.
   *  L cancelled (window closed), then its late payment was refunded (cancelled → refunded, never paid); B3 released.
   *  O open, within its window: a pending attempt, B3 held.
   *  N cancelled before any attempt could be opened (the payment service was unreachable all window).
   * Stock: B1 initial 10, sold 2 → 8 on hand. B2 initial 3, restocked 1 (R) + 2 (delivery), sold 1 → 5. B3 initial 5, 1 held (O).
   */
  async function seedWorld(): Promise<void> {
    await Promise.all(AUDITED_SERVICES.map(truncate));
    await insertOrder({
      id: order.P,
      userId: user.P,
      status: 'paid',
      created: -120,
      deadline: -105,
      paidPaymentId: pay.P2,
      paid: -110,
      updated: -110,
      attempt: 2,
      book: book.B1,
      quantity: 2,
    });
    await insertOrder({
      id: order.R,
      userId: user.R,
      status: 'refunded',
      created: -100,
      deadline: -85,
      paidPaymentId: pay.R1,
      paid: -95,
      updated: -89,
      book: book.B2,
      quantity: 1,
    });
    await insertOrder({
      id: order.C,
      userId: user.C,
      status: 'cancelled',
      created: -80,
      deadline: -65,
      updated: -64,
      cancelReason: 'payment window closed',
      book: book.B3,
      quantity: 1,
    });
    await insertOrder({
      id: order.L,
      userId: user.L,
      status: 'refunded',
      created: -60,
      deadline: -45,
      updated: -40,
      cancelReason: 'payment window closed',
      book: book.B3,
      quantity: 1,
    });
    await insertOrder({ id: order.O, userId: user.O, status: 'created', created: -5, deadline: 10, updated: -5, book: book.B3, quantity: 1 });
    await insertOrder({
      id: order.N,
      userId: user.N,
      status: 'cancelled',
      created: -50,
      deadline: -35,
      updated: -34,
      cancelReason: 'payment window closed',
      book: book.B3,
      quantity: 1,
    });

    const dup = { failureReason: 'duplicate payment, refunded', refundRequested: -109, refunded: -108 };
    await insertPayment({ id: pay.P1, orderId: order.P, userId: user.P, attempt: 1, status: 'failed', deadline: -105, updated: -108, ...dup });
    await insertPayment({ id: pay.P2, orderId: order.P, userId: user.P, attempt: 2, status: 'success', deadline: -105, updated: -110 });
    await insertPayment({
      id: pay.R1,
      orderId: order.R,
      userId: user.R,
      attempt: 1,
      status: 'refunded',
      deadline: -85,
      updated: -89,
      refundRequested: -90,
      refunded: -89,
    });
    await insertPayment({ id: pay.C1, orderId: order.C, userId: user.C, attempt: 1, status: 'timeout', deadline: -65, updated: -65 });
    await insertPayment({
      id: pay.L1,
      orderId: order.L,
      userId: user.L,
      attempt: 1,
      status: 'refunded',
      deadline: -45,
      updated: -40,
      refundRequested: -41,
      refunded: -40,
    });
    await insertPayment({ id: pay.O1, orderId: order.O, userId: user.O, attempt: 1, status: 'pending', deadline: 10, updated: -5 });

    await inTx('inventory', [
      [
        'INSERT INTO stock (book_id, on_hand, reserved, initial, restocked, sold) VALUES ($1, 8, 0, 10, 0, 2), ($2, 5, 0, 3, 3, 1), ($3, 5, 1, 5, 0, 0)',
        [book.B1, book.B2, book.B3],
      ],
      ...reservation({ orderId: order.P, status: 'confirmed', expires: -103, book: book.B1, quantity: 2, confirmed: -110 }),
      ...reservation({ orderId: order.R, status: 'confirmed', expires: -83, book: book.B2, quantity: 1, confirmed: -95, restocked: -88 }),
      ...reservation({ orderId: order.C, status: 'released', expires: -63, book: book.B3, quantity: 1, released: -64 }),
      ...reservation({ orderId: order.L, status: 'released', expires: -43, book: book.B3, quantity: 1, released: -44 }),
      ...reservation({ orderId: order.O, status: 'reserved', expires: 12, book: book.B3, quantity: 1 }),
      ...reservation({ orderId: order.N, status: 'released', expires: -33, book: book.B3, quantity: 1, released: -34 }),
    ]);

    await insertCart({ userId: user.P, status: 'converted', created: -130, converted: -110, orderId: order.P });
    await insertCart({ userId: user.R, status: 'converted', created: -101, converted: -95, orderId: order.R });
    await insertCart({ userId: user.C, status: 'active', created: -81 });
    await insertCart({ userId: user.L, status: 'active', created: -61 });
    await insertCart({ userId: user.O, status: 'active', created: -6 });
    await insertCart({ userId: user.N, status: 'active', created: -51 });

    await insertNotification(order.P, user.P, 'order-paid');
    await insertNotification(order.R, user.R, 'order-paid');
    await insertNotification(order.R, user.R, 'order-refunded');
    await insertNotification(order.C, user.C, 'order-cancelled');
  }

  /** The audit fails `check` naming exactly `ids`, and every other check passes. */
  function assertOnly(report: AuditReport, check: string, ids: string[]): void {
    const text = formatReport(report);
    for (const c of report.checks) {
      if (c.name === check) {
        assert.deepEqual(new Set(c.offenders.map((o) => o.id)), new Set(ids), `${check} names exactly the planted ids\n${text}`);
      } else {
        assert.deepEqual(c.offenders, [], `${c.name} still passes\n${text}`);
      }
    }
    assert.equal(report.ok, false);
    assert.equal(report.violations, report.checks.find((c) => c.name === check)!.offenders.length);
    for (const planted of ids) assert.ok(text.includes(planted), `the report names ${planted}`);
  }

  /** Runs `plant` with a schema constraint lifted; afterwards the service's tables are emptied and the constraint restored. */
  async function withoutConstraint(service: AuditedService, lift: string, restore: string, plant: () => Promise<void>): Promise<void> {
    await q(service, lift);
    try {
      await plant();
    } finally {
      await truncate(service);
      await q(service, restore);
    }
  }

  beforeEach(seedWorld);

  test('a consistent world passes every check, and the report shows the seed equations', async () => {
    const report = await audit();
    const text = formatReport(report);
    assert.equal(report.violations, 0, text);
    assert.ok(report.ok);
    assert.deepEqual(
      report.checks.map((c) => c.name),
      ['seed-004', 'one-success', 'order-status', 'stock-held', 'stock-ledger', 'reservations', 'after-paid', 'deadlines'],
    );
    assert.match(text, /orders 6 = orders with payment attempts 5 \+ being opened 0 \+ cancelled before any attempt 1/);
    assert.match(text, /paid orders 1 = successful payments 1/);
    assert.match(text, /cancelled orders 2 = orders whose payments all failed, were cancelled or timed out 2/);
    assert.match(text, /refunded orders 2 = refunded payments 2/);
    assert.match(text, /Consistent: all 8 checks pass/);
    assert.equal(report.checks.find((c) => c.name === 'after-paid')!.checked, 2, 'P and R were paid');
  });

  test('1. seed 004: an order without attempts, a paid order without money, a cancelled order keeping money, orphans, a stale projection', async () => {
    const orphan = id();
    const phantom = id();
    // O: its only attempt vanished from both sides.
    await q('payment', 'DELETE FROM payments WHERE id = $1', [pay.O1]);
    await q('order', 'DELETE FROM order_payments WHERE payment_id = $1', [pay.O1]);
    // P: paid, but its successful attempt is (on both sides) a failure.
    await q('payment', "UPDATE payments SET status = 'failed' WHERE id = $1", [pay.P2]);
    await q('order', "UPDATE order_payments SET status = 'failed' WHERE payment_id = $1", [pay.P2]);
    // C: cancelled an hour ago, with a captured payment never refunded.
    await q('payment', "UPDATE payments SET status = 'success' WHERE id = $1", [pay.C1]);
    await q('order', "UPDATE order_payments SET status = 'success' WHERE payment_id = $1", [pay.C1]);
    // A payment for an order that does not exist, and an attempt the order lists that the payment service does not know.
    await q(
      'payment',
      `INSERT INTO payments (id, order_id, user_id, attempt, amount, currency, status, deadline, created_at, updated_at)
      VALUES ($1, $2, 'someone', 1, 100, 'EUR', 'failed', now() - interval '1 hour', now() - interval '1 hour', now() - interval '1 hour')`,
      [orphan, id()],
    );
    await q('order', `INSERT INTO order_payments (payment_id, order_id, attempt, status, updated_at) VALUES ($1, $2, 2, 'failed', now() - interval '1 hour')`, [
      phantom,
      order.L,
    ]);
    // R: refunded at the payment service, the order's projection still says success.
    await q('order', "UPDATE order_payments SET status = 'success' WHERE payment_id = $1", [pay.R1]);

    const report = await audit();
    assertOnly(report, 'seed-004', [order.O, order.P, order.C, orphan, phantom, pay.R1]);
    const text = formatReport(report);
    assert.match(text, /✗ 1\. seed-004/);
    // The totals alone can agree while the ids do not (P lost its success, C gained one): the audit compares order by order.
    assert.match(text, /paid orders 1 = successful payments 1/);
    assert.match(text, /cancelled orders 2 ≠ orders whose payments all failed, were cancelled or timed out 1/);
  });

  test('2. one success: two captures for one order, a paid order naming another payment, a second capture never refunded', async () => {
    const duplicate = id();
    // The payment database's unique index forbids two captures of an order: lifted for the plant.
    await withoutConstraint(
      'payment',
      'DROP INDEX payments_one_success_per_order',
      "CREATE UNIQUE INDEX payments_one_success_per_order ON payments (order_id) WHERE status IN ('success', 'refunded')",
      async () => {
        await q(
          'payment',
          "UPDATE payments SET status = 'success', failure_reason = NULL, refund_requested_at = NULL, refund_id = NULL, refunded_at = NULL WHERE id = $1",
          [pay.P1],
        );
        await q('order', "UPDATE order_payments SET status = 'success' WHERE payment_id = $1", [pay.P1]);
        await q('order', 'UPDATE orders SET paid_payment_id = $2 WHERE id = $1', [order.R, id()]);
        await insertPayment({
          id: duplicate,
          orderId: order.C,
          userId: user.C,
          attempt: 2,
          status: 'failed',
          deadline: -65,
          updated: -30,
          failureReason: 'duplicate payment, refunded',
          refundRequested: -30,
        });
        assertOnly(await audit(), 'one-success', [order.P, order.R, duplicate]);
      },
    );
  });

  test('3. order status: an open order whose payment succeeded, a refunded order whose payment was not, a paid order whose payment was refunded', async () => {
    for (const [payment, status] of [
      [pay.O1, 'success'],
      [pay.R1, 'success'],
      [pay.P2, 'refunded'],
    ] as const) {
      await q('payment', `UPDATE payments SET status = $2, refunded_at = CASE WHEN $2 = 'refunded' THEN now() - interval '1 hour' END WHERE id = $1`, [
        payment,
        status,
      ]);
      await q('order', 'UPDATE order_payments SET status = $2 WHERE payment_id = $1', [payment, status]);
    }
    assertOnly(await audit(), 'order-status', [order.O, order.R, order.P]);
  });

  test('4. held stock: more copies reserved than on hand, a reserved counter that is not the open reservations', async () => {
    // CHECK stock_reserved_within_on_hand and the trigger stock_reserved_matches_lines forbid both: lifted for the plant.
    await withoutConstraint(
      'inventory',
      'ALTER TABLE stock DROP CONSTRAINT stock_reserved_within_on_hand; ALTER TABLE stock DISABLE TRIGGER stock_reserved_matches_lines',
      'ALTER TABLE stock ADD CONSTRAINT stock_reserved_within_on_hand CHECK (reserved <= on_hand); ALTER TABLE stock ENABLE TRIGGER stock_reserved_matches_lines',
      async () => {
        // B3: O holds 1 copy of none on hand (the ledger still balances: 0 + 0 = 0 + 0).
        await q('inventory', 'UPDATE stock SET on_hand = 0, initial = 0 WHERE book_id = $1', [book.B3]);
        await q('inventory', 'UPDATE stock SET reserved = 1 WHERE book_id = $1', [book.B1]);
        assertOnly(await audit(), 'stock-held', [book.B3, book.B1]);
      },
    );
  });

  test('5. stock ledger: a copy from nowhere, sales no reservation made, returns beyond the restocks', async () => {
    // CHECK stock_copies_accounted forbids the first: lifted for the plant.
    await withoutConstraint(
      'inventory',
      'ALTER TABLE stock DROP CONSTRAINT stock_copies_accounted',
      'ALTER TABLE stock ADD CONSTRAINT stock_copies_accounted CHECK (on_hand + sold = initial + restocked)',
      async () => {
        await q('inventory', 'UPDATE stock SET on_hand = on_hand + 1 WHERE book_id = $1', [book.B1]);
        // B3: one more sold and one more restocked (balanced), but no confirmed reservation sold it.
        await q('inventory', 'UPDATE stock SET sold = 1, restocked = 1 WHERE book_id = $1', [book.B3]);
        // B2: R's copy came back, but the counters say nothing was ever restocked (balanced by the initial stock).
        await q('inventory', 'UPDATE stock SET restocked = 0, initial = 6 WHERE book_id = $1', [book.B2]);
        assertOnly(await audit(), 'stock-ledger', [book.B1, book.B3, book.B2]);
      },
    );
  });

  test('6. reservations: held by a cancelled order, a refund that did not restock, an order without one, paid but never taken, confirmed but never paid', async () => {
    await inTx('inventory', [
      // C, cancelled an hour ago, holds its copy again (the counters agree, so only the order's state is wrong).
      ["UPDATE reservation_orders SET status = 'reserved', expires_at = now() + interval '15 minutes' WHERE order_id = $1", [order.C]],
      ["UPDATE reservations SET status = 'reserved', released_at = NULL, expires_at = now() + interval '15 minutes' WHERE order_id = $1", [order.C]],
      // L, never paid, took a copy for good.
      ["UPDATE reservation_orders SET status = 'confirmed' WHERE order_id = $1", [order.L]],
      ["UPDATE reservations SET status = 'confirmed', confirmed_at = now() - interval '44 minutes' WHERE order_id = $1", [order.L]],
      ['UPDATE stock SET reserved = 2, on_hand = 4, sold = 1 WHERE book_id = $1', [book.B3]],
      // P, paid, released its books instead of taking them (the counters agree).
      ["UPDATE reservation_orders SET status = 'released' WHERE order_id = $1", [order.P]],
      ["UPDATE reservations SET status = 'released', confirmed_at = NULL, released_at = now() - interval '110 minutes' WHERE order_id = $1", [order.P]],
      ['UPDATE stock SET on_hand = 10, sold = 0 WHERE book_id = $1', [book.B1]],
      // R, refunded after it was paid: its copy never went back.
      ['UPDATE reservations SET restocked_at = NULL WHERE order_id = $1', [order.R]],
      // N: the inventory never heard of it.
      ['DELETE FROM reservations WHERE order_id = $1', [order.N]],
      ['DELETE FROM reservation_orders WHERE order_id = $1', [order.N]],
    ]);
    assertOnly(await audit(), 'reservations', [order.C, order.L, order.P, order.R, order.N]);
  });

  test('7. after paid: no notification, a cart left active, a cart emptied for an unpaid order', async () => {
    await q('notification', 'DELETE FROM notifications WHERE order_id = $1', [order.P]);
    await q('cart', "UPDATE carts SET status = 'active', converted_at = NULL, order_id = NULL WHERE owner_key = $1", [`u:${user.R}`]);
    await q('cart', "UPDATE carts SET status = 'converted', converted_at = now() - interval '4 minutes', order_id = $2 WHERE owner_key = $1", [
      `u:${user.O}`,
      order.O,
    ]);
    assertOnly(await audit(), 'after-paid', [order.P, order.R, order.O]);
  });

  test('7. a change younger than the grace is not judged yet', async () => {
    await q('notification', 'DELETE FROM notifications WHERE order_id = $1', [order.P]);
    await q('order', "UPDATE orders SET paid_at = now() - interval '10 seconds' WHERE id = $1", [order.P]);
    assert.equal((await audit(60)).violations, 0, 'paid 10 s ago: the notification may be on its way');
    assertOnly(await audit(5), 'after-paid', [order.P]);
  });

  test('8. deadlines: a window closed long ago, an overdue saga step, a reservation past expiry, a payment past its deadline, a refund never done', async () => {
    const abandoned = id();
    await q('order', "UPDATE orders SET payment_deadline = now() - interval '10 minutes' WHERE id = $1", [order.O]);
    await q('order', "UPDATE orders SET pending_step = 'request-refund', next_step_at = now() - interval '10 minutes' WHERE id = $1", [order.P]);
    // A checkout that reserved and died before writing its order: the reservation outlived its expiry.
    await inTx('inventory', [
      ["INSERT INTO reservation_orders (order_id, status, expires_at) VALUES ($1, 'reserved', now() - interval '10 minutes')", [abandoned]],
      [
        "INSERT INTO reservations (order_id, book_id, quantity, status, expires_at) VALUES ($1, $2, 1, 'reserved', now() - interval '10 minutes')",
        [abandoned, book.B3],
      ],
      ['UPDATE stock SET reserved = reserved + 1 WHERE book_id = $1', [book.B3]],
    ]);
    await q('payment', "UPDATE payments SET deadline = now() - interval '10 minutes' WHERE id = $1", [pay.O1]);
    await q('payment', "UPDATE payments SET refund_requested_at = now() - interval '10 minutes' WHERE id = $1", [pay.P2]);
    assertOnly(await audit(), 'deadlines', [order.O, order.P, abandoned, pay.O1, pay.P2]);
  });

  describe('the command', () => {
    const env = () => ({
      ...process.env,
      ...Object.fromEntries(AUDITED_SERVICES.map((s) => [`AUDIT_${s.toUpperCase()}_DATABASE_URL`, dbs[s].url])),
    });
    const cli = async (args: string[], extraEnv: Record<string, string> = {}) =>
      run(process.execPath, ['scripts/audit.ts', ...args], { cwd: root, env: { ...env(), ...extraEnv } }).then(
        (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );

    test('exits 0 on a consistent world, 1 naming the offender on a violation, with --json too', async () => {
      const clean = await cli([]);
      assert.equal(clean.code, 0, clean.stderr + clean.stdout);
      assert.match(clean.stdout, /Consistent: all 8 checks pass/);
      assert.match(clean.stdout, /✓ 1\. seed-004/);

      await q('notification', 'DELETE FROM notifications WHERE order_id = $1', [order.P]);
      const dirty = await cli(['--grace', '30']);
      assert.equal(dirty.code, 1, dirty.stderr);
      assert.match(dirty.stdout, new RegExp(`✗ 7\\. after-paid.*\\n\\s+${order.P}  order paid .* has no order-paid notification`));
      assert.match(dirty.stdout, /INCONSISTENT: 1 violation in 1 of 8 checks \(after-paid\)/);

      const json = await cli(['--json']);
      assert.equal(json.code, 1);
      const report = JSON.parse(json.stdout) as AuditReport;
      assert.equal(report.violations, 1);
      assert.deepEqual(
        report.checks.find((c) => c.name === 'after-paid')!.offenders.map((o) => o.id),
        [order.P],
      );
    });

    test('exits 2 naming the database it cannot read', async () => {
      const missing = new URL(dbs.notification.url);
      missing.pathname = '/t_audit_no_such_database';
      const answer = await cli([], { AUDIT_NOTIFICATION_DATABASE_URL: missing.toString() });
      assert.equal(answer.code, 2);
      assert.match(answer.stderr, /notification database t_audit_no_such_database does not exist/);
      const bad = await cli(['--grace=-1']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--grace -1 is not a number of seconds/);
    });
  });
});
