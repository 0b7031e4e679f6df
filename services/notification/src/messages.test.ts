import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { OrderSummary } from '@folio/contracts/events';
import { compose, formatMoney, orderRef, SUBJECT_MAX } from './messages.ts';

const ORDER = '3f2a9c1e-7b1d-4c2e-9a55-0d5e8f6a1b2c';
const eur = (amount: number) => ({ amount, currency: 'EUR' });

const summary: OrderSummary = {
  lines: [
    { bookId: 'b1', title: 'The Salt House', quantity: 2, unitPrice: eur(1299), lineTotal: eur(2598) },
    { bookId: 'b2', title: 'Borrowed Years', quantity: 1, unitPrice: eur(950), lineTotal: eur(950) },
  ],
  subtotal: eur(3548),
  tax: eur(142),
  shipping: eur(490),
  total: eur(4180),
  shippingMethod: 'standard',
};

describe('money and references', () => {
  test('amounts read as a reader reads them, exactly, from minor units', () => {
    assert.equal(formatMoney(eur(1299)), '€12.99');
    assert.equal(formatMoney(eur(5)), '€0.05');
    assert.equal(formatMoney(eur(123456789)), '€1,234,567.89');
    assert.equal(formatMoney({ amount: 1000, currency: 'GBP' }), '£10.00');
    assert.equal(formatMoney({ amount: 1000, currency: 'USD' }), 'US$10.00');
  });

  test('an order is referred to by a short, upper-case form of its id', () => {
    assert.equal(orderRef(ORDER), '3F2A9C1E');
  });
});

describe('order paid', () => {
  test('thanks the reader and lists what they bought, with shipping, VAT and the total', () => {
    const m = compose({ type: 'order-paid', orderId: ORDER, summary }, { orderUrl: `https://shop.example/orders/${ORDER}` });
    assert.equal(m.subject, 'Your order 3F2A9C1E is paid: thank you');
    assert.equal(
      m.text,
      [
        'Hello,',
        '',
        'Thank you for your order. We have received your payment of €41.80. Here is what you bought:',
        '',
        '  2 × The Salt House: €12.99 each, €25.98',
        '  1 × Borrowed Years: €9.50',
        '',
        '  Books: €35.48',
        '  Shipping (standard): €4.90',
        '  VAT: €1.42',
        '  Total: €41.80',
        '',
        `See your order: https://shop.example/orders/${ORDER}`,
        `Order reference: ${ORDER}`,
        '',
        'Folio',
      ].join('\n'),
    );
  });

  test('free shipping says so; without a summary the message still says the payment arrived', () => {
    const free = compose({ type: 'order-paid', orderId: ORDER, summary: { ...summary, shipping: eur(0), total: eur(3690) } });
    assert.match(free.text, /Shipping \(standard\): free/);
    const bare = compose({ type: 'order-paid', orderId: ORDER });
    assert.match(bare.text, /We have received your payment\./);
    assert.doesNotMatch(bare.text, /Total|See your order|undefined/);
  });
});

describe('payment failed', () => {
  test('gives the reason and says the reader can try again, until when', () => {
    const m = compose({ type: 'payment-failed', orderId: ORDER, reason: 'Your card was declined.', paymentDeadline: new Date('2026-11-18T14:32:00Z') });
    assert.equal(m.subject, 'Your payment for order 3F2A9C1E did not go through');
    assert.match(m.text, /did not go through\. The reason given was: Your card was declined\.\n/);
    assert.match(m.text, /Nothing was charged/);
    assert.match(m.text, /You can try paying again from your order, with the same card or another one, until 18 November 2026 at 14:32 UTC\./);
  });

  test('without a known deadline, says the window must still be open', () => {
    const m = compose({ type: 'payment-failed', orderId: ORDER, reason: 'the payment did not go through' });
    assert.match(m.text, /The reason given was: the payment did not go through\./i);
    assert.match(m.text, /try paying again from your order, .* while its payment window is open\./);
  });
});

describe('order cancelled', () => {
  test('by timeout: not paid in time, nothing charged, the cart keeps the books', () => {
    const m = compose({ type: 'order-cancelled', orderId: ORDER, reason: 'payment window closed' });
    assert.equal(m.subject, 'Your order 3F2A9C1E was cancelled: it was not paid in time');
    assert.match(m.text, /cancelled because it was not paid in time/);
    assert.match(m.text, /Nothing was charged\. The books are still in your cart/);
  });

  test('sold out after payment: names the book, says the money is being refunded', () => {
    const one = { ...summary, lines: [summary.lines[0]!], total: eur(3088) };
    const m = compose({ type: 'order-cancelled', orderId: ORDER, reason: 'out of stock after payment', summary: one });
    assert.equal(m.subject, 'Your order 3F2A9C1E was cancelled: the book sold out');
    assert.match(m.text, /We are sorry: “The Salt House” sold out before we could confirm your payment/);
    assert.match(m.text, /Your money \(€30\.88\) is being refunded in full/);
    const several = compose({ type: 'order-cancelled', orderId: ORDER, reason: 'out of stock after payment', summary });
    assert.match(several.text, /a book in your order sold out/);
    assert.equal(several.subject, 'Your order 3F2A9C1E was cancelled: a book sold out');
  });

  test('another reason is given as it is', () => {
    const m = compose({ type: 'order-cancelled', orderId: ORDER, reason: 'cancelled by support' });
    assert.equal(m.subject, 'Your order 3F2A9C1E was cancelled');
    assert.match(m.text, /The reason given was: cancelled by support\./);
  });
});

describe('order refunded', () => {
  test('says how much went back, and where', () => {
    const m = compose({ type: 'order-refunded', orderId: ORDER, amount: eur(4180) });
    assert.equal(m.subject, 'Your refund of €41.80 for order 3F2A9C1E');
    assert.match(m.text, /We have refunded €41\.80 for order 3F2A9C1E to the card or account you paid with\./);
  });
});

test('a subject never exceeds its column', () => {
  const long = { ...summary, lines: [{ ...summary.lines[0]!, title: 'x'.repeat(300) }] };
  const m = compose({ type: 'order-cancelled', orderId: 'o'.repeat(100), reason: 'y'.repeat(500), summary: long });
  assert.ok(m.subject.length <= SUBJECT_MAX);
  for (const facts of [
    { type: 'order-paid', orderId: ORDER, summary },
    { type: 'payment-failed', orderId: ORDER, reason: 'declined' },
    { type: 'order-refunded', orderId: ORDER, amount: eur(1) },
  ] as const) {
    const text = compose(facts).text;
    assert.ok(text.startsWith('Hello,\n\n') && text.endsWith(`Order reference: ${ORDER}\n\nFolio`), facts.type);
  }
});
