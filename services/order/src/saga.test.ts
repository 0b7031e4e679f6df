/**
 * The saga when things go wrong: stock lost after payment, the payment service down at checkout, the
 * inventory down when a payment arrives, and the order service stopped mid-way and started again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually } from '@folio/platform/testing';
import { type Json, PurchaseStack, pay } from './order.fixture.ts';

let stack: PurchaseStack;
before(async () => {
  stack = await PurchaseStack.start('order_saga');
});
after(async () => {
  await stack?.close();
});

const events = (order: Json): string[] => order.timeline.map((t: Json) => t.event);
const sagaState = async (orderId: string) =>
  (await stack.orderDb.query('SELECT pending_step, step_attempts, last_step_error FROM orders WHERE id = $1', [orderId])).rows[0];

describe('the saga', () => {
  test('no stock after payment: the reservation was lost and the stock sold; the order is cancelled and the money given back', async () => {
    const book = await stack.book({ copies: 1 });
    const reader = await stack.reader();
    await stack.addToCart(reader, book);
    const o = (await stack.placeOrder(reader)).body;
    // Behind the order's back: its reservation goes, and someone else buys the last copy.
    const released = await fetch(`${stack.urls.inventory}/internal/reservations/${o.id}/release`, { method: 'POST' });
    assert.equal(released.status, 200);
    const rival = await stack.reader();
    await stack.addToCart(rival, book);
    const theirs = (await stack.placeOrder(rival)).body;
    await pay(theirs.payment.paymentUrl);
    await stack.orderReaches(rival, theirs.id, 'paid');

    await pay(o.payment.paymentUrl);
    const refunded = await stack.orderReaches(reader, o.id, 'refunded', 30_000);
    assert.equal(refunded.cancelReason, 'out of stock after payment');
    assert.deepEqual(
      refunded.payments.map((p: Json) => p.status),
      ['refunded'],
      'the money is back',
    );
    assert.deepEqual(events(refunded), ['created', 'payment-opened', 'payment-succeeded', 'cancelled', 'refund-requested', 'refunded']);
    assert.deepEqual(
      refunded.timeline.map((t: Json) => t.status),
      ['created', 'created', 'created', 'cancelled', 'cancelled', 'refunded'],
    );
    assert.deepEqual(await stack.stock(book.id), { bookId: book.id, onHand: 0, reserved: 0, available: 0 }, 'no stock invented');
    assert.equal((await stack.orderOf(rival, theirs.id)).status, 'paid', "the rival's order stands");
  });

  test('the payment service is down at checkout: 201 with payment null; the driver opens it once the service is back', async () => {
    const reader = await stack.reader();
    await stack.addToCart(reader, await stack.book({ copies: 1 }));
    await stack.stopService('payment');
    let o: Json;
    try {
      const placed = await stack.placeOrder(reader);
      assert.equal(placed.status, 201, JSON.stringify(placed.body));
      o = placed.body;
      assert.equal(o.status, 'created');
      assert.equal(o.payment, null);
      assert.deepEqual(o.payments, []);
      await eventually(async () => (await sagaState(o.id)).step_attempts >= 2, { what: 'the driver to retry' });
      const state = await sagaState(o.id);
      assert.equal(state.pending_step, 'open-payment');
      assert.match(state.last_step_error, /payment/);
    } finally {
      await stack.startService('payment');
    }
    const opened = await eventually(
      async () => {
        const now = await stack.orderOf(reader, o.id);
        return now.payment?.paymentUrl && now;
      },
      { timeoutMs: 30_000, what: 'the payment to be opened by the driver' },
    );
    assert.equal(opened.payments[0].attempt, 1);
    assert.deepEqual(await sagaState(o.id), { pending_step: null, step_attempts: 0, last_step_error: null });
    await pay(opened.payment.paymentUrl);
    await stack.orderReaches(reader, o.id, 'paid');
  });

  test('the gateway is down at checkout: the attempt is opened without a page, and the page shows up on the order once the gateway is back', async () => {
    const reader = await stack.reader();
    await stack.addToCart(reader, await stack.book({ copies: 1 }));
    stack.sim.setFaults({ apiStatus: 503 });
    let o: Json;
    try {
      const placed = await stack.placeOrder(reader);
      assert.equal(placed.status, 201, JSON.stringify(placed.body));
      o = placed.body;
      assert.equal(o.payment.status, 'pending');
      assert.equal(o.payment.paymentUrl, null, 'no payment page while the gateway is down');
    } finally {
      stack.sim.clearFaults();
    }
    const withPage = await eventually(
      async () => {
        const now = await stack.orderOf(reader, o.id);
        return now.payment?.paymentUrl && now;
      },
      { timeoutMs: 30_000, what: 'the payment page to show up on the order' },
    );
    assert.equal(withPage.payment.id, o.payment.id, 'the same attempt');
    await pay(withPage.payment.paymentUrl);
    await stack.orderReaches(reader, o.id, 'paid');
  });

  test('the inventory is down when the payment arrives, and the order service is stopped meanwhile: it carries on after a restart', async () => {
    const book = await stack.book({ copies: 1 });
    const reader = await stack.reader();
    await stack.addToCart(reader, book);
    const o = (await stack.placeOrder(reader)).body;
    await stack.stopService('inventory');
    try {
      await pay(o.payment.paymentUrl);
      // The payment is in; confirming the stock keeps failing and is retried with backoff.
      await eventually(
        async () => {
          const s = await sagaState(o.id);
          return s.pending_step === 'confirm-stock' && s.step_attempts >= 1 && s;
        },
        { what: 'confirm-stock to fail and wait for a retry' },
      );
      assert.match((await sagaState(o.id)).last_step_error, /inventory/);
      // The order service goes away with the step still pending…
      await stack.stopService('order');
    } finally {
      await stack.startService('inventory');
    }
    // …and comes back: its state is all in its database.
    await stack.startService('order');
    const paid = await stack.orderReaches(reader, o.id, 'paid', 30_000);
    assert.deepEqual(events(paid), ['created', 'payment-opened', 'payment-succeeded', 'paid']);
    assert.deepEqual(await stack.stock(book.id), { bookId: book.id, onHand: 0, reserved: 0, available: 0 });
  });

  test('the order service is stopped when the payment succeeds: the outcome waits for it and is applied after the restart', async () => {
    const book = await stack.book({ copies: 1 });
    const reader = await stack.reader();
    await stack.addToCart(reader, book);
    const o = (await stack.placeOrder(reader)).body;
    await stack.stopService('order');
    try {
      await pay(o.payment.paymentUrl);
    } finally {
      await stack.startService('order');
    }
    const paid = await stack.orderReaches(reader, o.id, 'paid', 30_000);
    assert.equal(paid.payment.status, 'success');
    await eventually(async () => (await stack.cart(reader)).items.length === 0, { what: 'the cart to be cleared' });
  });
});
