/**
 * The payment window, with a 3-second window: an unpaid order is cancelled when its payment times out
 * (its stock released, the cart kept), and money that arrives after that is given back automatically.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually } from '@folio/platform/testing';
import { cards, type Json, PurchaseStack, pay } from './order.fixture.ts';

const WINDOW_SECONDS = 3;
let stack: PurchaseStack;
before(async () => {
  stack = await PurchaseStack.start('order_window', {
    order: { PAYMENT_TIMEOUT_SECONDS: String(WINDOW_SECONDS), PAYMENT_DEADLINE_GRACE_SECONDS: '1', WINDOW_SWEEP_INTERVAL_MS: '100' },
  });
});
after(async () => {
  await stack?.close();
});

const events = (order: Json): string[] => order.timeline.map((t: Json) => t.event);

describe('the payment window', () => {
  test('nobody pays: the attempt times out, the order is cancelled with its reason, the stock released, the cart kept', async () => {
    const book = await stack.book({ copies: 2 });
    const reader = await stack.reader();
    await stack.addToCart(reader, book, 2);
    const placed = await stack.placeOrder(reader);
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    const o = placed.body;
    assert.ok(Date.parse(o.paymentDeadline) - Date.parse(o.createdAt) <= WINDOW_SECONDS * 1000 + 50);
    assert.equal((await stack.stock(book.id)).available, 0);

    const cancelled = await stack.orderReaches(reader, o.id, 'cancelled', 20_000);
    assert.equal(cancelled.cancelReason, 'payment window closed');
    assert.equal(cancelled.payments[0].status, 'timeout');
    assert.deepEqual(events(cancelled), ['created', 'payment-opened', 'payment-timed-out', 'cancelled']);
    assert.equal(cancelled.timeline.at(-1).detail, 'payment window closed');
    await eventually(async () => (await stack.stock(book.id)).available === 2, { what: 'the reservation to be released' });
    assert.equal((await stack.stock(book.id)).onHand, 2);
    const cart = await stack.cart(reader);
    assert.deepEqual(
      cart.items.map((i: Json) => [i.productId, i.quantity]),
      [[book.id, 2]],
      'the cart is kept',
    );

    const retry = await stack.order('POST', `/api/orders/${o.id}/payments`, { token: reader.token });
    assert.equal(retry.status, 409);
    assert.match(retry.body.detail, /payment window has closed/);
    assert.equal((await stack.order('POST', `/api/orders/${o.id}/refund`, { token: reader.token })).status, 409);
  });

  test('a payment captured after the window closed is refunded automatically; the order stays cancelled', async () => {
    const book = await stack.book({ copies: 2 });
    const reader = await stack.reader();
    await stack.addToCart(reader, book);
    const o = (await stack.placeOrder(reader)).body;
    // A declined card first: the attempt fails, so nothing is pending any more when the window closes…
    assert.equal((await pay(o.payment.paymentUrl, cards.declined)).status, 402);
    await eventually(async () => (await stack.orderOf(reader, o.id)).payments[0].status === 'failed', { what: 'the attempt to fail' });
    // …then the reader pays on the still-open page, and the gateway's callback only arrives after the window.
    stack.sim.setFaults({ webhookDelayMs: (WINDOW_SECONDS + 4) * 1000 });
    try {
      assert.equal((await pay(o.payment.paymentUrl, cards.ok, { returnToFolio: false })).status, 303);
      const cancelled = await stack.orderReaches(reader, o.id, 'cancelled', 15_000);
      assert.equal(cancelled.cancelReason, 'payment window closed');
    } finally {
      stack.sim.clearFaults();
    }
    const refunded = await stack.orderReaches(reader, o.id, 'refunded', 30_000);
    assert.equal(refunded.cancelReason, 'payment window closed', 'why it was cancelled stays on record');
    assert.equal(refunded.payments[0].status, 'refunded');
    const names = events(refunded);
    assert.deepEqual(names.slice(names.indexOf('cancelled')), ['cancelled', 'payment-succeeded', 'refund-requested', 'refunded']);
    assert.match(refunded.timeline.find((t: Json) => t.event === 'refund-requested').detail, /after the order was cancelled/);
    await eventually(async () => (await stack.stock(book.id)).available === 2, { what: 'the released stock' });
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await stack.stock(book.id), { bookId: book.id, onHand: 2, reserved: 0, available: 2 }, 'not restocked: the books never left');
  });
});
