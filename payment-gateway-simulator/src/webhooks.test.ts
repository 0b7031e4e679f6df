/** Signed, at-least-once webhooks, and the faults of /_sim, seen from a real endpoint that verifies with the official SDK. */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import Stripe from 'stripe';
import { type Harness, payWith, sdk, sessionParams, startHarness } from './simulator.fixture.ts';
import { signatureHeader } from './webhooks.ts';

const verifier = new Stripe('sk_test_unused');

describe('signing', () => {
  const payload = JSON.stringify({ id: 'evt_1', object: 'event', type: 'checkout.session.completed' }, null, 2);

  test('constructEvent accepts what signatureHeader signs', () => {
    const event = verifier.webhooks.constructEvent(payload, signatureHeader(payload, 'whsec_abc'), 'whsec_abc');
    assert.equal(event.id, 'evt_1');
  });

  test('constructEvent refuses a tampered body, another secret, or an old timestamp', () => {
    const header = signatureHeader(payload, 'whsec_abc');
    assert.throws(
      () => verifier.webhooks.constructEvent(payload.replace('completed', 'expired'), header, 'whsec_abc'),
      Stripe.errors.StripeSignatureVerificationError,
    );
    assert.throws(() => verifier.webhooks.constructEvent(payload, header, 'whsec_other'), Stripe.errors.StripeSignatureVerificationError);
    const old = signatureHeader(payload, 'whsec_abc', Math.floor(Date.now() / 1000) - 600);
    assert.throws(() => verifier.webhooks.constructEvent(payload, old, 'whsec_abc'), /tolerance/);
  });

  test('the header is Stripe’s: t=<unix seconds>,v1=<hex HMAC-SHA256>', () => {
    assert.match(signatureHeader(payload, 'whsec_abc', 1_700_000_000), /^t=1700000000,v1=[0-9a-f]{64}$/);
  });
});

