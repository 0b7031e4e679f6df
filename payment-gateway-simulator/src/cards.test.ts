import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Card, checkCard, DECLINES, luhnValid, Outcomes, RANDOM_FAILURES, seededRandom, testCardOutcome } from './cards.ts';

const march2026 = new Date(Date.UTC(2026, 2, 15));
const card = (number: string): Card => {
  const check = checkCard({ cardNumber: number, expiry: '12/30', cvc: '123' }, march2026);
  assert.ok(check.ok, number);
  return check.card;
};

describe('the form checks', () => {
  test('Luhn', () => {
    for (const valid of ['4242424242424242', '4000000000000002', '5555555555554444', '378282246310005', '79927398713']) assert.ok(luhnValid(valid), valid);
    for (const invalid of ['4242424242424241', '1234567890123456', '79927398710', '', '42a2']) assert.ok(!luhnValid(invalid), invalid);
  });

  test('spaces and dashes are allowed in the number; the brand and last four digits are kept', () => {
    const check = checkCard({ cardNumber: ' 4242 4242-4242 4242 ', expiry: '03/26', cvc: '1234' }, march2026);
    assert.deepEqual(check, { ok: true, card: { number: '4242424242424242', last4: '4242', brand: 'visa', expMonth: 3, expYear: 2026 } });
    assert.equal(card('5555 5555 5555 4444').brand, 'mastercard');
    assert.equal(card('3782 822463 10005').brand, 'amex');
  });

  test('each malformed field is named', () => {
    const fieldsOf = (input: Parameters<typeof checkCard>[0]) => {
      const check = checkCard(input, march2026);
      return check.ok ? [] : check.errors.map((e) => e.field);
    };
    assert.deepEqual(fieldsOf({}), ['cardNumber', 'expiry', 'cvc']);
    assert.deepEqual(fieldsOf({ cardNumber: '4242424242424241', expiry: '12/30', cvc: '123' }), ['cardNumber']);
    assert.deepEqual(fieldsOf({ cardNumber: '42424242424242424242', expiry: '12/30', cvc: '123' }), ['cardNumber']);
    assert.deepEqual(fieldsOf({ cardNumber: '4242424242424242', expiry: '12/2030', cvc: '123' }), ['expiry']);
    assert.deepEqual(fieldsOf({ cardNumber: '4242424242424242', expiry: '00/30', cvc: '123' }), ['expiry']);
    // Valid through the end of its month: 03/26 is still good in March 2026, 02/26 is not.
    assert.deepEqual(fieldsOf({ cardNumber: '4242424242424242', expiry: '02/26', cvc: '123' }), ['expiry']);
    assert.deepEqual(fieldsOf({ cardNumber: '4242424242424242', expiry: '03/26', cvc: '123' }), []);
    assert.deepEqual(fieldsOf({ cardNumber: '4242424242424242', expiry: '12/30', cvc: '12345' }), ['cvc']);
  });
});

describe('outcomes', () => {
  test("Stripe's test cards decline as Stripe's do; other valid numbers succeed", () => {
    assert.deepEqual(testCardOutcome(card('4242424242424242')), { ok: true });
    assert.deepEqual(testCardOutcome(card('5555555555554444')), { ok: true });
    const decline = (n: string) => {
      const outcome = testCardOutcome(card(n));
      return outcome.ok ? 'succeeded' : `${outcome.decline.code}/${outcome.decline.decline_code}`;
    };
    assert.equal(decline('4000000000000002'), 'card_declined/generic_decline');
    assert.equal(decline('4000000000009995'), 'card_declined/insufficient_funds');
    assert.equal(decline('4000000000000069'), 'expired_card/expired_card');
    assert.equal(decline('4000000000000119'), 'processing_error/processing_error');
  });

  test('random mode ignores the test cards and follows its seed', () => {
    const a = new Outcomes({ mode: 'random', successRate: 0.8, seed: 42 });
    const b = new Outcomes({ mode: 'random', successRate: 0.8, seed: 42 });
    const draw = (o: Outcomes) => Array.from({ length: 10_000 }, () => o.decide(card('4000000000000002'))).map((x) => (x.ok ? 'ok' : x.reason));
    const first = draw(a);
    assert.deepEqual(draw(b), first);
    const rate = first.filter((x) => x === 'ok').length / first.length;
    assert.ok(Math.abs(rate - 0.8) < 0.02, `rate ${rate}`);
    // Every reason of the spec shows up, in roughly equal shares.
    for (const reason of RANDOM_FAILURES) {
      const share = first.filter((x) => x === reason).length / first.length;
      assert.ok(share > 0.03 && share < 0.05, `${reason}: ${share}`);
      assert.ok(DECLINES[reason]);
    }
    a.reset();
    assert.deepEqual(draw(a), first);
    assert.notDeepEqual(draw(new Outcomes({ mode: 'random', successRate: 0.8, seed: 43 })), first);
  });

  test('success rates at the edges', () => {
    const never = new Outcomes({ mode: 'random', successRate: 0, seed: 1 });
    const always = new Outcomes({ mode: 'random', successRate: 1, seed: 1 });
    for (let i = 0; i < 100; i++) {
      assert.equal(never.decide(card('4242424242424242')).ok, false);
      assert.equal(always.decide(card('4242424242424242')).ok, true);
    }
    assert.throws(() => new Outcomes({ mode: 'random', successRate: 1.5, seed: 1 }), /between 0 and 1/);
  });

  test('the PRNG is deterministic and spreads over [0, 1)', () => {
    const r = seededRandom(7);
    const values = Array.from({ length: 1000 }, r);
    assert.deepEqual(Array.from({ length: 1000 }, seededRandom(7)), values);
    assert.ok(values.every((v) => v >= 0 && v < 1));
    assert.ok(Math.abs(values.reduce((s, v) => s + v, 0) / values.length - 0.5) < 0.05);
  });
});
