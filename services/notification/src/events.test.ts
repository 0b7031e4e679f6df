/**
 * The events the service consumes, without SMTP (in-app only): one notification per reader and event
 * however often it is delivered, the right kind for each event, and payment events that arrive before
 * the order's own.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { metric, type NotificationFixture, notificationsOf, orderEvents, redeliver, startNotification, summaryOf } from './notification.fixture.ts';

let f: NotificationFixture;
const consumed = (outcome: string) => metric(f.url, 'folio_messages_consumed_total', { consumer: 'notification', outcome });
before(async () => {
  f = await startNotification('notification-events');
});
after(() => f.close());

describe('duplicated delivery', () => {
  test('the same event delivered twice gives one notification', async () => {
    const order = orderEvents(f.transport, { userId: 'reader-dup', email: 'dup@example.org', summary: summaryOf() });
    await order.created();
    const paid = await order.paid();
    await redeliver(f.transport, paid);
    await redeliver(f.transport, paid);
    const rows = await notificationsOf(f.pool, order.orderId);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.eventId, paid.id);
    assert.equal(rows[0]!.type, 'order-paid');
  });

  test('even when the inbox no longer remembers it, the event id keeps it to one', async () => {
    const order = orderEvents(f.transport, { userId: 'reader-dup' });
    const failed = await order.paymentFailed();
    const applied = await consumed('applied');
    // As if the inbox record were gone (pruned, or the message arrived under another message id).
    const { rowCount } = await f.pool.query('DELETE FROM inbox WHERE message_id = $1', [failed.id]);
    assert.equal(rowCount, 1);
    await redeliver(f.transport, failed);
    const rows = await notificationsOf(f.pool, order.orderId);
    assert.equal(rows.length, 1);
    const inbox = await f.pool.query('SELECT 1 FROM inbox WHERE message_id = $1', [failed.id]);
    assert.equal(inbox.rowCount, 1);
    assert.equal(await consumed('applied'), applied + 1, 'the second delivery was applied (not refused and dead-lettered), yet stored nothing');
  });

  test('two different events, even of one kind and one order, give two', async () => {
    const order = orderEvents(f.transport, { userId: 'reader-dup', email: 'dup@example.org' });
    await order.created();
    const first = await order.paymentFailed('Your card was declined.');
    const second = await order.paymentFailed('Your card has insufficient funds.');
    await redeliver(f.transport, second);
    const rows = await notificationsOf(f.pool, order.orderId);
    assert.deepEqual(rows.map((r) => r.eventId).sort(), [first.id, second.id].sort());
    assert.ok(rows.every((r) => r.type === 'payment-failed'));
    assert.ok(rows.some((r) => r.message.includes('insufficient funds')));
  });
});

describe('what each event becomes', () => {
  test('order.created only records the reader; the others are told in words', async () => {
    const order = orderEvents(f.transport, { userId: 'reader-kinds', email: 'kinds@example.org', summary: summaryOf('Borrowed Years') });
    await order.created();
    assert.equal((await notificationsOf(f.pool, order.orderId)).length, 0);
    await order.paymentFailed();
    await order.paid();
    await order.refunded();
    const other = orderEvents(f.transport, { userId: 'reader-kinds', email: 'kinds@example.org' });
    await other.created();
    await other.cancelled('payment window closed');
    const sold = orderEvents(f.transport, { userId: 'reader-kinds', summary: summaryOf('Borrowed Years') });
    await sold.cancelled('out of stock after payment');

    const rows = [
      ...(await notificationsOf(f.pool, order.orderId)),
      ...(await notificationsOf(f.pool, other.orderId)),
      ...(await notificationsOf(f.pool, sold.orderId)),
    ];
    assert.deepEqual(
      rows.map((r) => r.type),
      ['payment-failed', 'order-paid', 'order-refunded', 'order-cancelled', 'order-cancelled'],
    );
    const [failed, paid, refunded, timedOut, soldOut] = rows;
    assert.match(failed!.message, /try paying again from your order, .* until \d+ \w+ \d{4} at \d\d:\d\d UTC/, 'the deadline of order.created');
    assert.match(paid!.message, /2 × Borrowed Years: €12\.99 each, €25\.98/, 'the summary of the order events');
    assert.match(paid!.message, /Total: €31\.92/);
    assert.match(refunded!.subject, /Your refund of €31\.92/);
    assert.match(timedOut!.message, /not paid in time/);
    assert.match(soldOut!.message, /“Borrowed Years” sold out .* refunded/s);
    assert.ok(rows.every((r) => r.userId === 'reader-kinds'));
  });

  test('without SMTP a notification is in-app only: delivered as it is stored, no address kept', async () => {
    const order = orderEvents(f.transport, { userId: 'reader-inapp', email: 'inapp@example.org' });
    await order.created();
    await order.paid();
    const [row] = await notificationsOf(f.pool, order.orderId);
    assert.equal(row!.status, 'sent');
    assert.ok(row!.sentAt instanceof Date);
    assert.equal(row!.email, null);
    assert.equal(row!.attempts, 0);
    assert.equal(row!.nextAttemptAt, null);
  });

  test('a payment failure that arrives before its order is still stored for the reader', async () => {
    const order = orderEvents(f.transport, { userId: 'reader-early', email: 'early@example.org' });
    const failed = await order.paymentFailed();
    await order.created();
    const rows = await notificationsOf(f.pool, order.orderId);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.eventId, failed.id);
    assert.equal(rows[0]!.userId, 'reader-early');
    assert.match(rows[0]!.message, /while its payment window is open/, 'the deadline was not known yet');
  });

  test('an event naming another reader than its order does not borrow that order’s address', async () => {
    const order = orderEvents(f.transport, { userId: 'reader-a', email: 'a@example.org' });
    await order.created();
    const strangerId = `reader-${randomUUID()}`;
    await orderEvents(f.transport, { orderId: order.orderId, userId: strangerId }).paymentFailed();
    const rows = await notificationsOf(f.pool, order.orderId);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.userId, strangerId);
    assert.match(rows[0]!.message, /while its payment window is open/, 'nothing of the other reader’s order was used');
  });
});
