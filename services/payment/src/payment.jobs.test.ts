/**
 * The background jobs against the real simulator: deadlines, missed callbacks, and a gateway that fails
 * or hangs (seed 001, "gateway unresponsive").
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '@folio/platform/testing';
import { cards, PaymentBench } from './payment.fixture.ts';

const gauge = (metrics: string, name: string): number | undefined => {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+(?:\\.\\d+)?)$`, 'm').exec(metrics);
  return m ? Number(m[1]) : undefined;
};
const errorsCounted = (metrics: string, operation: string): number =>
  [...metrics.matchAll(new RegExp(`^folio_payment_gateway_errors_total\\{[^}]*operation="${operation}"[^}]*\\} (\\d+)$`, 'gm'))].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  );

/** The payment once its session exists (the jobs created it). */
const withPage = (bench: PaymentBench, id: string) =>
  eventually(
    async () => {
      const p = await bench.payment(id);
      return p.paymentUrl ? p : undefined;
    },
    { timeoutMs: 20_000, what: `a checkout session for ${id}` },
  );

describe('payment jobs', () => {
  let bench: PaymentBench;
  before(async () => {
    bench = await PaymentBench.start('payment_jobs');
  });
  after(async () => {
    await bench?.close();
  });

  test('timeout: the deadline passes unpaid → the session is expired at the gateway, the payment times out, PaymentTimedOut once', async () => {
    const p = await bench.opened({ deadlineInSeconds: 6 });
    const timedOut = await bench.reaches(p.id, 'timeout', 15_000);
    assert.equal(timedOut.status, 'timeout');
    assert.equal(bench.sim.session(await bench.sessionOf(p.id))?.session.status, 'expired');
    const event = await bench.exactlyOne(p.id, 'payment.timed-out');
    assert.equal(event.aggregateId, p.orderId);
    assert.deepEqual(await bench.transitions(p.id), ['pending→timeout']);
  });

  test('timeout with every callback lost: the job reads the expired session itself', async () => {
    bench.sim.setFaults({ dropWebhooks: 10_000 });
    try {
      const p = await bench.opened({ deadlineInSeconds: 6 });
      await bench.reaches(p.id, 'timeout', 15_000);
      await bench.exactlyOne(p.id, 'payment.timed-out');
    } finally {
      bench.sim.clearFaults();
    }
  });

  test('a payment completed at the gateway whose callbacks were lost is found by reconciliation: success, not timeout', async () => {
    bench.sim.setFaults({ dropWebhooks: 10_000 });
    let id: string;
    try {
      const p = await bench.opened({ deadlineInSeconds: 8 });
      id = p.id;
      assert.equal((await bench.pay(p.paymentUrl!, cards.ok, false)).status, 303); // the reader never comes back either
      await bench.reaches(p.id, 'success', 10_000);
    } finally {
      bench.sim.clearFaults();
    }
    await sleep(8_000); // past the deadline: still success
    assert.equal((await bench.payment(id)).status, 'success');
    await bench.exactlyOne(id, 'payment.succeeded');
    assert.equal(bench.eventsOf(id, 'payment.timed-out').length, 0);
  });

  test('a refund asked while the gateway is down is retried by the job until it is accepted', async () => {
    const p = await bench.opened();
    await bench.pay(p.paymentUrl!);
    await bench.reaches(p.id, 'success');
    bench.sim.setFaults({ apiStatus: 503 });
    try {
      const asked = await bench.call('POST', `/internal/payments/${p.id}/refund`, { json: { reason: 'out of stock' } });
      assert.equal(asked.status, 202);
      assert.equal(asked.body.status, 'success', 'recorded, not yet refunded');
      const { rows } = await bench.db.pool.query('SELECT refund_requested_at, refund_id FROM payments WHERE id = $1', [p.id]);
      assert.ok(rows[0].refund_requested_at);
      assert.equal(rows[0].refund_id, null);
    } finally {
      bench.sim.clearFaults();
    }
    await bench.reaches(p.id, 'refunded', 20_000);
    await bench.exactlyOne(p.id, 'payment.refunded');
    assert.equal(bench.sim.session(await bench.sessionOf(p.id))?.refunds.length, 1);
  });

  test('a replaced attempt whose session could not be expired then is expired by the job', async () => {
    const orderId = randomUUID();
    const first = await bench.opened({ orderId, userId: 'reader-7' });
    bench.sim.setFaults({ apiStatus: 503 });
    let secondId: string;
    try {
      const second = await bench.open({ orderId, userId: 'reader-7', attempt: 2 });
      assert.equal(second.status, 201);
      assert.equal(second.body.paymentUrl, null);
      secondId = second.body.id;
      assert.equal((await bench.payment(first.id)).status, 'cancelled');
      await sleep(500);
      assert.equal(bench.sim.session(await bench.sessionOf(first.id))?.session.status, 'open', 'still open while the gateway is down');
    } finally {
      bench.sim.clearFaults();
    }
    await eventually(async () => bench.sim.session(await bench.sessionOf(first.id))?.session.status === 'expired', {
      timeoutMs: 20_000,
      what: 'the replaced session to be expired',
    });
    const second = await withPage(bench, secondId);
    assert.equal(second.status, 'pending');
    await bench.pay(second.paymentUrl!);
    await bench.reaches(secondId, 'success');
  });
});

