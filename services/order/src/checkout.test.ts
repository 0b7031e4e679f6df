/**
 * Placing and paying orders end to end: the real catalog, cart, shipping, inventory, payment and order
 * services on one bus, the real payment gateway simulator, real tokens, real PostgreSQL.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { eventually } from '@folio/platform/testing';
import { type Answer, berlin, cancelOnPage, cards, type Json, PurchaseStack, pay } from './order.fixture.ts';

let stack: PurchaseStack;
before(async () => {
  stack = await PurchaseStack.start('order_checkout');
});
after(async () => {
  await stack?.close();
});

function assertProblem(res: Answer, status: number, pattern?: RegExp, field?: string): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
  assert.match(res.type, /application\/problem\+json/);
  if (pattern) assert.match(res.body.detail, pattern);
  if (field) {
    const fields = (res.body.errors ?? []).map((e: { field: string }) => e.field);
    assert.ok(fields.includes(field), `expected an error naming ${field}: ${JSON.stringify(res.body)}`);
  }
}

const events = (order: Json): string[] => order.timeline.map((t: Json) => t.event);

describe('POST /api/orders: the happy path', () => {
  test('cart → order with totals from the tax table → pay on the hosted page → paid, stock gone for good, cart cleared', async () => {
    const cheap = await stack.book({ copies: 5, price: 1299 });
    const dear = await stack.book({ copies: 2, price: 2350 });
    const reader = await stack.reader();
    await stack.addToCart(reader, cheap, 2);
    await stack.addToCart(reader, dear, 1);

    const placed = await stack.placeOrder(reader);
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    const o = placed.body;
    assert.equal(placed.headers.get('location'), `/api/orders/${o.id}`);
    assert.equal(o.status, 'created');
    assert.deepEqual(
      o.lines.map((l: Json) => [l.bookId, l.title, l.quantity, l.unitPrice.amount, l.lineTotal.amount]),
      [
        [cheap.id, cheap.title, 2, 1299, 2598],
        [dear.id, dear.title, 1, 2350, 2350],
      ],
    );
    assert.deepEqual(o.subtotal, { amount: 4948, currency: 'EUR' });
    // DE books 7 %, per line, half up: 2598 → 181.86 → 182; 2350 → 164.5 → 165.
    assert.deepEqual(o.tax, { amount: 182 + 165, currency: 'EUR' });
    assert.ok(Number.isInteger(o.shipping.amount) && o.shipping.amount > 0, 'domestic standard shipping under the free threshold costs something');
    assert.equal(o.total.amount, o.subtotal.amount + o.tax.amount + o.shipping.amount);
    assert.equal(o.currency, 'EUR');
    assert.deepEqual(o.shippingAddress, berlin);
    assert.equal(o.shippingMethod, 'standard');
    const window = Date.parse(o.paymentDeadline) - Date.parse(o.createdAt);
    assert.ok(Math.abs(window - 900_000) < 5_000, `a 15-minute payment window (${window} ms)`);
    assert.equal(o.payment.status, 'pending');
    assert.match(o.payment.paymentUrl, /^http/);
    assert.equal(o.payments.length, 1);
    assert.equal(o.payments[0].attempt, 1);
    assert.deepEqual(events(o), ['created', 'payment-opened']);
    assert.deepEqual(await stack.stock(cheap.id), { bookId: cheap.id, onHand: 5, reserved: 2, available: 3 });

    assert.equal((await pay(o.payment.paymentUrl)).status, 303);
    const paid = await stack.orderReaches(reader, o.id, 'paid');
    assert.equal(paid.payment.status, 'success');
    assert.ok(paid.paidAt);
    assert.deepEqual(events(paid), ['created', 'payment-opened', 'payment-succeeded', 'paid']);
    assert.deepEqual(
      paid.timeline.map((t: Json) => t.status),
      ['created', 'created', 'created', 'paid'],
    );
    assert.deepEqual(await stack.stock(cheap.id), { bookId: cheap.id, onHand: 3, reserved: 0, available: 3 });
    assert.deepEqual(await stack.stock(dear.id), { bookId: dear.id, onHand: 1, reserved: 0, available: 1 });
    await eventually(async () => (await stack.cart(reader)).items.length === 0, { what: 'the cart to be cleared' });

    const list = await stack.order('GET', '/api/orders', { token: reader.token });
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.items.map((x: Json) => x.id),
      [o.id],
    );
  });
});

describe('Idempotency-Key', () => {
  test('a replay answers the first order again; another body with the key is a 422; stock is reserved once', async () => {
    const book = await stack.book({ copies: 3 });
    const reader = await stack.reader();
    await stack.addToCart(reader, book, 1);
    const key = randomUUID();
    const first = await stack.placeOrder(reader, { key });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const replay = await stack.placeOrder(reader, { key });
    assert.equal(replay.status, 201);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replay.body, first.body, 'the first answer, as it was');
    assert.equal((await stack.stock(book.id)).reserved, 1, 'reserved once');

    const other = await stack.placeOrder(reader, { key, body: { shippingAddress: berlin, shippingMethod: 'express' } });
    assertProblem(other, 422, /different request/, 'headers/idempotency-key');
    const list = await stack.order('GET', '/api/orders', { token: reader.token });
    assert.equal(list.body.items.length, 1, 'one order');
  });

  test('the same key from another reader is another request', async () => {
    const book = await stack.book({ copies: 2 });
    const [ann, bob] = [await stack.reader(), await stack.reader()];
    await stack.addToCart(ann, book);
    await stack.addToCart(bob, book);
    const key = randomUUID();
    const a = await stack.placeOrder(ann, { key });
    const b = await stack.placeOrder(bob, { key });
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.notEqual(a.body.id, b.body.id);
  });

  test('concurrent duplicates: 409 while the first runs; exactly one order', async () => {
    const book = await stack.book({ copies: 3 });
    const reader = await stack.reader();
    await stack.addToCart(reader, book, 1);
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 5 }, () => stack.placeOrder(reader, { key })));
    const fresh = answers.filter((a) => a.status === 201 && a.headers.get('idempotent-replayed') === null);
    assert.equal(fresh.length, 1, JSON.stringify(answers.map((a) => [a.status, a.body.id ?? a.body.detail])));
    for (const a of answers) {
      if (a.status === 201) assert.equal(a.body.id, fresh[0]!.body.id);
      else {
        assertProblem(a, 409, /still being processed/);
        assert.ok(Number(a.headers.get('retry-after')) >= 1);
      }
    }
    assert.ok(
      answers.some((a) => a.status === 409),
      'the duplicates arrived while the first ran',
    );
    assert.equal((await stack.stock(book.id)).reserved, 1);
    const again = await stack.placeOrder(reader, { key });
    assert.equal(again.status, 201);
    assert.equal(again.body.id, fresh[0]!.body.id);
  });

  test('a key held by a request still running is a 409 with Retry-After', async () => {
    const reader = await stack.reader();
    const key = randomUUID();
    const body = { shippingAddress: berlin, shippingMethod: 'standard' };
    const { requestHash } = await import('./idempotency.ts');
    await stack.orderDb.query(
      `INSERT INTO idempotency_keys (user_id, key, request_hash, state, order_id, locked_until) VALUES ($1, $2, $3, 'in-progress', $4, now() + interval '30 seconds')`,
      [reader.userId, key, requestHash('POST /api/orders', body), randomUUID()],
    );
    const busy = await stack.placeOrder(reader, { key, body });
    assertProblem(busy, 409, /still being processed/);
    assert.ok(Number(busy.headers.get('retry-after')) >= 1);
  });

  test('a first answer that was a refusal is replayed too, even after the cart changed', async () => {
    const reader = await stack.reader();
    const key = randomUUID();
    assertProblem(await stack.placeOrder(reader, { key }), 422, /cart is empty/);
    await stack.addToCart(reader, await stack.book({ copies: 1 }));
    const replay = await stack.placeOrder(reader, { key });
    assertProblem(replay, 422, /cart is empty/);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal((await stack.placeOrder(reader, { key: randomUUID() })).status, 201, 'a new key is a new request');
  });

  test('a checkout that crashed after reserving continues with the same order id when retried', async () => {
    const book = await stack.book({ copies: 2 });
    const reader = await stack.reader();
    await stack.addToCart(reader, book, 2);
    const key = randomUUID();
    const body = { shippingAddress: berlin, shippingMethod: 'standard' };
    // What a crash leaves behind: the key in progress with its order id (lease run out), and that order's reservation.
    const orderId = randomUUID();
    const { requestHash } = await import('./idempotency.ts');
    await stack.orderDb.query(
      `INSERT INTO idempotency_keys (user_id, key, request_hash, state, order_id, locked_until) VALUES ($1, $2, $3, 'in-progress', $4, now() - interval '1 second')`,
      [reader.userId, key, requestHash('POST /api/orders', body), orderId],
    );
    const reserved = await fetch(`${stack.urls.inventory}/internal/reservations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ orderId, lines: [{ bookId: book.id, quantity: 2 }], expiresAt: new Date(Date.now() + 600_000).toISOString() }),
    });
    assert.equal(reserved.status, 201);
    assert.equal((await stack.stock(book.id)).available, 0);

    const retried = await stack.placeOrder(reader, { key, body });
    assert.equal(retried.status, 201, JSON.stringify(retried.body));
    assert.equal(retried.body.id, orderId, 'the same order id');
    assert.deepEqual(await stack.stock(book.id), { bookId: book.id, onHand: 2, reserved: 2, available: 0 }, 'the one reservation');
    assert.ok(Date.parse(retried.body.paymentDeadline) <= Date.now() + 600_000 - 120_000 + 1000, 'the window ends before the reservation');
  });
});

describe('what stops an order', () => {
  test('not enough stock for one of two books: 409 naming it, nothing reserved, no order', async () => {
    const plenty = await stack.book({ copies: 5 });
    const scarce = await stack.book({ copies: 1, title: 'A Rare Book' });
    const reader = await stack.reader();
    await stack.addToCart(reader, plenty, 2);
    await stack.addToCart(reader, scarce, 3);
    const res = await stack.placeOrder(reader);
    assertProblem(res, 409, /A Rare Book.*asked for 3, 1 is left/);
    assert.equal(res.body.type, 'urn:folio:problem:insufficient-stock');
    assert.deepEqual(res.body.books, [{ bookId: scarce.id, title: 'A Rare Book', requested: 3, available: 1 }]);
    assert.equal((await stack.stock(plenty.id)).available, 5, 'nothing reserved');
    assert.equal((await stack.stock(scarce.id)).available, 1);
    assert.deepEqual((await stack.order('GET', '/api/orders', { token: reader.token })).body.items, []);
  });

  test('an empty cart: 422', async () => {
    assertProblem(await stack.placeOrder(await stack.reader()), 422, /^Your cart is empty\.$/);
  });

  test('a price that changed since the book was added: 409 naming it; accepted, the order goes through at the new price', async () => {
    const book = await stack.book({ copies: 2, price: 1000, title: 'Changing Times' });
    const reader = await stack.reader();
    await stack.addToCart(reader, book);
    await stack.setPrice(book.id, 1200);
    const res = await stack.placeOrder(reader);
    assertProblem(res, 409, /Changing Times.*12\.00.*was EUR 10\.00/);
    assert.deepEqual(res.body.books, [
      {
        bookId: book.id,
        title: 'Changing Times',
        reason: 'price-changed',
        cartPrice: { amount: 1000, currency: 'EUR' },
        currentPrice: { amount: 1200, currency: 'EUR' },
      },
    ]);
    assert.equal((await stack.stock(book.id)).reserved, 0);
    const accepted = await fetch(`${stack.urls.cart}/api/cart/accept-prices`, { method: 'POST', headers: { authorization: `Bearer ${reader.token}` } });
    assert.equal(accepted.status, 200);
    const placed = await stack.placeOrder(reader);
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    assert.equal(placed.body.subtotal.amount, 1200);
  });

  test('a book no longer sold: 409 naming it', async () => {
    const book = await stack.book({ copies: 2, title: 'Out of Print' });
    const reader = await stack.reader();
    await stack.addToCart(reader, book);
    const retired = await fetch(`${stack.urls.catalog}/api/products/${book.id}/retire`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.adminToken}` },
    });
    assert.equal(retired.status, 200);
    const res = await stack.placeOrder(reader);
    assertProblem(res, 409, /Out of Print.*no longer sold/);
    assert.equal(res.body.books[0].reason, 'unavailable');
  });

  test('an address the shipping service refuses: 422 naming the field; a method not offered: 422 naming shippingMethod', async () => {
    const reader = await stack.reader();
    await stack.addToCart(reader, await stack.book({ copies: 1 }));
    const address = await stack.placeOrder(reader, { body: { shippingAddress: { ...berlin, postalCode: '1234' }, shippingMethod: 'standard' } });
    assertProblem(address, 422, /postal code/i, 'body/shippingAddress/postalCode');
    const method = await stack.placeOrder(reader, { body: { shippingAddress: berlin, shippingMethod: 'teleport' } });
    assertProblem(method, 422, /teleport/, 'body/shippingMethod');
  });
});

describe('paying again', () => {
  test('declined, then a new attempt pays', async () => {
    const book = await stack.book({ copies: 1 });
    const reader = await stack.reader();
    await stack.addToCart(reader, book);
    const o = (await stack.placeOrder(reader)).body;
    assert.equal((await pay(o.payment.paymentUrl, cards.declined)).status, 402);
    const failed = await eventually(
      async () => {
        const now = await stack.orderOf(reader, o.id);
        return now.payments[0].status === 'failed' && now;
      },
      { what: 'the attempt to fail' },
    );
    assert.equal(failed.status, 'created', 'a failed payment does not cancel the order');
    assert.ok(failed.payments[0].failureReason);
    assert.ok(events(failed).includes('payment-failed'));

    const retry = await stack.order('POST', `/api/orders/${o.id}/payments`, { token: reader.token });
    assert.equal(retry.status, 201, JSON.stringify(retry.body));
    assert.equal(retry.body.status, 'pending');
    assert.notEqual(retry.body.id, o.payment.id);
    assert.equal((await pay(retry.body.paymentUrl)).status, 303);
    const paid = await stack.orderReaches(reader, o.id, 'paid');
    assert.deepEqual(
      paid.payments.map((p: Json) => [p.attempt, p.status]),
      [
        [1, 'failed'],
        [2, 'success'],
      ],
    );
    assert.equal(paid.payment.id, retry.body.id);
    assert.deepEqual(events(paid), ['created', 'payment-opened', 'payment-failed', 'payment-opened', 'payment-succeeded', 'paid']);
    assert.equal((await stack.stock(book.id)).onHand, 0);

    assertProblem(await stack.order('POST', `/api/orders/${o.id}/payments`, { token: reader.token }), 409, /already paid/);
  });

  test('cancelled on the hosted page, then a new attempt pays', async () => {
    const reader = await stack.reader();
    await stack.addToCart(reader, await stack.book({ copies: 1 }));
    const o = (await stack.placeOrder(reader)).body;
    assert.equal((await cancelOnPage(o.payment.paymentUrl)).status, 303);
    await eventually(async () => (await stack.orderOf(reader, o.id)).payments[0].status === 'cancelled', { what: 'the attempt to be cancelled' });
    const retry = await stack.order('POST', `/api/orders/${o.id}/payments`, { token: reader.token });
    assert.equal(retry.status, 201, JSON.stringify(retry.body));
    await pay(retry.body.paymentUrl);
    const paid = await stack.orderReaches(reader, o.id, 'paid');
    assert.ok(events(paid).includes('payment-cancelled'));
  });

  test('a new attempt replaces one still pending', async () => {
    const reader = await stack.reader();
    await stack.addToCart(reader, await stack.book({ copies: 1 }));
    const o = (await stack.placeOrder(reader)).body;
    const retry = await stack.order('POST', `/api/orders/${o.id}/payments`, { token: reader.token });
    assert.equal(retry.status, 201);
    const now = await eventually(
      async () => {
        const x = await stack.orderOf(reader, o.id);
        return x.payments[0].status === 'cancelled' && x;
      },
      { what: 'the older attempt to be cancelled' },
    );
    assert.deepEqual(
      now.payments.map((p: Json) => [p.attempt, p.status]),
      [
        [1, 'cancelled'],
        [2, 'pending'],
      ],
    );
    assert.equal(now.payment.id, retry.body.id);
  });
});

describe('refunds', () => {
  test('the reader takes back a paid order: refunded, money back, stock restored; asking again is a 409', async () => {
    const book = await stack.book({ copies: 2 });
    const reader = await stack.reader();
    await stack.addToCart(reader, book);
    const o = (await stack.placeOrder(reader)).body;
    assert.deepEqual(o.actions, { canRetryPayment: true, canRefund: false, refundableUntil: null });
    assertProblem(await stack.order('POST', `/api/orders/${o.id}/refund`, { token: reader.token }), 409, /not paid/);
    await pay(o.payment.paymentUrl);
    const paid = await stack.orderReaches(reader, o.id, 'paid');
    assert.equal((await stack.stock(book.id)).onHand, 1);
    // The storefront shows the refund button from these, decided by the rules the refund itself applies.
    assert.equal(paid.actions.canRetryPayment, false);
    assert.equal(paid.actions.canRefund, true);
    assert.equal(Date.parse(paid.actions.refundableUntil), Date.parse(paid.paidAt) + 14 * 86_400_000);

    const asked = await stack.order('POST', `/api/orders/${o.id}/refund`, { token: reader.token });
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    assert.equal(asked.body.id, o.id);
    assert.ok(events(asked.body).includes('refund-requested'));
    const refunded = await stack.orderReaches(reader, o.id, 'refunded');
    assert.equal(refunded.payment.status, 'refunded');
    assert.deepEqual(events(refunded).slice(-2), ['refund-requested', 'refunded']);
    await eventually(async () => (await stack.stock(book.id)).onHand === 2, { what: 'the stock to be restored' });
    assertProblem(await stack.order('POST', `/api/orders/${o.id}/refund`, { token: reader.token }), 409, /already been refunded/);
  });

  test('after the refund window: 409', async () => {
    const reader = await stack.reader();
    await stack.addToCart(reader, await stack.book({ copies: 1 }));
    const o = (await stack.placeOrder(reader)).body;
    await pay(o.payment.paymentUrl);
    await stack.orderReaches(reader, o.id, 'paid');
    await stack.orderDb.query(`UPDATE orders SET paid_at = now() - interval '15 days' WHERE id = $1`, [o.id]);
    assertProblem(await stack.order('POST', `/api/orders/${o.id}/refund`, { token: reader.token }), 409, /within 14 days/);
    const late = await stack.orderOf(reader, o.id);
    assert.equal(late.status, 'paid');
    assert.equal(late.actions.canRefund, false);
  });
});

describe('access', () => {
  test("another reader's order is a 404 on every route; no token is a 401", async () => {
    const ann = await stack.reader();
    const bob = await stack.reader();
    await stack.addToCart(ann, await stack.book({ copies: 1 }));
    const o = (await stack.placeOrder(ann)).body;
    for (const [method, path] of [
      ['GET', `/api/orders/${o.id}`],
      ['POST', `/api/orders/${o.id}/payments`],
      ['POST', `/api/orders/${o.id}/refund`],
    ] as const) {
      assertProblem(await stack.order(method, path, { token: bob.token }), 404, /no order/);
      assertProblem(await stack.order(method, path), 401);
      assertProblem(await stack.order(method, path, { headers: { authorization: 'Bearer nonsense' } }), 401);
    }
    assertProblem(await stack.order('GET', `/api/orders/${randomUUID()}`, { token: ann.token }), 404);
    assert.deepEqual((await stack.order('GET', '/api/orders', { token: bob.token })).body.items, []);
    assertProblem(await stack.order('GET', '/api/orders'), 401);
    assertProblem(await stack.order('POST', '/api/orders', { body: { shippingAddress: berlin, shippingMethod: 'standard' } }), 401);
    assertProblem(await stack.order('POST', '/api/orders', { raw: '{not json' }), 401, undefined);
  });
});

describe('listing', () => {
  test('newest first, paged by cursor', async () => {
    const reader = await stack.reader();
    const book = await stack.book({ copies: 10 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      await stack.addToCart(reader, book);
      const placed = await stack.placeOrder(reader);
      assert.equal(placed.status, 201);
      ids.unshift(placed.body.id);
    }
    const first = await stack.order('GET', '/api/orders?limit=2', { token: reader.token });
    assert.deepEqual(
      first.body.items.map((o: Json) => o.id),
      ids.slice(0, 2),
    );
    assert.ok(first.body.nextCursor);
    const second = await stack.order('GET', `/api/orders?limit=2&cursor=${first.body.nextCursor}`, { token: reader.token });
    assert.deepEqual(
      second.body.items.map((o: Json) => o.id),
      ids.slice(2),
    );
    assert.equal(second.body.nextCursor, null);
    assert.ok(second.body.items[0].timeline.length >= 1 && second.body.items[0].payments.length === 1, 'full orders in the list');
  });
});

describe('following an order live (ETag, If-None-Match, Prefer: wait)', () => {
  test('unchanged: 304 at once, or after the wait; a change during the wait answers 200 with the new state', async () => {
    const reader = await stack.reader();
    await stack.addToCart(reader, await stack.book({ copies: 1 }));
    const o = (await stack.placeOrder(reader)).body;
    const first = await stack.order('GET', `/api/orders/${o.id}`, { token: reader.token });
    const tag = first.headers.get('etag');
    assert.match(tag ?? '', /^W\/"[\w-]+"$/);

    const same = await stack.order('GET', `/api/orders/${o.id}`, { token: reader.token, headers: { 'if-none-match': tag! } });
    assert.equal(same.status, 304);
    assert.equal(same.headers.get('etag'), tag);
    assert.equal(same.headers.get('content-length'), null, 'a 304 says nothing of a body it does not have');

    const waited = await stack.order('GET', `/api/orders/${o.id}`, { token: reader.token, headers: { 'if-none-match': tag!, prefer: 'wait=1' } });
    assert.equal(waited.status, 304);
    assert.equal(waited.headers.get('preference-applied'), 'wait=1');

    // The reader's return page waits while the gateway's callback arrives: the answer is the paid order.
    const following = stack.order('GET', `/api/orders/${o.id}`, { token: reader.token, headers: { 'if-none-match': tag!, prefer: 'wait=10' } });
    await pay(o.payment.paymentUrl);
    let answer = await following;
    while (answer.status === 200 && answer.body.status !== 'paid') {
      // An earlier change (the attempt marked paid) may answer first; follow on from its tag.
      answer = await stack.order('GET', `/api/orders/${o.id}`, {
        token: reader.token,
        headers: { 'if-none-match': answer.headers.get('etag')!, prefer: 'wait=10' },
      });
    }
    assert.equal(answer.status, 200);
    assert.equal(answer.body.status, 'paid');
    assert.notEqual(answer.headers.get('etag'), tag);
  });

  test("another reader's order is still a 404, waiting or not", async () => {
    const ann = await stack.reader();
    const bob = await stack.reader();
    await stack.addToCart(ann, await stack.book({ copies: 1 }));
    const o = (await stack.placeOrder(ann)).body;
    const tag = (await stack.order('GET', `/api/orders/${o.id}`, { token: ann.token })).headers.get('etag')!;
    assertProblem(await stack.order('GET', `/api/orders/${o.id}`, { token: bob.token, headers: { 'if-none-match': tag, prefer: 'wait=2' } }), 404);
  });
});

describe('the admin listing', () => {
  test("admins see every reader's orders, filtered by status and paged; readers are refused", async () => {
    const ann = await stack.reader();
    const bob = await stack.reader();
    const book = await stack.book({ copies: 5 });
    await stack.addToCart(ann, book);
    const annOrder = (await stack.placeOrder(ann)).body;
    await stack.addToCart(bob, book);
    const bobOrder = (await stack.placeOrder(bob)).body;
    await pay(bobOrder.payment.paymentUrl);
    await stack.orderReaches(bob, bobOrder.id, 'paid');

    const all = await stack.order('GET', '/api/admin/orders?limit=2', { token: stack.adminToken });
    assert.equal(all.status, 200, JSON.stringify(all.body));
    assert.deepEqual(
      all.body.items.map((o: Json) => [o.id, o.userId]),
      [
        [bobOrder.id, bob.userId],
        [annOrder.id, ann.userId],
      ],
    );
    assert.ok(all.body.nextCursor);
    const paid = await stack.order('GET', '/api/admin/orders?status=paid&limit=50', { token: stack.adminToken });
    assert.ok(paid.body.items.some((o: Json) => o.id === bobOrder.id));
    assert.ok(paid.body.items.every((o: Json) => o.status === 'paid'));
    assertProblem(await stack.order('GET', '/api/admin/orders', { token: ann.token }), 403);
    assertProblem(await stack.order('GET', '/api/admin/orders'), 401);
    assertProblem(await stack.order('GET', '/api/admin/orders?status=lost', { token: stack.adminToken }), 400, undefined, 'querystring/status');
  });
});

describe('the OpenAPI document', () => {
  test('describes every order route, secured by a bearer token', async () => {
    const doc = (await stack.order('GET', '/openapi.json')).body;
    for (const [path, method] of [
      ['/api/orders', 'post'],
      ['/api/orders', 'get'],
      ['/api/orders/{id}', 'get'],
      ['/api/orders/{id}/payments', 'post'],
      ['/api/orders/{id}/refund', 'post'],
    ] as const) {
      const op = doc.paths[path]?.[method];
      assert.ok(op, `${method} ${path}`);
      assert.deepEqual(op.security, [{ bearerAuth: [] }]);
      assert.ok(op.summary);
    }
    assert.ok(doc.paths['/api/orders'].post.parameters.some((p: Json) => p.in === 'header' && p.name === 'idempotency-key'));
  });
});

describe('bad input is a 4xx problem naming the field', () => {
  test('every route', async () => {
    const reader = await stack.reader();
    const t = { token: reader.token };
    const place = (body: unknown, headers?: Record<string, string>) => stack.order('POST', '/api/orders', { ...t, body, ...(headers ? { headers } : {}) });
    assertProblem(await place({ shippingAddress: berlin }), 400, undefined, 'body/shippingMethod');
    assertProblem(await place({ shippingMethod: 'standard' }), 400, undefined, 'body/shippingAddress');
    assertProblem(
      await place({ shippingAddress: { ...berlin, country: 'Germany' }, shippingMethod: 'standard' }),
      400,
      undefined,
      'body/shippingAddress/country',
    );
    assertProblem(await place({ shippingAddress: { ...berlin, city: '' }, shippingMethod: 'standard' }), 400, undefined, 'body/shippingAddress/city');
    assertProblem(await place({ shippingAddress: { ...berlin, floor: 3 }, shippingMethod: 'standard' }), 400, undefined, 'body/shippingAddress/floor');
    assertProblem(await place({ shippingAddress: berlin, shippingMethod: 'standard', coupon: 'FREE' }), 400, undefined, 'body/coupon');
    assertProblem(await place({ shippingAddress: berlin, shippingMethod: 'Express!' }), 400, undefined, 'body/shippingMethod');
    assertProblem(
      await place({ shippingAddress: berlin, shippingMethod: 'standard' }, { 'idempotency-key': 'x'.repeat(256) }),
      400,
      undefined,
      'headers/idempotency-key',
    );
    assertProblem(await stack.order('POST', '/api/orders', { ...t, raw: '{"shippingAddress":' }), 400, /not valid JSON/);
    assertProblem(await stack.order('GET', '/api/orders/not-a-uuid', t), 400, undefined, 'params/id');
    assertProblem(await stack.order('POST', '/api/orders/not-a-uuid/payments', t), 400, undefined, 'params/id');
    assertProblem(await stack.order('POST', `/api/orders/${randomUUID()}/refund`, { ...t, body: { reason: 'x' } }), 400, undefined, 'body');
    assertProblem(await stack.order('GET', '/api/orders?limit=0', t), 400, undefined, 'querystring/limit');
    assertProblem(await stack.order('GET', '/api/orders?limit=1.5', t), 400, undefined, 'querystring/limit');
    assertProblem(await stack.order('GET', '/api/orders?cursor=bm9wZQ', t), 400, undefined, 'querystring/cursor');
    assertProblem(await stack.order('GET', '/api/orders?sort=price', t), 400, undefined, 'querystring/sort');
  });
});

describe('a race for the last copies', () => {
  test('many readers order at once: exactly as many orders as copies, clear 409s for the rest, stock exactly zero once paid', {
    timeout: 120_000,
  }, async () => {
    const COPIES = 10;
    const BUYERS = Number(process.env.ORDER_RACE_BUYERS ?? 60);
    const book = await stack.book({ copies: COPIES, title: 'The Last Copies' });
    const buyers = await Promise.all(Array.from({ length: BUYERS }, () => stack.reader()));
    for (const b of buyers) await stack.addToCart(b, book);
    const answers = await Promise.all(buyers.map((b) => stack.placeOrder(b, { key: randomUUID() })));
    const won = answers.filter((a) => a.status === 201);
    const lost = answers.filter((a) => a.status === 409);
    assert.equal(won.length, COPIES, `statuses: ${JSON.stringify(answers.map((a) => a.status))}`);
    assert.equal(lost.length, BUYERS - COPIES);
    for (const l of lost) assertProblem(l, 409, /The Last Copies/);
    await Promise.all(won.map((w) => pay(w.body.payment.paymentUrl)));
    await eventually(
      async () => {
        const { rows } = await stack.orderDb.query<{ c: number }>(`SELECT count(*)::int AS c FROM orders WHERE status = 'paid' AND id = ANY($1::uuid[])`, [
          won.map((w) => w.body.id),
        ]);
        return rows[0]!.c === COPIES;
      },
      { timeoutMs: 60_000, what: 'every won order to be paid' },
    );
    assert.deepEqual(await stack.stock(book.id), { bookId: book.id, onHand: 0, reserved: 0, available: 0 });
  });
});
