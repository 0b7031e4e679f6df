/** Applying the state machine to stored orders, against a real PostgreSQL with the order service's migrations. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { migrate, withTransaction } from '@folio/platform/db';
import { createLogger } from '@folio/platform/log';
import { messagingMigrations, Outbox } from '@folio/platform/messaging/outbox';
import { folderOf } from '@folio/platform/service';
import { createTestDatabase, type TestDatabase } from '@folio/platform/testing';
import { findOrder, insertOrder, lockOrder, timelinesOf } from './order.repository.ts';
import { CANCEL_REASONS, type OrderEvent } from './order.state.ts';
import { applyTransition } from './order.transitions.ts';

let db: TestDatabase;
const warnings: Array<Record<string, unknown>> = [];
const log = createLogger({ name: 'order-test', level: 'silent' });
log.warn = ((obj: Record<string, unknown>, msg?: string) => {
  warnings.push({ ...obj, msg });
}) as typeof log.warn;
const deps = { outbox: new Outbox(), log };

before(async () => {
  db = await createTestDatabase('order_transitions');
  await migrate(db.pool, [messagingMigrations, folderOf(new URL('../migrations', import.meta.url))]);
});
after(async () => {
  await db?.drop();
});

async function newOrder(): Promise<string> {
  const id = randomUUID();
  await withTransaction(db.pool, (tx) =>
    insertOrder(tx, {
      id,
      userId: 'reader-1',
      email: 'reader-1@example.org',
      currency: 'EUR',
      subtotal: 1000,
      tax: 70,
      shipping: 490,
      total: 1560,
      shippingAddress: { name: 'A', line1: 'B 1', city: 'C', postalCode: '10117', country: 'DE' },
      shippingMethod: 'standard',
      paymentDeadline: new Date(Date.now() + 60_000),
      lines: [{ bookId: randomUUID(), title: 'T', quantity: 2, unitPrice: 500, lineTotal: 1000, taxRateBp: 700 }],
      pendingStep: 'open-payment',
      stepDueInMs: 0,
    }),
  );
  return id;
}

const apply = (id: string, event: OrderEvent) =>
  withTransaction(db.pool, async (tx) => {
    const order = await lockOrder(tx, id);
    return applyTransition(tx, deps, order!, event);
  });

const outboxOf = async (id: string) =>
  (await db.pool.query<{ topic: string; value: string }>('SELECT topic, value FROM outbox WHERE key = $1 ORDER BY seq', [id])).rows.map((r) => ({
    topic: r.topic,
    payload: JSON.parse(r.value).payload,
  }));

describe('applying transitions', () => {
  test('a legal one changes the status, writes the timeline and the event in the same transaction', async () => {
    const id = await newOrder();
    const paymentId = randomUUID();
    assert.equal(await apply(id, { type: 'pay', paymentId }), 'paid');
    const order = await findOrder(db.pool, id);
    assert.equal(order?.status, 'paid');
    assert.equal(order?.paidPaymentId, paymentId);
    assert.ok(order?.paidAt);
    assert.deepEqual(
      (await timelinesOf(db.pool, [id])).map((t) => [t.status, t.event]),
      [['paid', 'paid']],
    );
    const [paid] = await outboxOf(id);
    assert.equal(paid?.topic, 'order.paid');
    assert.deepEqual(paid?.payload.total, { amount: 1560, currency: 'EUR' });
    assert.equal(paid?.payload.lines[0].quantity, 2);
    // What notifications need without calling back: whom to tell, and what was bought.
    assert.equal(paid?.payload.email, 'reader-1@example.org');
    assert.deepEqual(paid?.payload.summary.lines[0], {
      bookId: paid?.payload.lines[0].bookId,
      title: 'T',
      quantity: 2,
      unitPrice: { amount: 500, currency: 'EUR' },
      lineTotal: { amount: 1000, currency: 'EUR' },
    });
    assert.deepEqual(paid?.payload.summary.shipping, { amount: 490, currency: 'EUR' });

    assert.equal(await apply(id, { type: 'refund', paymentId, restock: true }), 'refunded');
    const refunded = (await outboxOf(id))[1];
    assert.equal(refunded?.topic, 'order.refunded');
    assert.equal(refunded?.payload.restock, true);
    assert.deepEqual(refunded?.payload.amount, { amount: 1560, currency: 'EUR' });
  });

  test('an illegal one is refused and logged, and changes nothing', async () => {
    const id = await newOrder();
    assert.equal(await apply(id, { type: 'cancel', reason: CANCEL_REASONS.windowClosed }), 'cancelled');
    warnings.length = 0;
    assert.equal(await apply(id, { type: 'pay', paymentId: randomUUID() }), undefined);
    const order = await findOrder(db.pool, id);
    assert.equal(order?.status, 'cancelled');
    assert.equal(order?.paidPaymentId, null);
    assert.equal(order?.cancelReason, 'payment window closed');
    assert.deepEqual(
      (await timelinesOf(db.pool, [id])).map((t) => t.event),
      ['cancelled'],
    );
    assert.deepEqual(
      (await outboxOf(id)).map((e) => e.topic),
      ['order.cancelled'],
    );
    assert.equal(warnings.length, 1);
    assert.match(String(warnings[0]?.msg), /illegal order transition refused: an order that is cancelled cannot be paid/);
    assert.equal(warnings[0]?.orderId, id);
  });
});
