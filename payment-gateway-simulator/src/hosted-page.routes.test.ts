/** The hosted payment page, driven as a browser drives it: GET the page, POST its form, follow nothing (redirect: 'manual'). */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type Stripe from 'stripe';
import { CANCEL_URL, type Harness, nextYear, objectOf, payWith, sdk, sessionParams, startHarness, submitForm } from './simulator.fixture.ts';
import { startSimulator } from './simulator.ts';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());
beforeEach(async () => {
  await h.sim.settled();
  await h.sim.reset();
  h.receiver.received.length = 0;
});

async function openSession(overrides: Partial<Stripe.Checkout.SessionCreateParams> = {}) {
  const session = await h.stripe.checkout.sessions.create(sessionParams(overrides));
  return { session, page: String(session.url) };
}

describe('the page', () => {
  test('shows the merchant, the amount with its currency, the order reference and a real form', async () => {
    const { page } = await openSession();
    const res = await fetch(page);
    assert.equal(res.status, 200);
    assert.match(String(res.headers.get('content-type')), /^text\/html; charset=utf-8/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const html = await res.text();
    assert.match(html, /<html lang="en">/);
    assert.match(html, /Folio/);
    assert.match(html, /€25\.99/);
    assert.match(html, /Order reference: <strong>ORD-1<\/strong>/);
    assert.match(html, /<form method="post"/);
    for (const name of ['cardNumber', 'expiry', 'cvc']) {
      assert.match(html, new RegExp(`<label for="${name}">`), `${name} has a label`);
      assert.match(html, new RegExp(`<input id="${name}" name="${name}"`));
    }
    assert.match(html, /<button type="submit" name="action" value="pay">Pay €25\.99<\/button>/);
    assert.match(html, /<button type="submit" name="action" value="cancel"/);
  });

  test('amounts are written in their currency’s units; what the merchant sent is escaped', async () => {
    const { page } = await openSession({
      client_reference_id: '<script>alert(1)</script>',
      line_items: [{ price_data: { currency: 'jpy', unit_amount: 1500, product_data: { name: 'Kafka on the Shore & <b>more</b>' } }, quantity: 2 }],
    });
    const html = await (await fetch(page)).text();
    assert.match(html, /¥3,000/);
    assert.doesNotMatch(html, /<script>/);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(html, /Kafka on the Shore &amp; &lt;b&gt;more&lt;\/b&gt;/);
  });

  test('an unknown session is a 404 page', async () => {
    const res = await fetch(`${h.sim.publicUrl}/pay/cs_test_unknown`);
    assert.equal(res.status, 404);
    assert.match(await res.text(), /Payment page not found/);
  });
});

describe('paying', () => {
  test('4242 4242 4242 4242: 303 to success_url with the id filled in, the session paid, and the events in order', async () => {
    const { session, page } = await openSession();
    const answer = await payWith(page, '4242 4242 4242 4242');
    assert.equal(answer.status, 303);
    assert.equal(answer.location, `https://folio.test/payments/return?session_id=${session.id}`);

    const events = await h.receiver.waitFor((es) => es.some((e) => e.type === 'checkout.session.completed'));
    assert.deepEqual(
      h.sim.events().map((e) => e.type),
      ['payment_intent.succeeded', 'checkout.session.completed'],
    );
    const completed = objectOf<Stripe.Checkout.Session>(events, 'checkout.session.completed');
    assert.equal(completed.id, session.id);
    assert.equal(completed.status, 'complete');
    assert.equal(completed.payment_status, 'paid');
    assert.equal(completed.client_reference_id, 'ORD-1');
    assert.deepEqual(completed.metadata, { orderId: 'ORD-1' });
    const succeeded = objectOf<Stripe.PaymentIntent>(events, 'payment_intent.succeeded');
    assert.equal(succeeded.id, session.payment_intent);
    assert.equal(succeeded.status, 'succeeded');
    assert.equal(succeeded.amount_received, 2599);
    assert.deepEqual(succeeded.metadata, { orderId: 'ORD-1', paymentId: 'pay-1' });
    assert.match(String(succeeded.latest_charge), /^ch_/);

    const retrieved = await h.stripe.checkout.sessions.retrieve(session.id);
    assert.equal(retrieved.status, 'complete');
    assert.equal(retrieved.payment_status, 'paid');
    assert.equal(retrieved.url, null);
    const charge = await h.stripe.charges.retrieve(String(succeeded.latest_charge));
    assert.equal(charge.status, 'succeeded');
    assert.equal(charge.payment_method_details?.card?.last4, '4242');

    // Paying again: the page says it is paid, links back, charges nothing.
    const again = await payWith(page, '4242424242424242');
    assert.equal(again.status, 410);
    assert.match(again.html, /already paid/);
    assert.match(again.html, new RegExp(`href="https://folio\\.test/payments/return\\?session_id=${session.id}"`));
    assert.equal((await fetch(page)).status, 410);
    await h.sim.settled();
    assert.equal(h.sim.events().length, 2);
  });

  const declines: Array<[string, string, string, RegExp]> = [
    ['4000 0000 0000 0002', 'card_declined', 'generic_decline', /Your card was declined\./],
    ['4000 0000 0000 9995', 'card_declined', 'insufficient_funds', /Your card has insufficient funds\./],
    ['4000 0000 0000 0069', 'expired_card', 'expired_card', /Your card has expired\./],
    ['4000 0000 0000 0119', 'processing_error', 'processing_error', /An error occurred while processing your card/],
  ];
  for (const [card, code, declineCode, message] of declines) {
    test(`${card}: 402 with the page again, payment_intent.payment_failed with ${declineCode}; the session stays open`, async () => {
      const { session, page } = await openSession();
      const answer = await payWith(page, card);
      assert.equal(answer.status, 402);
      assert.match(answer.html, /role="alert"/);
      assert.match(answer.html, message);
      assert.match(answer.html, /<form method="post"/);
      assert.match(answer.html, new RegExp(`<a href="${CANCEL_URL.replace(/[.?]/g, '\\$&')}">Return to Folio</a>`));

      const events = await h.receiver.waitFor((es) => es.length === 1);
      assert.deepEqual(
        events.map((e) => e.type),
        ['payment_intent.payment_failed'],
      );
      const intent = objectOf<Stripe.PaymentIntent>(events, 'payment_intent.payment_failed');
      assert.equal(intent.id, session.payment_intent);
      assert.equal(intent.status, 'requires_payment_method');
      assert.equal(intent.last_payment_error?.type, 'card_error');
      assert.equal(intent.last_payment_error?.code, code);
      assert.equal(intent.last_payment_error?.decline_code, declineCode);
      assert.match(String(intent.last_payment_error?.message), message);
      assert.deepEqual(intent.metadata, { orderId: 'ORD-1', paymentId: 'pay-1' });

      assert.equal((await h.stripe.checkout.sessions.retrieve(session.id)).status, 'open');
      // Another card on the same page succeeds, and clears the error.
      const retry = await payWith(page, '4242 4242 4242 4242');
      assert.equal(retry.status, 303);
      const paid = await h.stripe.paymentIntents.retrieve(String(session.payment_intent));
      assert.equal(paid.status, 'succeeded');
      assert.equal(paid.last_payment_error, null);
    });
  }

  test('any other valid card number succeeds', async () => {
    const { page } = await openSession();
    assert.equal((await payWith(page, '5555-5555-5555-4444')).status, 303);
  });

  test('Cancel: 303 to cancel_url, no event, the session stays open', async () => {
    const { session, page } = await openSession();
    const answer = await submitForm(page, { action: 'cancel', cardNumber: '', expiry: '', cvc: '' });
    assert.equal(answer.status, 303);
    assert.equal(answer.location, CANCEL_URL);
    await h.sim.settled();
    assert.equal(h.sim.events().length, 0);
    assert.equal((await h.stripe.checkout.sessions.retrieve(session.id)).status, 'open');
  });

  test('malformed card data: 400 naming the field; nothing charged', async () => {
    const { session, page } = await openSession();
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ cardNumber: '4242 4242 4242 4241', expiry: `12/${nextYear()}`, cvc: '123' }, 'cardNumber', /not valid/],
      [{ cardNumber: '4242', expiry: `12/${nextYear()}`, cvc: '123' }, 'cardNumber', /12 to 19 digits/],
      [{ cardNumber: '4242424242424242', expiry: '1228', cvc: '123' }, 'expiry', /MM\/YY/],
      [{ cardNumber: '4242424242424242', expiry: '13/30', cvc: '123' }, 'expiry', /month/],
      [{ cardNumber: '4242424242424242', expiry: '01/20', cvc: '123' }, 'expiry', /in the past/],
      [{ cardNumber: '4242424242424242', expiry: `12/${nextYear()}`, cvc: '12' }, 'cvc', /3 or 4 digits/],
      [{ cardNumber: '4242424242424242', expiry: `12/${nextYear()}`, cvc: 'abc' }, 'cvc', /3 or 4 digits/],
    ];
    for (const [fields, field, message] of cases) {
      const answer = await submitForm(page, fields);
      assert.equal(answer.status, 400, JSON.stringify(fields));
      assert.match(answer.html, new RegExp(`<input id="${field}" name="${field}"[^>]*aria-invalid="true"[^>]*aria-describedby="[^"]*${field}-error`));
      const error = new RegExp(`<p class="field-error" id="${field}-error">([^<]*)</p>`).exec(answer.html);
      assert.match(String(error?.[1]), message, JSON.stringify(fields));
      assert.doesNotMatch(answer.html, /4242424242424242|4242 4242 4242 4241/, 'the card number is never echoed');
    }
    await h.sim.settled();
    assert.equal(h.sim.events().length, 0);
    assert.equal(h.sim.session(session.id)?.charges.length, 0);
    assert.equal((await h.stripe.checkout.sessions.retrieve(session.id)).status, 'open');
  });

  test('an expired session: 410 "expired" with a link back, nothing charged', async () => {
    const { session, page } = await openSession();
    await h.stripe.checkout.sessions.expire(session.id);
    const answer = await payWith(page, '4242 4242 4242 4242');
    assert.equal(answer.status, 410);
    assert.match(answer.html, /This payment page has expired/);
    assert.match(answer.html, /Return to Folio/);
    assert.equal(h.sim.session(session.id)?.charges.length, 0);
    assert.equal((await fetch(page)).status, 410);
  });

  test('a session past its expires_at is expired when its page is posted, even before the sweep runs', async () => {
    const sim = await startSimulator({ minExpiresInSeconds: 1, expirySweepMs: 60_000, logLevel: 'silent' });
    try {
      const stripe = sdk(sim);
      const expiresAt = Math.floor(Date.now() / 1000) + 1;
      const session = await stripe.checkout.sessions.create(sessionParams({ expires_at: expiresAt }));
      await new Promise((r) => setTimeout(r, expiresAt * 1000 + 50 - Date.now()));
      const answer = await payWith(String(session.url), '4242 4242 4242 4242');
      assert.equal(answer.status, 410);
      assert.deepEqual(
        sim.events().map((e) => [e.type, e.delivery]),
        [['checkout.session.expired', 'no_endpoint']],
      );
      assert.equal(sim.events()[0]?.event.pending_webhooks, 0);
    } finally {
      await sim.close();
    }
  });
});

