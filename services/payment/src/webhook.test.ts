/**
 * The gateway's callback: only events signed with a configured secret, within five minutes, change
 * anything; each event changes things once; events arriving twice or out of order never move a payment
 * backwards. Real simulator, real HTTP, real PostgreSQL.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '@folio/platform/testing';
import { cards, OLD_WEBHOOK_SECRET, PaymentBench, WEBHOOK_SECRET } from './payment.fixture.ts';

const sign = (payload: string, secret: string, at = Math.floor(Date.now() / 1000)) =>
  `t=${at},v1=${createHmac('sha256', secret).update(`${at}.${payload}`, 'utf8').digest('hex')}`;

describe('the gateway callback', () => {
  let bench: PaymentBench;
  let hook: string;
  before(async () => {
    bench = await PaymentBench.start('payment_webhook');
    hook = `${bench.url}/api/payments/webhook`;
  });
  after(async () => {
    await bench?.close();
  });

  const post = async (payload: string, signature?: string, contentType = 'application/json') => {
    const res = await fetch(hook, {
      method: 'POST',
      headers: { 'content-type': contentType, ...(signature !== undefined ? { 'stripe-signature': signature } : {}) },
      body: payload,
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as { detail?: string; received?: boolean } };
  };

  /** A completed-session event for the payment, as the gateway would word it. */
  const completion = (paymentId: string, orderId: string, sessionId = `cs_test_${randomBytes(8).toString('hex')}`) =>
    JSON.stringify({
      id: `evt_${randomBytes(8).toString('hex')}`,
      object: 'event',
      type: 'checkout.session.completed',
      created: Math.floor(Date.now() / 1000),
      data: {
        object: {
          id: sessionId,
          object: 'checkout.session',
          metadata: { paymentId, orderId },
          payment_status: 'paid',
          status: 'complete',
          payment_intent: 'pi_forged',
        },
      },
    });

  test('forged, unsigned and stale callbacks are refused with 400 and change nothing', async () => {
    const p = await bench.opened();
    const payload = completion(p.id, p.orderId, await bench.sessionOf(p.id));
    const tenMinutesAgo = Math.floor(Date.now() / 1000) - 600;
    for (const [what, signature] of [
      ['no signature', undefined],
      ['signed with another secret', sign(payload, 'whsec_not_ours')],
      ['a made-up signature', `t=${Math.floor(Date.now() / 1000)},v1=${'ab'.repeat(32)}`],
      ['signed ten minutes ago', sign(payload, WEBHOOK_SECRET, tenMinutesAgo)],
      ['garbage header', 'nonsense'],
    ] as const) {
      const res = await post(payload, signature);
      assert.equal(res.status, 400, what);
      assert.match(res.body.detail ?? '', /not signed by the payment gateway/, what);
    }
    // A valid signature over other bytes than those sent.
    assert.equal((await post(payload.replace('"paid"', '"paid" '), sign(payload, WEBHOOK_SECRET))).status, 400);
    // Only JSON bodies are read.
    assert.equal((await post(payload, sign(payload, WEBHOOK_SECRET), 'text/plain')).status, 415);

    await sleep(300);
    assert.equal((await bench.payment(p.id)).status, 'pending', 'nothing changed');
    assert.deepEqual(bench.eventsOf(p.id), []);
    const { rows } = await bench.db.pool.query('SELECT count(*)::int AS n FROM gateway_events');
    const before = rows[0].n;
    assert.equal((await post(payload, sign(payload, 'whsec_not_ours'))).status, 400);
    assert.equal((await bench.db.pool.query('SELECT count(*)::int AS n FROM gateway_events')).rows[0].n, before, 'a refused event is not recorded');
  });

  test('the secret being rotated out still verifies (two secrets during a rotation)', async () => {
    const p = await bench.opened();
    bench.sim.setFaults({ dropWebhooks: 10_000 });
    try {
      assert.equal((await bench.pay(p.paymentUrl!, cards.ok, false)).status, 303);
      // The gateway's own event, as it would be signed by an endpoint still on the previous secret.
      const sessionId = await bench.sessionOf(p.id);
      const record = bench.sim.events().find((e) => e.type === 'checkout.session.completed' && (e.event.data.object as { id: string }).id === sessionId);
      assert.ok(record);
      const payload = JSON.stringify(record.event, null, 2);
      const res = await post(payload, sign(payload, OLD_WEBHOOK_SECRET));
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { received: true });
      assert.equal((await bench.payment(p.id)).status, 'success', 'applied before the answer');
    } finally {
      bench.sim.clearFaults();
    }
    await bench.exactlyOne(p.id, 'payment.succeeded');
  });

  test('a replayed event changes nothing: its id was recorded with its effect', async () => {
    const p = await bench.opened();
    assert.equal((await bench.pay(p.paymentUrl!, cards.declined)).status, 402);
    await bench.reaches(p.id, 'failed');
    await bench.sim.settled();
    const record = bench.sim.events().find((e) => e.type === 'payment_intent.payment_failed' && e.delivery === 'delivered');
    assert.ok(record);
    const payload = JSON.stringify(record.event, null, 2);
    // Re-sent later with a fresh, valid signature (a retry, or an attacker who kept a signed copy).
    for (let i = 0; i < 3; i++) assert.equal((await post(payload, sign(payload, WEBHOOK_SECRET))).status, 200);
    await sleep(300);
    assert.equal(bench.eventsOf(p.id, 'payment.failed').length, 1);
    assert.deepEqual(await bench.transitions(p.id), ['pending→failed']);
    // Recognised as a repeat by its id, before the state machine is even asked.
    const { rows } = await bench.db.pool.query('SELECT type FROM gateway_events WHERE event_id = $1', [record.id]);
    assert.deepEqual(rows, [{ type: 'payment_intent.payment_failed' }]);
    const repeats = bench.logs.filter((l) => l.eventId === record.id && /already applied/.test(String(l.msg)));
    assert.ok(repeats.length >= 3, `each replay was recognised (${repeats.length})`);
    // Replayed with its original, now stale, timestamp: refused outright.
    assert.equal((await post(payload, sign(payload, WEBHOOK_SECRET, Math.floor(Date.now() / 1000) - 301))).status, 400);
  });

  test('an event for an unknown payment is acknowledged (200) and ignored', async () => {
    const payload = completion(randomUUID(), randomUUID());
    assert.equal((await post(payload, sign(payload, WEBHOOK_SECRET))).status, 200);
    const foreign = JSON.stringify({
      id: `evt_${randomBytes(8).toString('hex')}`,
      object: 'event',
      type: 'customer.created',
      data: { object: { id: 'cus_1' } },
    });
    assert.equal((await post(foreign, sign(foreign, WEBHOOK_SECRET))).status, 200);
  });

  test('duplicated callbacks: one effect, one event', async () => {
    const p = await bench.opened();
    bench.sim.setFaults({ duplicateWebhooks: true });
    try {
      await bench.pay(p.paymentUrl!, cards.ok, false);
      await bench.reaches(p.id, 'success');
      await bench.sim.settled();
    } finally {
      bench.sim.clearFaults();
    }
    await bench.exactlyOne(p.id, 'payment.succeeded');
    assert.deepEqual(await bench.transitions(p.id), ['pending→success']);
  });

  test('reordered and duplicated callbacks never move a payment backwards', async () => {
    const p = await bench.opened();
    bench.sim.setFaults({ duplicateWebhooks: true, reorderWebhooks: true });
    try {
      // A decline, then a successful retry on the same page: the gateway's events arrive newest first, twice each.
      assert.equal((await bench.pay(p.paymentUrl!, cards.declined)).status, 402);
      assert.equal((await bench.pay(p.paymentUrl!, cards.ok, false)).status, 303);
    } finally {
      bench.sim.clearFaults(); // delivers the held batch, newest first
    }
    await bench.reaches(p.id, 'success');
    await bench.sim.settled();
    await sleep(300);
    // The decline came last: refused, so the payment never went back to failed.
    assert.deepEqual(await bench.transitions(p.id), ['pending→success']);
    assert.equal((await bench.payment(p.id)).status, 'success');
    assert.equal(bench.eventsOf(p.id, 'payment.succeeded').length, 1);
    assert.equal(bench.eventsOf(p.id, 'payment.failed').length, 0);
    assert.ok(
      bench.logs.some((l) => l.paymentId === p.id && l.trigger === 'declined' && /refused/.test(String(l.msg))),
      'the refusal is logged',
    );

    // And a refund's events arriving before... or twice: refunded once.
    bench.sim.setFaults({ duplicateWebhooks: true, reorderWebhooks: true });
    try {
      assert.equal((await bench.call('POST', `/internal/payments/${p.id}/refund`, { json: { reason: 'changed mind' } })).status, 202);
    } finally {
      bench.sim.clearFaults();
    }
    await bench.reaches(p.id, 'refunded');
    await bench.exactlyOne(p.id, 'payment.refunded');
    await eventually(async () => (await bench.transitions(p.id)).length === 2);
    assert.deepEqual(await bench.transitions(p.id), ['pending→success', 'success→refunded']);
  });
});
