/**
 * Following an order live through the edge, as the storefront's return page does: the real order service
 * and the services it needs on one in-process bus (the order suite's bench, on the test PostgreSQL), the
 * real payment gateway simulator, and the real edge gateway in front. The 304s of this follow used to reach
 * readers as 500s: the order service sent a content-length for a body a 304 cannot have, and the edge's
 * proxy failed the answer.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startGateway } from '@folio/gateway/gateway';
import type { RunningService } from '@folio/platform/service';
import { type Answer, call, PurchaseStack, pay } from '../services/order/src/order.fixture.ts';

let stack: PurchaseStack;
let edge: RunningService;

before(async () => {
  stack = await PurchaseStack.start('live_follow');
  edge = await startGateway({
    env: {
      PORT: '0',
      LOG_LEVEL: 'error',
      RATE_LIMIT_MAX: '0',
      ORDER_URL: stack.urls.order,
      CART_URL: stack.urls.cart,
      CATALOG_URL: stack.urls.catalog,
      PAYMENT_URL: stack.urls.payment,
    },
  });
});
after(async () => {
  await edge?.close();
  await stack?.close();
});

function assertNotModified(res: Answer, tag: string, what: string): void {
  assert.equal(res.status, 304, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
  assert.equal(res.headers.get('etag'), tag, what);
  assert.equal(res.headers.get('content-length'), null, `${what}: a 304 says nothing of a body it does not have`);
  assert.equal(res.body, undefined, what);
}

test('through the edge: unchanged is a 304 at once and after Prefer: wait; a change during the wait is a 200 with the new order', async () => {
  const reader = await stack.reader();
  await stack.addToCart(reader, await stack.book({ copies: 1 }));
  const placed = await stack.placeOrder(reader);
  assert.equal(placed.status, 201, JSON.stringify(placed.body));
  const id = placed.body.id as string;
  const get = (headers: Record<string, string> = {}) => call(`${edge.url}/api/orders/${id}`, 'GET', { token: reader.token, headers });

  const first = await get();
  assert.equal(first.status, 200);
  const tag = first.headers.get('etag')!;
  assert.match(tag, /^W\/"[\w-]+"$/);

  // Several in a row: a broken 304 also cost the edge its connection to the service.
  for (let i = 0; i < 3; i++) assertNotModified(await get({ 'if-none-match': tag }), tag, `304 #${i + 1} at the edge`);
  const waited = await get({ 'if-none-match': tag, prefer: 'wait=1' });
  assertNotModified(waited, tag, 'after waiting a second');
  assert.equal(waited.headers.get('preference-applied'), 'wait=1');
  // And at the source: the order service's own 304 carries no length either.
  const direct = await stack.order('GET', `/api/orders/${id}`, { token: reader.token, headers: { 'if-none-match': tag } });
  assertNotModified(direct, tag, 'the order service');

  // The return page waits while the payment gateway's callback arrives: the answer is the changed order.
  const following = get({ 'if-none-match': tag, prefer: 'wait=10' });
  assert.equal((await pay(placed.body.payment.paymentUrl)).status, 303);
  let answer = await following;
  let seen = tag;
  while (answer.status === 200 && answer.body.status !== 'paid') {
    // An earlier change (the attempt marked paid) may answer first; follow on from its tag.
    assert.notEqual(answer.headers.get('etag'), seen);
    seen = answer.headers.get('etag')!;
    answer = await get({ 'if-none-match': seen, prefer: 'wait=10' });
  }
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.id, id);
  assert.equal(answer.body.status, 'paid');
  const paidTag = answer.headers.get('etag')!;
  assert.notEqual(paidTag, tag);
  assertNotModified(await get({ 'if-none-match': paidTag }), paidTag, 'the paid order, unchanged since');
});