describe('random mode', () => {
  /** Pays n sessions with one valid card; the outcome of each ('succeeded' or the decline code), in order. */
  async function outcomes(seed: number, n: number): Promise<string[]> {
    const sim = await startSimulator({ outcomeMode: 'random', randomSeed: seed, randomSuccessRate: 0.8, logLevel: 'silent' });
    try {
      const stripe = sdk(sim);
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        const session = await stripe.checkout.sessions.create(sessionParams());
        const answer = await payWith(String(session.url), '4242 4242 4242 4242');
        if (answer.status === 303) out.push('succeeded');
        else {
          assert.equal(answer.status, 402);
          out.push(String(sim.session(session.id)?.payment_intent?.last_payment_error?.decline_code));
        }
      }
      return out;
    } finally {
      await sim.close();
    }
  }

  test('500 payments succeed at 0.8 ± 0.05, failing with the spec’s reasons; the same seed gives the same sequence', async () => {
    const first = await outcomes(4, 500);
    const rate = first.filter((o) => o === 'succeeded').length / first.length;
    assert.ok(rate >= 0.75 && rate <= 0.85, `success rate ${rate}`);
    assert.deepEqual(
      new Set(first.filter((o) => o !== 'succeeded')),
      new Set(['insufficient_funds', 'generic_decline', 'incorrect_number', 'card_velocity_exceeded', 'issuer_not_available']),
    );

    assert.deepEqual(await outcomes(4, 60), first.slice(0, 60));
    assert.notDeepEqual(await outcomes(5, 60), first.slice(0, 60));
  });
});