describe('delivery', () => {
  let h: Harness;
  before(async () => {
    // A reorder window long enough for a loaded machine to make a batch of three events in it.
    h = await startHarness({ webhookMaxAttempts: 5, reorderWindowMs: 1_500 });
  });
  after(() => h.close());
  beforeEach(async () => {
    await h.sim.settled();
    await h.sim.reset();
    h.receiver.received.length = 0;
    h.receiver.respond = () => 200;
  });

  async function expireOne(): Promise<string> {
    const session = await h.stripe.checkout.sessions.create(sessionParams());
    await h.stripe.checkout.sessions.expire(session.id);
    return session.id;
  }

  test('every event arrives signed; a tampered copy of it is refused by constructEvent', async () => {
    const session = await h.stripe.checkout.sessions.create(sessionParams());
    await payWith(String(session.url), '4242 4242 4242 4242');
    await h.receiver.waitFor((es) => es.length === 2);
    for (const r of h.receiver.received) {
      assert.equal(r.error, undefined);
      assert.match(r.signature, /^t=\d+,v1=[0-9a-f]{64}$/);
      const event = r.event as Stripe.Event;
      assert.match(event.id, /^evt_[A-Za-z0-9]{24}$/);
      assert.equal(event.object, 'event');
      assert.equal(event.api_version, Stripe.API_VERSION);
      assert.equal(event.livemode, false);
      assert.equal(event.pending_webhooks, 1);
      assert.deepEqual(event.request, { id: null, idempotency_key: null });
      assert.ok(Math.abs(event.created - Date.now() / 1000) < 5);
      assert.throws(() => verifier.webhooks.constructEvent(r.raw.replace('"livemode": false', '"livemode": true'), r.signature, h.sim.webhookSecret));
    }
    // The admin view shows each delivery and its attempt.
    await h.sim.settled();
    const [view] = h.sim.events();
    assert.equal(view?.delivery, 'delivered');
    assert.equal(view?.deliveries[0]?.attempts[0]?.outcome, 'succeeded');
    assert.equal(view?.deliveries[0]?.attempts[0]?.status, 200);
  });

  test('never inside the API call: the answer comes before the delivery', async () => {
    h.receiver.respond = () => 200;
    const session = await h.stripe.checkout.sessions.create(sessionParams());
    const expired = await h.stripe.checkout.sessions.expire(session.id);
    assert.equal(expired.status, 'expired');
    assert.equal(h.receiver.received.length, 0);
    await h.receiver.waitFor((es) => es.length === 1);
  });

  test('retried with exponential backoff while the endpoint answers 500, delivered once it answers 200', async () => {
    h.receiver.respond = (_event, n) => (n <= 3 ? 500 : 200);
    await expireOne();
    await h.receiver.waitFor((es) => es.length === 4, 'the fourth attempt');
    const statuses = h.receiver.received.map((r) => r.answered);
    assert.deepEqual(statuses, [500, 500, 500, 200]);
    assert.equal(new Set(h.receiver.events().map((e) => e.id)).size, 1, 'one event, four attempts');
    // Base 20 ms: waits of ~20, ~40, ~80 ms (±25 %), so each gap is at least 0.75 × base × 2^(n-1).
    const at = h.receiver.received.map((r) => r.at);
    for (let n = 1; n <= 3; n++) {
      const gap = (at[n] ?? 0) - (at[n - 1] ?? 0);
      assert.ok(gap >= 0.75 * 20 * 2 ** (n - 1) - 2, `gap ${n} was ${gap} ms`);
    }
    await h.sim.settled();
    const [view] = h.sim.events();
    assert.equal(view?.delivery, 'delivered');
    assert.deepEqual(
      view?.deliveries[0]?.attempts.map((a) => [a.attempt, a.outcome, a.status]),
      [
        [1, 'failed', 500],
        [2, 'failed', 500],
        [3, 'failed', 500],
        [4, 'succeeded', 200],
      ],
    );
  });

  test('abandoned after WEBHOOK_MAX_ATTEMPTS', async () => {
    h.receiver.respond = () => 503;
    await expireOne();
    await h.sim.settled();
    assert.equal(h.receiver.received.length, 5);
    const [view] = h.sim.events();
    assert.equal(view?.delivery, 'failed');
    assert.equal(view?.deliveries[0]?.status, 'failed');
    assert.equal(view?.deliveries[0]?.attempts.length, 5);
  });

  test('an endpoint that is down is retried too', async () => {
    const sim = await (await import('./simulator.ts')).startSimulator({
      webhookUrl: 'http://127.0.0.1:9/unreachable',
      webhookMaxAttempts: 2,
      webhookBaseDelayMs: 10,
      logLevel: 'silent',
    });
    try {
      const stripe = sdk(sim);
      const session = await stripe.checkout.sessions.create(sessionParams());
      await stripe.checkout.sessions.expire(session.id);
      await sim.settled();
      const [view] = sim.events();
      assert.equal(view?.delivery, 'failed');
      assert.equal(view?.deliveries[0]?.attempts.length, 2);
      assert.match(String(view?.deliveries[0]?.attempts[0]?.error), /ECONNREFUSED/);
    } finally {
      await sim.close();
    }
  });

  describe('faults', () => {
    async function setFaults(body: unknown) {
      const res = await fetch(`${h.sim.url}/_sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    }

    test('dropWebhooks: the next deliveries are not sent, and arrive later', async () => {
      const set = await setFaults({ dropWebhooks: 2 });
      assert.equal(set.status, 200);
      assert.equal(set.body.dropWebhooks, 2);
      await expireOne();
      await h.receiver.waitFor((es) => es.length === 1);
      await h.sim.settled();
      assert.equal(h.receiver.received.length, 1, 'the dropped attempts were never sent');
      const [view] = h.sim.events();
      assert.deepEqual(
        view?.deliveries[0]?.attempts.map((a) => a.outcome),
        ['dropped', 'dropped', 'succeeded'],
      );
      assert.equal(h.sim.faults().dropWebhooks, 0);
    });

    test('duplicateWebhooks: each event is delivered twice, with one id', async () => {
      await setFaults({ duplicateWebhooks: true });
      await expireOne();
      const events = await h.receiver.waitFor((es) => es.length === 2);
      assert.equal(events[0]?.id, events[1]?.id);
      await h.sim.settled();
      assert.equal(h.sim.events()[0]?.deliveries.length, 2);
      assert.equal(h.sim.events()[0]?.delivery, 'delivered');
    });

    test('reorderWebhooks: events are held and delivered newest first', async () => {
      await setFaults({ reorderWebhooks: true });
      const ids = [await expireOne(), await expireOne(), await expireOne()];
      assert.ok(h.sim.events().every((e) => e.deliveries[0]?.status === 'held'));
      const events = await h.receiver.waitFor((es) => es.length === 3);
      assert.deepEqual(
        events.map((e) => (e.data.object as Stripe.Checkout.Session).id),
        ids.toReversed(),
      );
    });

    test('turning reorderWebhooks off delivers what was held', async () => {
      h.sim.setFaults({ reorderWebhooks: true });
      h.sim.setFaults({}); // no change
      await expireOne();
      const res = await fetch(`${h.sim.url}/_sim/faults`, { method: 'DELETE' });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { reorderWebhooks: boolean }).reorderWebhooks, false);
      await h.receiver.waitFor((es) => es.length === 1);
    });

    test('webhookDelayMs: deliveries are late', async () => {
      await setFaults({ webhookDelayMs: 300 });
      const started = Date.now();
      await expireOne();
      await h.receiver.waitFor((es) => es.length === 1);
      assert.ok((h.receiver.received[0]?.at ?? 0) - started >= 300);
    });

    test('apiStatus 503: the SDK sees a StripeAPIError with status 503, and nothing happens', async () => {
      await setFaults({ apiStatus: 503 });
      try {
        await h.stripe.checkout.sessions.create(sessionParams());
        assert.fail('expected a 503');
      } catch (err) {
        assert.ok(err instanceof Stripe.errors.StripeAPIError, String(err));
        assert.equal(err.statusCode, 503);
        assert.equal(err.rawType, 'api_error');
      }
      // The SDK's own retries (here 2, as its default) see the same outage.
      const retrying = sdk(h.sim, { maxNetworkRetries: 2 });
      await assert.rejects(retrying.paymentIntents.retrieve('pi_x'), Stripe.errors.StripeAPIError);
      // The hosted page and /_sim are not the API: they still answer.
      assert.equal((await fetch(`${h.sim.url}/_sim/faults`)).status, 200);
      await h.sim.clearFaults();
      const session = await h.stripe.checkout.sessions.create(sessionParams());
      assert.equal(session.status, 'open');
      assert.equal(h.sim.events().length, 0);
      assert.equal((await fetch(`${h.sim.url}/_sim/sessions/${session.id}`)).status, 200);
    });

    test('apiHangMs: the SDK times out; the work was done, and the idempotent retry gets it', async () => {
      await setFaults({ apiHangMs: 600 });
      const impatient = sdk(h.sim, { timeout: 150 });
      const started = Date.now();
      try {
        await impatient.checkout.sessions.create(sessionParams(), { idempotencyKey: 'order-ORD-1' });
        assert.fail('expected a timeout');
      } catch (err) {
        assert.ok(err instanceof Stripe.errors.StripeConnectionError, String(err));
        assert.match(err.message, /timeout/);
      }
      assert.ok(Date.now() - started < 500, 'the client gave up at its own timeout');
      h.sim.clearFaults();
      const retried = await h.stripe.checkout.sessions.create(sessionParams(), { idempotencyKey: 'order-ORD-1' });
      assert.equal(retried.lastResponse.headers['idempotent-replayed'], 'true');
      assert.equal(h.sim.session(retried.id)?.session.status, 'open');
    });

    test('a fault body that is not understood is a 400 problem naming the field', async () => {
      const res = await setFaults({ apiStatus: 418 });
      assert.equal(res.status, 400);
      assert.match(String(res.body.detail), /apiStatus/);
      const unknown = await setFaults({ dropEverything: true });
      assert.equal(unknown.status, 400);
      assert.match(String(unknown.body.detail), /dropEverything/);
    });
  });

  test('GET /_sim/events and /_sim/sessions/:id show what happened; POST /_sim/reset forgets it', async () => {
    const session = await h.stripe.checkout.sessions.create(sessionParams());
    await payWith(String(session.url), '4000 0000 0000 0002');
    await payWith(String(session.url), '4242 4242 4242 4242');
    await h.sim.settled();

    const events = (await (await fetch(`${h.sim.url}/_sim/events`)).json()) as { data: Array<{ type: string; delivery: string; deliveries: unknown[] }> };
    assert.deepEqual(
      events.data.map((e) => [e.type, e.delivery]),
      [
        ['payment_intent.payment_failed', 'delivered'],
        ['payment_intent.succeeded', 'delivered'],
        ['checkout.session.completed', 'delivered'],
      ],
    );
    const filtered = (await (await fetch(`${h.sim.url}/_sim/events?type=checkout.session.completed`)).json()) as { data: unknown[] };
    assert.equal(filtered.data.length, 1);

    const view = (await (await fetch(`${h.sim.url}/_sim/sessions/${session.id}`)).json()) as {
      session: { status: string };
      payment_intent: { status: string };
      charges: Array<{ status: string }>;
      events: unknown[];
      line_items: Array<{ name: string }>;
    };
    assert.equal(view.session.status, 'complete');
    assert.equal(view.payment_intent.status, 'succeeded');
    assert.deepEqual(
      view.charges.map((c) => c.status),
      ['failed', 'succeeded'],
    );
    assert.equal(view.events.length, 3);
    assert.equal(view.line_items[0]?.name, 'Folio order ORD-1');
    assert.equal((await fetch(`${h.sim.url}/_sim/sessions/cs_test_nope`)).status, 404);

    const reset = await fetch(`${h.sim.url}/_sim/reset`, { method: 'POST' });
    assert.equal(reset.status, 204);
    assert.equal(h.sim.events().length, 0);
    await assert.rejects(h.stripe.checkout.sessions.retrieve(session.id), { statusCode: 404 });
  });
});
