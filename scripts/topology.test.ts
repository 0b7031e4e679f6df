/**
 * Folio as it is deployed: identity, catalogue, shipping and cart each in its own process with its
 * own database, Redis for carts, Kafka between them, driven only through the edge gateway.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { OrderCancelled, OrderPaid } from '@folio/contracts/events';
import { createLogger } from '@folio/platform/log';
import { createEnvelope, headers as h } from '@folio/platform/messaging/envelope';
import { KafkaTransport } from '@folio/platform/messaging/kafka-transport';
import { eventually, kafkaBrokers, redisUrl, requireInfra } from '@folio/platform/testing';
import { Admin } from '@platformatic/kafka';
import { type Edge, type Json, startTestTopology, type TestTopology } from './lib/e2e.ts';
import { services as registry } from './lib/services.ts';

const brokers = kafkaBrokers();
const redis = redisUrl();
const available = Boolean(brokers && redis);

describe('Folio through the edge, a process per service on PostgreSQL, Redis and Kafka', {
  skip: !available && !requireInfra ? 'needs Kafka and Redis (npm run infra:up)' : false,
}, () => {
  let t: TestTopology;
  let edge: Edge;
  let book: Json;
  const call = (method: string, path: string, opts?: Parameters<Edge['call']>[2]) => edge.call(method, path, opts);
  const signUp = (label: string) => edge.reader(label);

  before(async () => {
    t = await startTestTopology('topo');
    edge = t.edge;
    await t.seedCatalog(200);
    const page = await call('GET', '/api/products?limit=5');
    assert.equal(page.status, 200);
    book = page.body.items[0];
  });

  after(() => t?.stop());

  test('/health at the edge reports every service up', async () => {
    const health = await call('GET', '/health');
    assert.equal(health.body.status, 'ok');
    assert.deepEqual(Object.keys(health.body.services).sort(), registry.map((s) => s.name).sort());
    for (const s of Object.values(health.body.services) as Json[]) assert.equal(s.status, 'up');
  });

  test("a reader's journey: search, guest cart, sign up, merge at login, shipping, addresses, refresh, logout", async () => {
    const word = book.title.split(' ').find((w: string) => w.length > 4) ?? book.title;
    const found = await call('GET', `/api/products?q=${encodeURIComponent(word)}`);
    assert.ok(
      found.body.items.some((b: Json) => b.id === book.id),
      `searching "${word}" finds "${book.title}"`,
    );
    const one = await call('GET', `/api/products/${book.id}`);
    assert.equal(one.status, 200);
    assert.ok(Number.isInteger(one.body.price.amount));

    const guest = await call('POST', '/api/cart/add', { body: { productId: book.id, quantity: 2 } });
    assert.equal(guest.status, 200, JSON.stringify(guest.body));
    const cartToken = guest.body.cartToken as string;
    assert.ok(cartToken);

    const reader = await signUp('reader');
    const merged = await call('POST', '/api/cart/merge', { token: reader.token, headers: { 'x-cart-token': cartToken } });
    assert.equal(merged.status, 200, JSON.stringify(merged.body));
    const cart = await call('GET', '/api/cart', { token: reader.token });
    assert.deepEqual(
      cart.body.items.map((i: Json) => [i.productId, i.quantity]),
      [[book.id, 2]],
    );
    assert.equal(cart.body.subtotal.amount, 2 * book.price.amount);

    const options = await call('GET', '/api/shipping/options?country=DE&items=2');
    assert.deepEqual(
      options.body.options.map((o: Json) => o.id).filter((id: string) => id !== 'economy'),
      ['standard', 'express'],
    );
    const address = { name: 'Ada Reader', line1: 'Unter den Linden 1', city: 'Berlin', postalCode: '10117', country: 'DE' };
    assert.equal((await call('POST', '/api/shipping/validate-address', { body: { address } })).status, 200);
    const saved = await call('POST', '/api/me/addresses', { token: reader.token, body: address });
    assert.equal(saved.status, 201, JSON.stringify(saved.body));
    assert.equal((await call('GET', '/api/me/addresses', { token: reader.token })).body.items.length, 1);

    const refreshed = await call('POST', '/api/auth/refresh', { body: { refreshToken: reader.refreshToken } });
    assert.equal(refreshed.status, 200);
    assert.equal((await call('GET', '/api/me', { token: refreshed.body.accessToken })).body.email, reader.email);
    assert.equal((await call('POST', '/api/auth/logout', { body: { refreshToken: refreshed.body.refreshToken } })).status, 204);
    assert.equal((await call('POST', '/api/auth/refresh', { body: { refreshToken: refreshed.body.refreshToken } })).status, 401);
  });

  /** Publishes an order event straight onto this topology's Kafka, as the order service would. */
  async function send(event: typeof OrderPaid | typeof OrderCancelled, payload: Json): Promise<void> {
    const kafka = new KafkaTransport({
      brokers: kafkaBrokers()!,
      clientId: 'topology-test',
      log: createLogger({ name: 'test', level: 'warn' }),
      namespace: t.kafkaNamespace,
    });
    try {
      const envelope = createEnvelope(event, { aggregateId: payload.orderId, payload, correlationId: randomUUID() });
      await kafka.publish([
        {
          topic: event.type,
          key: envelope.aggregateId,
          value: JSON.stringify(envelope),
          headers: { [h.messageId]: envelope.id, [h.eventType]: envelope.type },
        },
      ]);
    } finally {
      await kafka.close();
    }
  }

  async function cartCleared(reader: Json): Promise<void> {
    await send(OrderPaid, { orderId: randomUUID(), userId: reader.id, paymentId: randomUUID() });
    await eventually(async () => (await call('GET', '/api/cart', { token: reader.token })).body.items.length === 0, {
      timeoutMs: 30_000,
      what: 'the cart to be cleared',
    });
  }

  test('order.cancelled over Kafka keeps the cart; order.paid clears it', async () => {
    const reader = await signUp('buyer');
    assert.equal((await call('POST', '/api/cart/add', { token: reader.token, body: { productId: book.id, quantity: 1 } })).status, 200);
    const consumed = async (type: string) => {
      const metrics = await (await fetch(`${t.topology.urls.cart}/metrics`)).text();
      const line = metrics
        .split('\n')
        .find((l) => l.startsWith('folio_messages_consumed_total') && l.includes(`type="${type}"`) && l.includes('outcome="applied"'));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    const before = await consumed('order.cancelled');
    await send(OrderCancelled, { orderId: randomUUID(), userId: reader.id, reason: 'payment window closed' });
    await eventually(async () => (await consumed('order.cancelled')) > before, { timeoutMs: 30_000, what: 'the cart service to consume order.cancelled' });
    assert.equal((await call('GET', '/api/cart', { token: reader.token })).body.items.length, 1, 'a cancelled order keeps the cart for a retry');
    await cartCleared(reader);
  });

  test('a consumer killed with SIGKILL is known again by its stable name: its group holds it alone, and it consumes at once', async () => {
    const group = t.kafkaNamespace ? `${t.kafkaNamespace}.cart` : 'cart';
    await t.topology.kill('cart');
    await t.topology.restart('cart'); // ready means its subscription is consuming
    const admin = new Admin({ clientId: 'topology-test', bootstrapBrokers: kafkaBrokers()! });
    try {
      const described = (await admin.describeGroups({ groups: [group] })).get(group)!;
      // Without a stable name the dead member would still be in the group, and the new one waiting, until its session timed out.
      assert.equal(described.state, 'Stable');
      assert.deepEqual(
        [...described.members.values()].map((m) => m.groupInstanceId),
        ['cart-1'],
      );
    } finally {
      await admin.close();
    }
    const reader = await signUp('after-crash');
    assert.equal((await call('POST', '/api/cart/add', { token: reader.token, body: { productId: book.id, quantity: 1 } })).status, 200);
    await cartCleared(reader);
  });

  test('every user-scoped and admin endpoint refuses a missing, tampered, unsigned or garbage token with 401', async () => {
    const reader = await signUp('victim');
    const [header, payload, signature] = reader.token.split('.');
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), roles: ['admin'] })).toString('base64url')}.${signature}`;
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    const someId = randomUUID();
    const endpoints: Array<[string, string, unknown?]> = [
      ['GET', '/api/me'],
      ['PATCH', '/api/me', { name: 'x' }],
      ['GET', '/api/me/addresses'],
      ['POST', '/api/me/addresses', { name: 'x', line1: 'x', city: 'x', postalCode: '10117', country: 'DE' }],
      ['PATCH', `/api/me/addresses/${someId}`, { city: 'x' }],
      ['DELETE', `/api/me/addresses/${someId}`],
      ['GET', '/api/users'],
      ['PUT', `/api/users/${someId}/roles`, { roles: ['admin'] }],
      ['POST', '/api/cart/merge'],
      ['POST', '/api/products', { title: 'x' }],
      ['PATCH', `/api/products/${book.id}`, { title: 'x' }],
      ['POST', `/api/products/${book.id}/retire`],
    ];
    for (const [method, path, body] of endpoints) {
      for (const [label, token] of [
        ['no token', undefined],
        ['tampered', tampered],
        ['alg none', unsigned],
        ['garbage', 'not-a-jwt'],
      ] as const) {
        const res = await call(method, path, { ...(token ? { token } : {}), ...(body !== undefined ? { body } : {}) });
        assert.equal(res.status, 401, `${method} ${path} with ${label}: ${JSON.stringify(res.body)}`);
        assert.match(res.type, /application\/problem\+json/);
      }
    }
    // A cart read with a bad token is refused too, rather than silently served as a guest.
    assert.equal((await call('GET', '/api/cart', { token: tampered })).status, 401);
    for (const [method, path, body] of endpoints.filter(([, p]) => p.startsWith('/api/users') || p.startsWith('/api/products'))) {
      const res = await call(method, path, { token: reader.token, ...(body !== undefined ? { body } : {}) });
      assert.equal(res.status, 403, `${method} ${path} as a customer: ${JSON.stringify(res.body)}`);
    }
  });

  test("one reader can neither see nor change another's addresses or cart", async () => {
    const ann = await signUp('ann');
    const bob = await signUp('bob');
    const address = { name: 'Ann', line1: 'Rue de Rivoli 1', city: 'Paris', postalCode: '75001', country: 'FR' };
    const saved = await call('POST', '/api/me/addresses', { token: ann.token, body: address });
    await call('POST', '/api/cart/add', { token: ann.token, body: { productId: book.id, quantity: 3 } });

    assert.deepEqual((await call('GET', '/api/me/addresses', { token: bob.token })).body.items, []);
    assert.equal((await call('PATCH', `/api/me/addresses/${saved.body.id}`, { token: bob.token, body: { city: 'Lyon' } })).status, 404);
    assert.equal((await call('DELETE', `/api/me/addresses/${saved.body.id}`, { token: bob.token })).status, 404);
    assert.deepEqual((await call('GET', '/api/cart', { token: bob.token })).body.items, []);
    assert.equal((await call('DELETE', `/api/cart/items/${book.id}`, { token: bob.token })).status, 404);

    const annAddresses = (await call('GET', '/api/me/addresses', { token: ann.token })).body.items;
    assert.equal(annAddresses[0].city, 'Paris');
    assert.equal((await call('GET', '/api/cart', { token: ann.token })).body.items[0].quantity, 3);
  });

  test('bad input at the edge is a 4xx problem naming the field, from every service', async () => {
    const reader = await signUp('typo');
    const cases: Array<[string, string, unknown, RegExp, string?]> = [
      ['POST', '/api/auth/register', { email: 'a@b.c', password: 123, name: 'x' }, /password/],
      ['POST', '/api/cart/add', { productId: book.id, quantity: -1 }, /quantity/, reader.token],
      ['POST', '/api/cart/add', { productId: 'not-a-uuid', quantity: 1 }, /productId/, reader.token],
      ['POST', '/api/shipping/validate-address', { address: { name: 'x', line1: 'x', city: 'x', postalCode: 'ABC', country: 'DE' } }, /postalCode/],
      ['POST', '/api/me/addresses', { name: 'x'.repeat(500), line1: 'x', city: 'x', postalCode: '10117', country: 'DE' }, /name/, reader.token],
    ];
    for (const [method, path, body, field, token] of cases) {
      const res = await call(method, path, { body, ...(token ? { token } : {}) });
      assert.ok(res.status >= 400 && res.status < 500, `${method} ${path}: ${res.status}`);
      assert.match(res.type, /application\/problem\+json/);
      assert.match(JSON.stringify(res.body), field);
    }
    for (const path of [
      '/api/products?limit=1000',
      '/api/products?limit=1.5',
      '/api/shipping/options?country=DE&items=0',
      `/api/products/${'x'.repeat(300)}`,
    ]) {
      const res = await call('GET', path);
      assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status}`);
      assert.match(res.type, /application\/problem\+json/, path);
    }
  });
});
