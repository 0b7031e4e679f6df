/** The /v1 API through the official SDK (and raw HTTP where the SDK hides what is checked). */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import Stripe from 'stripe';
import { CANCEL_URL, type Harness, objectOf, payWith, SUCCESS_URL, sdk, sessionParams, startHarness } from './simulator.fixture.ts';
import { API_VERSION } from './simulator.ts';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());
beforeEach(async () => {
  await h.sim.settled();
  await h.sim.reset();
  h.receiver.received.length = 0;
  h.receiver.respond = () => 200;
});

/** The error a promise rejects with (fails if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof Stripe.errors.StripeError, `expected a StripeError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the call to fail');
}

async function raw(method: string, path: string, opts: { body?: string; key?: string | null; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${h.sim.url}${path}`, {
    method,
    headers: {
      ...(opts.key === null ? {} : { authorization: `Bearer ${opts.key ?? h.sim.apiKey}` }),
      ...(opts.body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      ...opts.headers,
    },
    ...(opts.body !== undefined ? { body: opts.body } : {}),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as { error?: { type: string; code?: string; message: string; param?: string } } };
}

describe('checkout sessions', () => {
  test('create answers a Checkout Session object shaped as Stripe’s', async () => {
    const before = Math.floor(Date.now() / 1000);
    const session = await h.stripe.checkout.sessions.create(
      sessionParams({
        line_items: [
          { price_data: { currency: 'eur', unit_amount: 1250, product_data: { name: 'The Name of the Rose' } }, quantity: 2 },
          { price_data: { currency: 'eur', unit_amount: 499, product_data: { name: 'Shipping' } }, quantity: 1 },
        ],
      }),
    );
    assert.match(session.id, /^cs_test_[A-Za-z0-9]{58}$/);
    assert.equal(session.object, 'checkout.session');
    assert.equal(session.amount_total, 2999);
    assert.equal(session.amount_subtotal, 2999);
    assert.equal(session.currency, 'eur');
    assert.equal(session.client_reference_id, 'ORD-1');
    assert.equal(session.status, 'open');
    assert.equal(session.payment_status, 'unpaid');
    assert.equal(session.mode, 'payment');
    assert.equal(session.livemode, false);
    assert.match(String(session.payment_intent), /^pi_[A-Za-z0-9]{24}$/);
    assert.equal(session.url, `${h.sim.publicUrl}/pay/${session.id}`);
    assert.equal(session.success_url, SUCCESS_URL);
    assert.equal(session.cancel_url, CANCEL_URL);
    assert.deepEqual(session.metadata, { orderId: 'ORD-1' });
    assert.ok(session.created >= before);
    // Default expiry, as Stripe's: 24 hours.
    assert.ok(Math.abs(session.expires_at - (session.created + 86_400)) <= 1);
    assert.equal(session.lastResponse.headers['stripe-version'], API_VERSION);
    assert.match(session.lastResponse.requestId, /^req_/);

    const intent = await h.stripe.paymentIntents.retrieve(String(session.payment_intent));
    assert.equal(intent.status, 'requires_payment_method');
    assert.equal(intent.amount, 2999);
    assert.equal(intent.amount_received, 0);
    assert.equal(intent.currency, 'eur');
    assert.deepEqual(intent.metadata, { orderId: 'ORD-1', paymentId: 'pay-1' });
    assert.equal(intent.last_payment_error, null);
    assert.equal(intent.latest_charge, null);
  });

  test('the same Idempotency-Key with the same parameters replays the first answer', async () => {
    const first = await h.stripe.checkout.sessions.create(sessionParams(), { idempotencyKey: 'order-ORD-1-attempt-1' });
    const again = await h.stripe.checkout.sessions.create(sessionParams(), { idempotencyKey: 'order-ORD-1-attempt-1' });
    assert.equal(again.id, first.id);
    assert.deepEqual({ ...again }, { ...first });
    assert.equal(again.lastResponse.headers['idempotent-replayed'], 'true');
    assert.equal(h.sim.events().length, 0);
    // Parameters listed in another order are the same parameters.
    const reordered = await raw('POST', '/v1/checkout/sessions', {
      headers: { 'idempotency-key': 'form-order' },
      body: 'mode=payment&success_url=https%3A%2F%2Ffolio.test%2Fok&line_items[0][quantity]=1&line_items[0][price_data][currency]=eur&line_items[0][price_data][unit_amount]=100&line_items[0][price_data][product_data][name]=x',
    });
    const replayed = await raw('POST', '/v1/checkout/sessions', {
      headers: { 'idempotency-key': 'form-order' },
      body: 'line_items[0][price_data][product_data][name]=x&line_items[0][price_data][unit_amount]=100&line_items[0][price_data][currency]=eur&line_items[0][quantity]=1&success_url=https%3A%2F%2Ffolio.test%2Fok&mode=payment',
    });
    assert.equal(reordered.status, 200);
    assert.deepEqual(replayed.body, reordered.body);
    // A different key is a different session.
    const other = await h.stripe.checkout.sessions.create(sessionParams(), { idempotencyKey: 'order-ORD-1-attempt-2' });
    assert.notEqual(other.id, first.id);
  });

  test('the same Idempotency-Key with other parameters, or on another endpoint, is an idempotency_error', async () => {
    await h.stripe.checkout.sessions.create(sessionParams(), { idempotencyKey: 'k-conflict' });
    const err = await rejection(h.stripe.checkout.sessions.create(sessionParams({ client_reference_id: 'ORD-2' }), { idempotencyKey: 'k-conflict' }));
    assert.ok(err instanceof Stripe.errors.StripeIdempotencyError);
    assert.equal(err.statusCode, 400);
    assert.equal(err.rawType, 'idempotency_error');
    assert.match(err.message, /^Keys for idempotent requests can only be used with the same parameters they were first used with\. .*'k-conflict'/);

    const elsewhere = await rejection(h.stripe.refunds.create({ payment_intent: 'pi_x' }, { idempotencyKey: 'k-conflict' }));
    assert.ok(elsewhere instanceof Stripe.errors.StripeIdempotencyError);
    assert.match(elsewhere.message, /same endpoint/);
    assert.equal(h.sim.events().length, 0);
  });

  test('a request refused for its parameters saves nothing under its key: the corrected retry runs', async () => {
    const bad = await rejection(h.stripe.checkout.sessions.create(sessionParams({ success_url: 'not a url' }), { idempotencyKey: 'k-fix' }));
    assert.equal(bad.statusCode, 400);
    const fixed = await h.stripe.checkout.sessions.create(sessionParams(), { idempotencyKey: 'k-fix' });
    assert.equal(fixed.status, 'open');
  });

  test('parameters are checked as Stripe checks them, naming the param in bracket notation', async () => {
    const cases: Array<[Partial<Stripe.Checkout.SessionCreateParams> | Record<string, unknown>, RegExp, string]> = [
      [{ mode: undefined }, /Missing required param: mode/, 'mode'],
      [{ mode: 'subscription' }, /mode=payment only/, 'mode'],
      [{ success_url: undefined }, /Missing required param: success_url/, 'success_url'],
      [{ cancel_url: 'ftp://x' }, /Not a valid URL/, 'cancel_url'],
      [{ line_items: undefined }, /Missing required param: line_items/, 'line_items'],
      [
        {
          line_items: [
            { price_data: { currency: 'eur', unit_amount: 100, product_data: { description: 'no name' } as unknown as { name: string } }, quantity: 1 },
          ],
        },
        /Missing required param: line_items\[0\]\[price_data\]\[product_data\]\[name\]/,
        'line_items[0][price_data][product_data][name]',
      ],
      [
        { line_items: [{ price_data: { currency: 'eur', unit_amount: 100, product_data: { name: 'x' } }, quantity: 0 }] },
        /greater than or equal to 1/,
        'line_items[0][quantity]',
      ],
      [{ line_items: [{ price: 'price_123', quantity: 1 }] }, /Received unknown parameter: line_items\[0\]\[price\]/, 'line_items[0][price]'],
      [
        { line_items: [{ price_data: { currency: 'zzz', unit_amount: 100, product_data: { name: 'x' } }, quantity: 1 }] },
        /Invalid currency: zzz/,
        'line_items[0][price_data][currency]',
      ],
      [{ customer: 'cus_123' }, /Received unknown parameter: customer/, 'customer'],
      [{ expires_at: Math.floor(Date.now() / 1000) - 10 }, /expires_at/, 'expires_at'],
      [{ expires_at: Math.floor(Date.now() / 1000) + 2 * 86_400 }, /less than 24 hours/, 'expires_at'],
      [{ expand: ['payment_intent'] }, /does not expand/, 'expand'],
    ];
    for (const [overrides, message, param] of cases) {
      const err = await rejection(h.stripe.checkout.sessions.create({ ...sessionParams(), ...overrides } as Stripe.Checkout.SessionCreateParams));
      assert.ok(err instanceof Stripe.errors.StripeInvalidRequestError, `${param}: ${err.type}`);
      assert.equal(err.statusCode, 400);
      assert.match(err.message, message);
      assert.equal(err.param, param);
    }
    assert.equal(h.sim.events().length, 0);
  });

  test('the single-line total of an order is accepted as is', async () => {
    const session = await h.stripe.checkout.sessions.create(
      sessionParams({
        line_items: [{ price_data: { currency: 'gbp', unit_amount: 4_731, product_data: { name: 'Folio order ORD-9 (3 books)' } }, quantity: 1 }],
      }),
    );
    assert.equal(session.amount_total, 4731);
    assert.equal(session.currency, 'gbp');
  });

  test('bodies must be form-encoded: JSON is refused with a Stripe error', async () => {
    const res = await fetch(`${h.sim.url}/v1/checkout/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.sim.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'payment' }),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { type: string; message: string } };
    assert.equal(body.error.type, 'invalid_request_error');
    assert.match(body.error.message, /form-encoded/);
  });

  test('retrieve answers the session; an unknown id is a 404 resource_missing', async () => {
    const created = await h.stripe.checkout.sessions.create(sessionParams());
    const fetched = await h.stripe.checkout.sessions.retrieve(created.id);
    assert.deepEqual({ ...fetched }, { ...created });

    const err = await rejection(h.stripe.checkout.sessions.retrieve('cs_test_missing'));
    assert.ok(err instanceof Stripe.errors.StripeInvalidRequestError);
    assert.equal(err.statusCode, 404);
    assert.equal(err.code, 'resource_missing');
    assert.equal(err.message, "No such checkout.session: 'cs_test_missing'");

    const expanded = await rejection(h.stripe.checkout.sessions.retrieve(created.id, { expand: ['payment_intent'] }));
    assert.equal(expanded.statusCode, 400);
    assert.equal(expanded.param, 'expand');

    const intent = await rejection(h.stripe.paymentIntents.retrieve('pi_missing'));
    assert.equal(intent.statusCode, 404);
    assert.equal(intent.code, 'resource_missing');
  });

  test('expire closes an open session, cancels its intent and emits checkout.session.expired; a second expire is refused', async () => {
    const session = await h.stripe.checkout.sessions.create(sessionParams());
    const expired = await h.stripe.checkout.sessions.expire(session.id, {}, { idempotencyKey: 'expire-1' });
    assert.equal(expired.status, 'expired');
    assert.equal(expired.payment_status, 'unpaid');
    assert.equal(expired.url, null);
    const intent = await h.stripe.paymentIntents.retrieve(String(session.payment_intent));
    assert.equal(intent.status, 'canceled');
    assert.equal(intent.cancellation_reason, 'abandoned');

    const [event] = await h.receiver.waitFor((events) => events.some((e) => e.type === 'checkout.session.expired'));
    assert.equal(event?.type, 'checkout.session.expired');
    const object = objectOf<Stripe.Checkout.Session>([event], 'checkout.session.expired');
    assert.equal(object.id, session.id);
    assert.equal(object.status, 'expired');
    // An event caused by an API call names the call, as Stripe's do.
    assert.match(String(event?.request?.id), /^req_/);
    assert.equal(event?.request?.idempotency_key, 'expire-1');

    const again = await rejection(h.stripe.checkout.sessions.expire(session.id));
    assert.ok(again instanceof Stripe.errors.StripeInvalidRequestError);
    assert.equal(again.statusCode, 400);
    assert.equal(again.message, 'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of `expired`.');

    await payWith(`${h.sim.publicUrl}/pay/${session.id}`, '4242424242424242');
    const paid = await h.stripe.checkout.sessions.create(sessionParams());
    await payWith(String(paid.url), '4242424242424242');
    const completed = await rejection(h.stripe.checkout.sessions.expire(paid.id));
    assert.match(completed.message, /has a status of `complete`/);
    await h.sim.settled();
    assert.equal(h.sim.events().filter((e) => e.type === 'checkout.session.expired').length, 1);
  });

  test('a session expires by itself at expires_at, with the same event', async () => {
    const expiresAt = Math.floor(Date.now() / 1000) + 1;
    const session = await h.stripe.checkout.sessions.create(sessionParams({ expires_at: expiresAt }));
    assert.equal(session.expires_at, expiresAt);
    assert.equal(session.status, 'open');
    const events = await h.receiver.waitFor((es) => es.some((e) => e.type === 'checkout.session.expired'), 'the automatic expiry', 5_000);
    assert.equal(objectOf<Stripe.Checkout.Session>(events, 'checkout.session.expired').id, session.id);
    assert.equal(events.find((e) => e.type === 'checkout.session.expired')?.request?.id, null);
    assert.ok(Date.now() / 1000 >= expiresAt);
    assert.equal((await h.stripe.checkout.sessions.retrieve(session.id)).status, 'expired');
    assert.equal((await h.stripe.paymentIntents.retrieve(String(session.payment_intent))).status, 'canceled');
  });
});

describe('refunds', () => {
  async function paidSession(amount = 2599) {
    const session = await h.stripe.checkout.sessions.create(
      sessionParams({ line_items: [{ price_data: { currency: 'eur', unit_amount: amount, product_data: { name: 'Folio order' } }, quantity: 1 }] }),
    );
    const paid = await payWith(String(session.url), '4242 4242 4242 4242');
    assert.equal(paid.status, 303);
    return { session, intentId: String(session.payment_intent) };
  }

  test('a full refund of a succeeded intent, with charge.refunded and refund.created', async () => {
    const { intentId } = await paidSession();
    const intent = await h.stripe.paymentIntents.retrieve(intentId);
    const refund = await h.stripe.refunds.create({ payment_intent: intentId, reason: 'requested_by_customer', metadata: { returnId: 'R-1' } });
    assert.match(refund.id, /^re_/);
    assert.equal(refund.object, 'refund');
    assert.equal(refund.amount, 2599);
    assert.equal(refund.currency, 'eur');
    assert.equal(refund.payment_intent, intentId);
    assert.equal(refund.charge, intent.latest_charge);
    assert.equal(refund.status, 'succeeded');
    assert.equal(refund.reason, 'requested_by_customer');
    assert.deepEqual(refund.metadata, { returnId: 'R-1' });
    assert.deepEqual({ ...(await h.stripe.refunds.retrieve(refund.id)) }, { ...refund });

    const events = await h.receiver.waitFor((es) => es.some((e) => e.type === 'refund.created'));
    const charge = objectOf<Stripe.Charge>(events, 'charge.refunded');
    assert.equal(charge.id, intent.latest_charge);
    assert.equal(charge.refunded, true);
    assert.equal(charge.amount_refunded, 2599);
    assert.equal(charge.payment_intent, intentId);
    assert.deepEqual(charge.metadata, { orderId: 'ORD-1', paymentId: 'pay-1' });
    assert.equal(objectOf<Stripe.Refund>(events, 'refund.created').id, refund.id);

    const again = await rejection(h.stripe.refunds.create({ payment_intent: intentId }));
    assert.equal(again.statusCode, 400);
    assert.equal(again.code, 'charge_already_refunded');
  });

  test('partial refunds up to what remains; more is refused', async () => {
    const { intentId } = await paidSession(1000);
    const first = await h.stripe.refunds.create({ payment_intent: intentId, amount: 300 });
    assert.equal(first.amount, 300);
    const over = await rejection(h.stripe.refunds.create({ payment_intent: intentId, amount: 701 }));
    assert.ok(over instanceof Stripe.errors.StripeInvalidRequestError);
    assert.equal(over.statusCode, 400);
    assert.equal(over.param, 'amount');
    assert.equal(over.message, 'Refund amount (€7.01) is greater than unrefunded amount on charge (€7.00)');
    const rest = await h.stripe.refunds.create({ payment_intent: intentId });
    assert.equal(rest.amount, 700);

    const events = await h.receiver.waitFor((es) => es.filter((e) => e.type === 'charge.refunded').length === 2);
    const charges = events.filter((e) => e.type === 'charge.refunded').map((e) => e.data.object as Stripe.Charge);
    assert.deepEqual(
      charges.map((c) => [c.amount_refunded, c.refunded]),
      [
        [300, false],
        [1000, true],
      ],
    );
  });

  test('a refund with an Idempotency-Key is made once', async () => {
    const { intentId } = await paidSession(1000);
    const a = await h.stripe.refunds.create({ payment_intent: intentId, amount: 400 }, { idempotencyKey: 'refund-R-7' });
    const b = await h.stripe.refunds.create({ payment_intent: intentId, amount: 400 }, { idempotencyKey: 'refund-R-7' });
    assert.equal(b.id, a.id);
    assert.equal(b.lastResponse.headers['idempotent-replayed'], 'true');
    const conflict = await rejection(h.stripe.refunds.create({ payment_intent: intentId, amount: 500 }, { idempotencyKey: 'refund-R-7' }));
    assert.ok(conflict instanceof Stripe.errors.StripeIdempotencyError);
    const charge = await h.stripe.charges.retrieve(String((await h.stripe.paymentIntents.retrieve(intentId)).latest_charge));
    assert.equal(charge.amount_refunded, 400);
    await h.sim.settled();
    assert.equal(h.sim.events().filter((e) => e.type === 'refund.created').length, 1);
  });

  test('refunding an intent that was not paid, or that does not exist, is refused', async () => {
    const session = await h.stripe.checkout.sessions.create(sessionParams());
    const unpaid = await rejection(h.stripe.refunds.create({ payment_intent: String(session.payment_intent) }));
    assert.ok(unpaid instanceof Stripe.errors.StripeInvalidRequestError);
    assert.equal(unpaid.statusCode, 400);
    assert.equal(unpaid.message, `This PaymentIntent (${session.payment_intent}) does not have a successful charge to refund.`);

    // A declined attempt leaves a failed charge: still nothing to refund.
    await payWith(String(session.url), '4000 0000 0000 0002');
    const declined = await rejection(h.stripe.refunds.create({ payment_intent: String(session.payment_intent) }));
    assert.match(declined.message, /does not have a successful charge to refund/);

    const missing = await rejection(h.stripe.refunds.create({ payment_intent: 'pi_nope' }));
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.code, 'resource_missing');
    assert.equal(missing.param, 'payment_intent');

    const none = await rejection(h.stripe.refunds.create({}));
    assert.equal(none.statusCode, 400);
    assert.match(none.message, /payment_intent or charge/);
    await h.sim.settled();
    assert.deepEqual(
      h.sim.events().map((e) => e.type),
      ['payment_intent.payment_failed'],
    );
  });
});

describe('authentication and Stripe-shaped errors', () => {
  test('a wrong API key is a 401 authentication_error; so is none', async () => {
    const wrong = sdk(h.sim, { apiKey: 'sk_test_wrong_key_1234' });
    const err = await rejection(wrong.checkout.sessions.create(sessionParams()));
    assert.ok(err instanceof Stripe.errors.StripeAuthenticationError);
    assert.equal(err.statusCode, 401);
    assert.equal(err.rawType, 'authentication_error');
    assert.match(err.message, /^Invalid API Key provided: sk_test_\*+1234$/);

    const none = await raw('GET', '/v1/checkout/sessions/cs_x', { key: null });
    assert.equal(none.status, 401);
    assert.equal(none.body.error?.type, 'authentication_error');
    assert.match(String(none.body.error?.message), /did not provide an API key/);
    // Basic auth with the key as user name, as `curl -u sk_…:` sends it.
    const basic = await fetch(`${h.sim.url}/v1/checkout/sessions/cs_x`, {
      headers: { authorization: `Basic ${Buffer.from(`${h.sim.apiKey}:`).toString('base64')}` },
    });
    assert.equal(basic.status, 404);
    assert.equal(h.sim.events().length, 0);
  });

  test('an unknown /v1 URL is a Stripe-shaped 404, not a problem+json', async () => {
    const res = await raw('GET', '/v1/customers/cus_1');
    assert.equal(res.status, 404);
    assert.match(String(res.headers.get('content-type')), /^application\/json/);
    assert.equal(res.body.error?.type, 'invalid_request_error');
    assert.match(String(res.body.error?.message), /^Unrecognized request URL \(GET: \/v1\/customers\/cus_1\)/);
  });

  test('the simulator’s pinned API version is the SDK’s', () => {
    assert.equal(API_VERSION, Stripe.API_VERSION);
  });
});
