import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StripeApiError } from './stripe-errors.ts';
import { fingerprint, metadataOf, parseCreateSession, parseForm, parseRefund } from './stripe-params.ts';

const rules = { now: 1_800_000_000, minExpiresInSeconds: 5 };
const base =
  'mode=payment&success_url=https%3A%2F%2Ffolio.test%2Fok%3Fs%3D%7BCHECKOUT_SESSION_ID%7D' +
  '&line_items[0][price_data][currency]=EUR&line_items[0][price_data][unit_amount]=1250&line_items[0][price_data][product_data][name]=Dune&line_items[0][quantity]=2';

function refusal(fn: () => unknown): StripeApiError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StripeApiError);
    return err;
  }
  assert.fail('expected a refusal');
}

describe('form bodies', () => {
  test('bracket notation, encoded or not, becomes nested parameters', () => {
    const plain = parseForm('line_items[0][price_data][currency]=eur&metadata[orderId]=ORD-1');
    const encoded = parseForm('line_items%5B0%5D%5Bprice_data%5D%5Bcurrency%5D=eur&metadata%5BorderId%5D=ORD-1');
    assert.deepEqual(plain, { line_items: [{ price_data: { currency: 'eur' } }], metadata: { orderId: 'ORD-1' } });
    assert.deepEqual(encoded, plain);
  });

  test('the fingerprint ignores the order of parameters, not their values', () => {
    assert.equal(fingerprint(parseForm('a=1&b[x]=2&b[y]=3')), fingerprint(parseForm('b[y]=3&a=1&b[x]=2')));
    assert.notEqual(fingerprint(parseForm('a=1&b[x]=2')), fingerprint(parseForm('a=1&b[x]=3')));
    assert.notEqual(fingerprint(parseForm('l[0]=a&l[1]=b')), fingerprint(parseForm('l[0]=b&l[1]=a')));
  });
});

describe('POST /v1/checkout/sessions', () => {
  test('line items, totals, a lower-cased currency and a default expiry of 24 hours', () => {
    const p = parseCreateSession(
      parseForm(
        `${base}&line_items[1][price_data][currency]=eur&line_items[1][price_data][unit_amount]=399&line_items[1][price_data][product_data][name]=Shipping&line_items[1][quantity]=1`,
      ),
      rules,
    );
    assert.equal(p.currency, 'eur');
    assert.equal(p.amountTotal, 2 * 1250 + 399);
    assert.deepEqual(p.lineItems[0], { name: 'Dune', currency: 'eur', unit_amount: 1250, quantity: 2, amount_total: 2500 });
    assert.equal(p.successUrl, 'https://folio.test/ok?s={CHECKOUT_SESSION_ID}');
    assert.equal(p.cancelUrl, null);
    assert.equal(p.expiresAt, rules.now + 86_400);
    assert.equal(p.clientReferenceId, null);
  });

  test('expires_at from 5 seconds to 24 hours ahead', () => {
    assert.equal(parseCreateSession(parseForm(`${base}&expires_at=${rules.now + 5}`), rules).expiresAt, rules.now + 5);
    assert.equal(refusal(() => parseCreateSession(parseForm(`${base}&expires_at=${rules.now + 4}`), rules)).param, 'expires_at');
    assert.equal(refusal(() => parseCreateSession(parseForm(`${base}&expires_at=soon`), rules)).message, 'Invalid integer: soon');
  });

  test('lines in different currencies, a zero total or too many lines are refused', () => {
    const mixed = `${base}&line_items[1][price_data][currency]=usd&line_items[1][price_data][unit_amount]=1&line_items[1][price_data][product_data][name]=x&line_items[1][quantity]=1`;
    assert.equal(refusal(() => parseCreateSession(parseForm(mixed), rules)).param, 'line_items[1][price_data][currency]');
    assert.match(refusal(() => parseCreateSession(parseForm(base.replace('unit_amount]=1250', 'unit_amount]=0')), rules)).message, /greater than 0/);
    const many = Array.from(
      { length: 101 },
      (_, i) =>
        `line_items[${i}][price_data][currency]=eur&line_items[${i}][price_data][unit_amount]=1&line_items[${i}][price_data][product_data][name]=x&line_items[${i}][quantity]=1`,
    ).join('&');
    assert.match(refusal(() => parseCreateSession(parseForm(`mode=payment&success_url=https://x.test&${many}`), rules)).message, /up to 100 line items/);
  });
});

describe('metadata and refunds', () => {
  test("Stripe's metadata limits; an empty value is no key", () => {
    assert.deepEqual(metadataOf({ a: '1', b: '' }, 'metadata'), { a: '1' });
    assert.equal(refusal(() => metadataOf({ ['k'.repeat(41)]: 'v' }, 'metadata')).param, `metadata[${'k'.repeat(41)}]`);
    assert.equal(refusal(() => metadataOf({ a: 'v'.repeat(501) }, 'metadata')).param, 'metadata[a]');
    assert.match(refusal(() => metadataOf(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])), 'metadata')).message, /50 keys/);
    assert.equal(refusal(() => metadataOf('flat', 'metadata')).message, 'Invalid hash');
  });

  test('a refund names what it refunds; amount is a positive integer; reason is one of Stripe’s', () => {
    assert.deepEqual(parseRefund(parseForm('payment_intent=pi_1&amount=300&reason=duplicate&metadata[r]=1')), {
      paymentIntent: 'pi_1',
      charge: null,
      amount: 300,
      reason: 'duplicate',
      metadata: { r: '1' },
    });
    assert.equal(refusal(() => parseRefund(parseForm('amount=1'))).code, 'parameter_missing');
    assert.equal(refusal(() => parseRefund(parseForm('payment_intent=pi_1&amount=0'))).param, 'amount');
    assert.equal(refusal(() => parseRefund(parseForm('payment_intent=pi_1&reason=changed_mind'))).param, 'reason');
    assert.equal(refusal(() => parseRefund(parseForm('payment_intent=pi_1&refund_application_fee=true'))).code, 'parameter_unknown');
  });
});
