/**
 * The payment service end to end: real PostgreSQL, the real gateway simulator (its hosted page, its signed
 * webhooks), real HTTP and real tokens. See payment.fixture.ts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PaymentView } from '@folio/contracts/internal';
import { eventually } from '@folio/platform/testing';
import { cards, PaymentBench, STOREFRONT } from './payment.fixture.ts';

describe('payments through the gateway', () => {
  let bench: PaymentBench;
  before(async () => {
    bench = await PaymentBench.start('payment');
  });
  after(async () => {
    await bench?.close();
  });

  test('open: a pending payment with a hosted page; the session carries the amount, the order and the return URLs', async () => {
    const orderId = randomUUID();
    const p = await bench.opened({ orderId, userId: 'reader-1', amount: 4250 });
    assert.equal(p.status, 'pending');
    assert.equal(p.orderId, orderId);
    assert.equal(p.attempt, 1);
    assert.deepEqual(p.amount, { amount: 4250, currency: 'EUR' });
    assert.match(p.paymentUrl ?? '', new RegExp(`^${bench.sim.publicUrl}/pay/cs_test_`));

    const view = bench.sim.session(await bench.sessionOf(p.id));
    assert.ok(view);
    assert.equal(view.session.amount_total, 4250);
    assert.equal(view.session.currency, 'eur');
    assert.equal(view.session.client_reference_id, orderId);
    assert.deepEqual(view.session.metadata, { orderId, paymentId: p.id, attempt: '1' });
    assert.deepEqual(view.payment_intent?.metadata, { orderId, paymentId: p.id });
    assert.equal(view.session.success_url, `${bench.url}/api/payments/${p.id}/return?session_id={CHECKOUT_SESSION_ID}`);
    assert.equal(view.session.cancel_url, `${bench.url}/api/payments/${p.id}/cancel`);
  });

  test('pay with 4242…: the callback makes it success and PaymentSucceeded is published once, keyed by the order', async () => {
    const orderId = randomUUID();
    const p = await bench.opened({ orderId, userId: 'reader-2', amount: 1999 });
    const paid = await bench.pay(p.paymentUrl!, cards.ok, false);
    assert.equal(paid.status, 303);
    await bench.reaches(p.id, 'success');
    const event = await bench.exactlyOne(p.id, 'payment.succeeded');
    assert.equal(event.aggregateId, orderId);
    assert.deepEqual(event.payload, { paymentId: p.id, orderId, userId: 'reader-2', attempt: 1, amount: { amount: 1999, currency: 'EUR' } });
    assert.deepEqual(await bench.transitions(p.id), ['pending→success']);
    const { rows } = await bench.db.pool.query('SELECT gateway_payment_intent FROM payments WHERE id = $1', [p.id]);
    assert.match(rows[0].gateway_payment_intent, /^pi_/);
  });

  test('the return URL settles the payment at once and sends the reader to the storefront', async () => {
    const p = await bench.opened();
    // The callback is late: the reader's return must not wait for it.
    bench.sim.setFaults({ webhookDelayMs: 4000 });
    try {
      const paid = await bench.pay(p.paymentUrl!);
      assert.equal(paid.back?.status, 303);
      assert.equal(paid.back?.location, `${STOREFRONT}/orders/${p.orderId}?payment=${p.id}&result=success`);
      assert.equal((await bench.payment(p.id)).status, 'success', 'success before the callback arrived');
    } finally {
      bench.sim.clearFaults();
    }
    await bench.exactlyOne(p.id, 'payment.succeeded');
  });

  test('a declined card fails the attempt with the gateway’s reason; insufficient funds too', async () => {
    const p = await bench.opened();
    assert.equal((await bench.pay(p.paymentUrl!, cards.declined)).status, 402);
    const failed = await bench.reaches(p.id, 'failed');
    assert.match(failed.failureReason ?? '', /declined/i);
    const event = await bench.exactlyOne(p.id, 'payment.failed');
    assert.equal(event.payload.reason, failed.failureReason);

    const poor = await bench.opened();
    assert.equal((await bench.pay(poor.paymentUrl!, cards.insufficientFunds)).status, 402);
    assert.match((await bench.reaches(poor.id, 'failed')).failureReason ?? '', /insufficient funds/i);
  });

  test('cancel on the hosted page: cancelled in the database, the session expired at the gateway, the reader sent to the storefront', async () => {
    const p = await bench.opened();
    const cancel = await bench.submit(p.paymentUrl!, { action: 'cancel' });
    assert.equal(cancel.status, 303);
    assert.equal(cancel.location, `${bench.url}/api/payments/${p.id}/cancel`);
    const back = await fetch(cancel.location!, { redirect: 'manual' });
    assert.equal(back.status, 303);
    assert.equal(back.headers.get('location'), `${STOREFRONT}/orders/${p.orderId}?payment=${p.id}&result=cancelled`);
    assert.equal((await bench.payment(p.id)).status, 'cancelled');
    assert.equal(bench.sim.session(await bench.sessionOf(p.id))?.session.status, 'expired');
    await bench.exactlyOne(p.id, 'payment.cancelled');
    // The expired callback that follows changes nothing.
    assert.deepEqual(await bench.transitions(p.id), ['pending→cancelled']);
    const { rows } = await bench.db.pool.query('SELECT cancel_requested, expire_session FROM payments WHERE id = $1', [p.id]);
    assert.deepEqual(rows[0], { cancel_requested: true, expire_session: false });
    // The page cannot be paid any more.
    assert.equal((await bench.pay(p.paymentUrl!, cards.ok, false)).status, 410);
  });

  test('open is idempotent by (orderId, attempt); the same attempt with another amount is a 409', async () => {
    const orderId = randomUUID();
    const first = await bench.opened({ orderId, userId: 'reader-3', amount: 1000 });
    const again = await bench.open({ orderId, userId: 'reader-3', amount: 1000 });
    assert.equal(again.status, 201);
    assert.deepEqual(again.body, first);
    const { rows } = await bench.db.pool.query('SELECT count(*)::int AS n FROM payments WHERE order_id = $1', [orderId]);
    assert.equal(rows[0].n, 1);
    assert.equal((await bench.open({ orderId, userId: 'reader-3', amount: 1001 })).status, 409);
    assert.equal((await bench.open({ orderId, userId: 'reader-3', amount: 1000, deadlineInSeconds: -5, attempt: 2 })).status, 422, 'a deadline in the past');
  });

  test('a new attempt cancels the pending one and expires its session at the gateway', async () => {
    const orderId = randomUUID();
    const first = await bench.opened({ orderId, userId: 'reader-4' });
    const second = await bench.opened({ orderId, userId: 'reader-4', attempt: 2 });
    assert.notEqual(second.id, first.id);
    assert.equal((await bench.payment(first.id)).status, 'cancelled');
    await eventually(async () => bench.sim.session(await bench.sessionOf(first.id))?.session.status === 'expired', { what: 'the first session to expire' });
    const cancelled = await bench.exactlyOne(first.id, 'payment.cancelled');
    assert.deepEqual(cancelled.payload, { paymentId: first.id, orderId, userId: 'reader-4', attempt: 1, reason: 'replaced by attempt 2' });
    await bench.pay(second.paymentUrl!);
    await bench.reaches(second.id, 'success');
    const list = await bench.call<PaymentView[]>('GET', `/internal/payments?orderId=${orderId}`);
    assert.deepEqual(
      list.body.map((p) => [p.attempt, p.status]),
      [
        [1, 'cancelled'],
        [2, 'success'],
      ],
    );
    // A paid order takes no more attempts: they could only be paid twice.
    assert.equal((await bench.open({ orderId, userId: 'reader-4', attempt: 3 })).status, 409);
  });

  test('refund: success → refund → charge.refunded → refunded, PaymentRefunded once; repeating it is harmless', async () => {
    const orderId = randomUUID();
    const p = await bench.opened({ orderId, userId: 'reader-5', amount: 3100 });
    await bench.pay(p.paymentUrl!);
    await bench.reaches(p.id, 'success');

    const asked = await bench.call('POST', `/internal/payments/${p.id}/refund`, { json: { reason: 'the order was cancelled' } });
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    assert.equal(asked.body.id, p.id);
    await bench.reaches(p.id, 'refunded');
    const event = await bench.exactlyOne(p.id, 'payment.refunded');
    assert.deepEqual(event.payload, { paymentId: p.id, orderId, userId: 'reader-5', attempt: 1, amount: { amount: 3100, currency: 'EUR' } });
    assert.equal(event.aggregateId, orderId);

    const again = await bench.call('POST', `/internal/payments/${p.id}/refund`, { json: { reason: 'again' } });
    assert.equal(again.status, 202);
    assert.equal(again.body.status, 'refunded');
    await sleep(500);
    assert.equal(bench.eventsOf(p.id, 'payment.refunded').length, 1);
    const view = bench.sim.session(await bench.sessionOf(p.id));
    assert.equal(view?.refunds.length, 1, 'refunded once at the gateway');
    assert.deepEqual(view?.refunds[0]?.metadata, { paymentId: p.id, orderId, reason: 'the order was cancelled' });
    assert.deepEqual(await bench.transitions(p.id), ['pending→success', 'success→refunded']);
  });

  test('only a successful payment can be refunded: 409 otherwise, 404 for no payment', async () => {
    const p = await bench.opened();
    const refused = await bench.call('POST', `/internal/payments/${p.id}/refund`, { json: { reason: 'why not' } });
    assert.equal(refused.status, 409);
    assert.match(refused.body.detail ?? '', /pending/);
    assert.equal((await bench.call('POST', `/internal/payments/${randomUUID()}/refund`, { json: { reason: 'x' } })).status, 404);
    assert.equal((await bench.call('POST', `/internal/payments/${p.id}/refund`, { json: {} })).status, 400);
  });

  test('at most one success per order: two attempts both paid → one success, the other refunded at the gateway', async () => {
    const orderId = randomUUID();
    const first = await bench.opened({ orderId, userId: 'reader-6' });
    // The reader pays the first page, but Folio does not hear of it (callbacks lost)...
    bench.sim.setFaults({ dropWebhooks: 10_000 });
    let second: PaymentView;
    try {
      assert.equal((await bench.pay(first.paymentUrl!, cards.ok, false)).status, 303);
      // ...and the order service opens a second attempt, whose page the reader pays too.
      second = await bench.opened({ orderId, userId: 'reader-6', attempt: 2 });
      assert.equal((await bench.pay(second.paymentUrl!, cards.ok, false)).status, 303);
      // Expiring the replaced first session finds it paid: a late capture, the order's payment. Reconciliation
      // then finds the second paid too: a duplicate.
      await bench.reaches(first.id, 'success');
      await bench.reaches(second.id, 'failed');
    } finally {
      bench.sim.clearFaults();
    }
    const duplicate = await bench.payment(second.id);
    assert.equal(duplicate.failureReason, 'duplicate payment, refunded');
    await eventually(async () => bench.sim.session(await bench.sessionOf(second.id))?.refunds.length === 1, { what: 'the duplicate to be refunded' });
    const refund = bench.sim.session(await bench.sessionOf(second.id))?.refunds[0];
    assert.equal(refund?.status, 'succeeded');
    assert.equal(refund?.amount, 2599);
    assert.equal(bench.sim.session(await bench.sessionOf(first.id))?.refunds.length, 0, 'the order’s payment is kept');
    await eventually(async () => {
      const { rows } = await bench.db.pool.query('SELECT refunded_at FROM payments WHERE id = $1', [second.id]);
      return rows[0].refunded_at !== null;
    });
    await bench.exactlyOne(first.id, 'payment.succeeded');
    assert.equal(bench.eventsOf(second.id, 'payment.succeeded').length, 0);
    assert.ok(
      bench.logs.some((l) => l.level === 50 && l.alert === 'double-payment' && l.paymentId === second.id),
      'an error line alerts about the double payment',
    );

    const { rows } = await bench.db.pool.query("SELECT count(*)::int AS n FROM payments WHERE order_id = $1 AND status IN ('success', 'refunded')", [orderId]);
    assert.equal(rows[0].n, 1);
    // And the database refuses a second success whatever the code would do.
    await assert.rejects(
      bench.db.pool.query("UPDATE payments SET status = 'success' WHERE id = $1", [second.id]),
      (err: { code?: string }) => err.code === '23505',
    );
  });

  test('late capture: a declined attempt paid afterwards on the same page becomes success (failed → success)', async () => {
    const p = await bench.opened();
    assert.equal((await bench.pay(p.paymentUrl!, cards.declined)).status, 402);
    await bench.reaches(p.id, 'failed');
    assert.equal((await bench.pay(p.paymentUrl!, cards.ok, false)).status, 303);
    await bench.reaches(p.id, 'success');
    await bench.exactlyOne(p.id, 'payment.succeeded');
    assert.deepEqual(await bench.transitions(p.id), ['pending→failed', 'failed→success']);
    assert.ok(bench.logs.some((l) => l.paymentId === p.id && /late capture/.test(String(l.msg))));
  });

  test('late capture: an attempt Folio gave up on (timed out) is paid after all → success and PaymentSucceeded', async () => {
    const p = await bench.opened();
    // Folio's side of the window closed (as a timeout sweep would record it) while the page stayed payable.
    await bench.db.pool.query("UPDATE payments SET status = 'timeout' WHERE id = $1", [p.id]);
    assert.equal((await bench.pay(p.paymentUrl!, cards.ok, false)).status, 303);
    await bench.reaches(p.id, 'success');
    await bench.exactlyOne(p.id, 'payment.succeeded');
    assert.deepEqual(await bench.transitions(p.id), ['timeout→success']);
  });

  test('late capture: a cancel that crosses the payment — the cancel wins in Folio, then the gateway’s capture makes it success', async () => {
    const p = await bench.opened();
    bench.sim.setFaults({ dropWebhooks: 10_000 });
    try {
      assert.equal((await bench.pay(p.paymentUrl!, cards.ok, false)).status, 303);
      // The cancel link (another tab): cancelled first, then expiring the session finds it paid.
      const back = await fetch(`${bench.url}/api/payments/${p.id}/cancel`, { redirect: 'manual' });
      assert.equal(back.status, 303);
      assert.match(back.headers.get('location') ?? '', /result=success$/);
      assert.equal((await bench.payment(p.id)).status, 'success');
    } finally {
      bench.sim.clearFaults();
    }
    assert.deepEqual(await bench.transitions(p.id), ['pending→cancelled', 'cancelled→success']);
    await bench.exactlyOne(p.id, 'payment.succeeded');
    await bench.exactlyOne(p.id, 'payment.cancelled');
  });

  test('bad input is a 400 problem naming the field, never a 500', async () => {
    const bad = await bench.call('POST', '/internal/payments', {
      json: { orderId: 'not-a-uuid', userId: 'u', attempt: 1, amount: { amount: 100, currency: 'EUR' }, deadline: new Date().toISOString() },
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body.detail ?? '', /orderId/);
    const float = await bench.call('POST', '/internal/payments', {
      json: { orderId: randomUUID(), userId: 'u', attempt: 1, amount: { amount: 12.5, currency: 'EUR' }, deadline: new Date().toISOString() },
    });
    assert.equal(float.status, 400, 'money is integer minor units');
    assert.equal((await bench.call('GET', '/internal/payments')).status, 400);
    assert.equal((await bench.call('GET', '/internal/payments?orderId=nope')).status, 400);
    assert.equal((await bench.call('GET', '/api/payments/nope/return')).status, 400);
    assert.equal((await bench.call('GET', `/api/payments/${randomUUID()}/return`)).status, 404);
    assert.equal((await bench.call('GET', `/api/payments/${randomUUID()}/cancel`)).status, 404);
  });

  test('the OpenAPI document names every route', async () => {
    const doc = (await (await fetch(`${bench.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    for (const path of [
      '/internal/payments',
      '/internal/payments/{id}/refund',
      '/api/payments/{id}',
      '/api/payments/{id}/return',
      '/api/payments/{id}/cancel',
      '/api/payments/webhook',
    ]) {
      assert.ok(doc.paths[path], path);
    }
  });

  test('a reader reads only their own payment: another reader gets 404, no token 401', async () => {
    const p = await bench.opened({ userId: 'ann' });
    const mine = await bench.call('GET', `/api/payments/${p.id}`, { token: await bench.identity.token('ann') });
    assert.equal(mine.status, 200);
    assert.deepEqual(mine.body, p);
    const theirs = await bench.call('GET', `/api/payments/${p.id}`, { token: await bench.identity.token('bob') });
    assert.equal(theirs.status, 404);
    assert.equal((await bench.call('GET', `/api/payments/${p.id}`)).status, 401);
    assert.equal((await bench.call('GET', `/api/payments/${randomUUID()}`, { token: await bench.identity.token('ann') })).status, 404);
  });
});