describe('payment gateway unresponsive (seed 001)', () => {
  let bench: PaymentBench;
  before(async () => {
    // Reconciliation out of the way: only the deadline and session-creation jobs act here.
    bench = await PaymentBench.start('payment_outage', { PAYMENT_RECONCILE_AFTER_SECONDS: '3600' });
  });
  after(async () => {
    await bench?.close();
  });

  test('the gateway answers 503: open answers 201 without a page, the breaker opens with an alert, and the session follows once it recovers', async () => {
    bench.sim.setFaults({ apiStatus: 503 });
    let id: string;
    try {
      const started = Date.now();
      const res = await bench.open();
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.status, 'pending');
      assert.equal(res.body.paymentUrl, null);
      assert.ok(Date.now() - started < 3_000, 'the order service is answered quickly');
      id = res.body.id;
      assert.ok(errorsCounted(await bench.metrics(), 'create-session') >= 1, 'the failure is counted');
      // The job keeps trying; the breaker opens.
      await eventually(async () => gauge(await bench.metrics(), 'folio_payment_gateway_breaker_open') === 1, {
        timeoutMs: 15_000,
        what: 'the breaker to open',
      });
      assert.ok(
        bench.logs.some((l) => l.level === 50 && /payment gateway unreachable/.test(String(l.msg)) && /OPENED/.test(String(l.msg))),
        'an error line says the gateway is unreachable',
      );
      assert.ok(bench.logs.some((l) => l.level === 50 && l.msg === 'payment gateway unreachable' && l.operation === 'create-session'));
      assert.equal((await bench.payment(id)).paymentUrl, null);
    } finally {
      bench.sim.clearFaults();
    }
    const recovered = await withPage(bench, id);
    await eventually(async () => gauge(await bench.metrics(), 'folio_payment_gateway_breaker_open') === 0, { what: 'the breaker to close' });
    await bench.pay(recovered.paymentUrl!);
    await bench.reaches(id, 'success');
  });

  test('the gateway hangs: open answers 201 without a page after one timeout; the session is picked up afterwards', async () => {
    await eventually(async () => gauge(await bench.metrics(), 'folio_payment_gateway_breaker_open') === 0);
    bench.sim.setFaults({ apiHangMs: 4_000 });
    let id: string;
    try {
      const started = Date.now();
      const res = await bench.open();
      assert.equal(res.status, 201);
      assert.equal(res.body.paymentUrl, null);
      assert.ok(Date.now() - started < 3_500, `answered in ${Date.now() - started} ms`);
      id = res.body.id;
      assert.ok(errorsCounted(await bench.metrics(), 'create-session') >= 1);
    } finally {
      bench.sim.clearFaults();
    }
    const recovered = await withPage(bench, id);
    assert.equal(bench.sim.session(await bench.sessionOf(id))?.session.metadata.paymentId, id);
    await bench.pay(recovered.paymentUrl!);
    await bench.reaches(id, 'success');
  });

  test('no session before the deadline (gateway down throughout): the payment times out', async () => {
    await eventually(async () => gauge(await bench.metrics(), 'folio_payment_gateway_breaker_open') === 0);
    bench.sim.setFaults({ apiStatus: 502 });
    try {
      const res = await bench.open({ deadlineInSeconds: 3 });
      assert.equal(res.status, 201);
      assert.equal(res.body.paymentUrl, null);
      await bench.reaches(res.body.id, 'timeout', 10_000);
      await bench.exactlyOne(res.body.id, 'payment.timed-out');
    } finally {
      bench.sim.clearFaults();
    }
  });
});
