/**
 * The cart service end to end: real HTTP, real PostgreSQL, real Redis, the real catalogue service
 * (books seeded through its admin API) and real signed tokens. One suite, run against both stores.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { OrderCancelled, OrderPaid } from '@folio/contracts/events';
import type { Money } from '@folio/contracts/money';
import { EmbeddedTransport } from '@folio/platform/messaging/embedded-transport';
import { createEnvelope, type EventDefinition, headers as messageHeaders, type PayloadOf, topicOf } from '@folio/platform/messaging/envelope';
import type { OutboundMessage } from '@folio/platform/messaging/transport';
import { type RunningService, type ServiceModule, startService } from '@folio/platform/service';
import { createTestDatabase, eventually, redisUrl, skipUnless, type TestDatabase } from '@folio/platform/testing';
import { startTestIdentity, type TestIdentity } from '@folio/platform/testing-identity';
import { Redis } from 'ioredis';
import cartModule from './service.ts';

// ---------------------------------------------------------------------------------------------
// HTTP helpers

interface Item {
  productId: string;
  title: string;
  quantity: number;
  unitPrice: Money;
  currentPrice: Money;
  priceChanged: boolean;
  available: boolean;
  lineTotal: Money;
}
/** A cart answer or a problem: the fields of both, loosely. */
interface Body {
  id: string | null;
  items: Item[];
  subtotal: Money;
  priceChanged: boolean;
  expiresAt: string | null;
  cartToken?: string;
  merged?: { added: number; combined: number; capped: string[]; skipped: string[] };
  status?: number;
  detail?: string;
  productId?: string;
  errors?: Array<{ field: string; message: string }>;
}
interface Res {
  status: number;
  body: Body;
  headers: Headers;
}
interface CallOptions {
  bearer?: string;
  cartToken?: string;
  json?: unknown;
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

async function call(base: string, method: string, path: string, o: CallOptions = {}): Promise<Res> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.bearer !== undefined) headers.authorization = `Bearer ${o.bearer}`;
  if (o.cartToken !== undefined) headers['x-cart-token'] = o.cartToken;
  let body: string | undefined;
  if (o.json !== undefined) {
    body = JSON.stringify(o.json);
    headers['content-type'] = 'application/json';
  } else if (o.raw !== undefined) {
    body = o.raw;
    headers['content-type'] = o.contentType ?? 'application/json';
  }
  const res = await fetch(`${base}${path}`, { method, headers, body });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, headers: res.headers, body: (/json/.test(type) && text ? JSON.parse(text) : { detail: text }) as Body };
}

function assertProblem(res: Res, status: number, field?: string | RegExp): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
  assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
  assert.equal(res.body.status, status);
  if (field === undefined) return;
  const named = `${(res.body.errors ?? []).map((e) => e.field).join(' ')} ${res.body.detail ?? ''}`;
  if (typeof field === 'string') assert.ok(named.includes(field), `expected the problem to name ${field}: ${JSON.stringify(res.body)}`);
  else assert.match(named, field);
}

const lineOf = (cart: Body, productId: string): Item | undefined => cart.items.find((i) => i.productId === productId);
const eur = (amount: number): Money => ({ amount, currency: 'EUR' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hashOf = (token: string) => createHash('sha256').update(token).digest('base64url');

// ---------------------------------------------------------------------------------------------
// The real catalogue, seeded through its admin API

function isbn13(): string {
  const digits = `978${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`;
  const sum = [...digits].reduce((s, d, i) => s + Number(d) * (i % 2 === 0 ? 1 : 3), 0);
  return `${digits}${(10 - (sum % 10)) % 10}`;
}

class Catalogue {
  readonly url: string;
  readonly #admin: string;
  readonly #categoryId: string | undefined;
  constructor(url: string, admin: string, categoryId: string | undefined) {
    this.url = url;
    this.#admin = admin;
    this.#categoryId = categoryId;
  }

  async book(amount = 1299, title = `Book ${randomUUID().slice(0, 8)}`): Promise<string> {
    const res = await call(this.url, 'POST', '/api/products', {
      bearer: this.#admin,
      json: {
        title,
        authors: ['A. Writer'],
        isbn: isbn13(),
        description: 'A book for the cart tests.',
        price: eur(amount),
        ...(this.#categoryId ? { categoryId: this.#categoryId } : {}),
      },
    });
    assert.equal(res.status, 201, `catalogue refused a test book: ${JSON.stringify(res.body)}`);
    return (res.body as unknown as { id: string }).id;
  }

  async setPrice(id: string, amount: number): Promise<void> {
    const res = await call(this.url, 'PATCH', `/api/products/${id}`, { bearer: this.#admin, json: { price: eur(amount) } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  }

  async retire(id: string): Promise<void> {
    const res = await call(this.url, 'POST', `/api/products/${id}/retire`, { bearer: this.#admin });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  }
}

async function loadCatalogModule(): Promise<ServiceModule<never>> {
  const path = new URL('../../catalog/src/service.ts', import.meta.url);
  const mod = (await import(path.href)) as { default?: ServiceModule<never> };
  if (!mod.default) throw new Error('services/catalog/src/service.ts has no default export (the catalogue module)');
  return mod.default;
}

// ---------------------------------------------------------------------------------------------
// A running cart service with what the tests look at

type StoreKind = 'redis' | 'postgres';

interface CartHarness {
  url: string;
  db: TestDatabase;
  transport: EmbeddedTransport;
  service: RunningService;
  close(): Promise<void>;
}

async function startCart(store: StoreKind, identity: TestIdentity, catalogUrl: string, env: Record<string, string> = {}): Promise<CartHarness> {
  const db = await createTestDatabase(`cart_${store}`);
  const transport = new EmbeddedTransport();
  const service = await startService(cartModule, {
    env: {
      DATABASE_URL: db.url,
      PORT: '0',
      LOG_LEVEL: 'warn',
      IDENTITY_URL: identity.url,
      CATALOG_URL: catalogUrl,
      ...(store === 'redis' ? { REDIS_URL: redisUrl() } : {}),
      ...env,
    },
    transport,
  });
  return {
    url: service.url,
    db,
    transport,
    service,
    async close() {
      await service.close();
      await transport.close();
      await db.drop();
    },
  };
}

/** Delivers an event to the cart's consumer as the broker would; resolves once it was handled. */
async function deliver<D extends EventDefinition>(harness: CartHarness, def: D, payload: PayloadOf<D>, id = randomUUID()): Promise<void> {
  const envelope = createEnvelope(def, { aggregateId: (payload as { orderId: string }).orderId, payload, correlationId: 'cart-test', id });
  const message: OutboundMessage = {
    topic: topicOf(def),
    key: envelope.aggregateId,
    value: JSON.stringify(envelope),
    headers: { [messageHeaders.messageId]: envelope.id, [messageHeaders.eventType]: envelope.type, [messageHeaders.correlationId]: envelope.correlationId },
  };
  await harness.transport.publish([message]);
}

async function historyOf(db: TestDatabase, id: string) {
  const { rows } = await db.pool.query<{
    status: string;
    guest: boolean;
    user_id: string | null;
    merged_into: string | null;
    order_id: string | null;
    lines: Array<{ productId: string; quantity: number }>;
  }>('SELECT status, guest, user_id, merged_into, order_id, lines FROM carts WHERE id = $1', [id]);
  return rows[0];
}

// ---------------------------------------------------------------------------------------------

describe('cart service', () => {
  let identity: TestIdentity;
  let catalogDb: TestDatabase;
  let catalogService: RunningService;
  let catalogue: Catalogue;
  /** 51 books nobody changes: for the line limit. */
  let fillers: string[];

  before(async () => {
    identity = await startTestIdentity();
    catalogDb = await createTestDatabase('cart_catalog');
    const catalogModule = await loadCatalogModule();
    catalogService = await startService(catalogModule, {
      env: { DATABASE_URL: catalogDb.url, PORT: '0', LOG_LEVEL: 'warn', IDENTITY_URL: identity.url },
      transport: new EmbeddedTransport(),
    });
    const categories = await call(catalogService.url, 'GET', '/api/categories');
    const list = categories.body as unknown as { items?: Array<{ id: string }> } | Array<{ id: string }>;
    const first = Array.isArray(list) ? list[0] : list.items?.[0];
    catalogue = new Catalogue(catalogService.url, await identity.token(randomUUID(), { roles: ['admin'] }), first?.id);
    fillers = [];
    for (let i = 0; i < 51; i++) fillers.push(await catalogue.book(100 + i));
  });

  after(async () => {
    await catalogService?.close();
    await catalogDb?.drop();
    await identity?.close();
  });

  for (const store of ['redis', 'postgres'] as const) {
    describe(`with active carts in ${store === 'redis' ? 'Redis' : 'PostgreSQL'}`, () => {
      let cart: CartHarness;
      let shortLived: CartHarness;
      let redis: Redis | undefined;
      const available = store === 'postgres' || Boolean(redisUrl());

      before(async () => {
        if (!available) return;
        cart = await startCart(store, identity, catalogService.url);
        shortLived = await startCart(store, identity, catalogService.url, { CART_TTL_SECONDS: '2' });
        if (store === 'redis') redis = new Redis(redisUrl()!);
      });
      after(async () => {
        await cart?.close();
        await shortLived?.close();
        redis?.disconnect();
      });

      /** A test of this store; the Redis ones fail instead of skipping when CI requires Redis. */
      const it = (name: string, fn: () => Promise<void>) =>
        test(name, async (t) => {
          if (store === 'redis' && !skipUnless(t, redisUrl(), 'Redis')) return;
          await fn();
        });
      const reader = async () => {
        const userId = randomUUID();
        return { userId, token: await identity.token(userId) };
      };
      const api = (method: string, path: string, o?: CallOptions) => call(cart.url, method, path, o);

      it('adds, changes and removes books; totals are integer minor units', async () => {
        const { token } = await reader();
        const a = await catalogue.book(1299, 'The Hobbit');
        const b = await catalogue.book(850);

        const empty = await api('GET', '/api/cart', { bearer: token });
        assert.equal(empty.status, 200);
        assert.deepEqual({ ...empty.body }, { id: null, items: [], subtotal: eur(0), priceChanged: false, expiresAt: null });

        let res = await api('POST', '/api/cart/add', { bearer: token, json: { productId: a, quantity: 2 } });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.match(res.body.id ?? '', /^[0-9a-f-]{36}$/);
        assert.equal(res.body.cartToken, undefined, 'a reader’s cart has no guest token');
        assert.equal(res.headers.get('cache-control'), 'no-store');
        assert.deepEqual(lineOf(res.body, a), {
          productId: a,
          title: 'The Hobbit',
          quantity: 2,
          unitPrice: eur(1299),
          currentPrice: eur(1299),
          priceChanged: false,
          available: true,
          lineTotal: eur(2598),
        });
        const cartId = res.body.id;

        res = await api('POST', '/api/cart/add', { bearer: token, json: { productId: b, quantity: 1 } });
        res = await api('POST', '/api/cart/add', { bearer: token, json: { productId: a, quantity: 1 } });
        assert.equal(res.body.id, cartId, 'one active cart per reader');
        assert.equal(lineOf(res.body, a)?.quantity, 3, 'adding a book already there adds to its quantity');
        assert.deepEqual(res.body.subtotal, eur(3 * 1299 + 850));
        assert.deepEqual(
          res.body.items.map((i) => i.productId),
          [a, b],
          'lines in the order they were added',
        );
        assert.ok(Date.parse(res.body.expiresAt ?? '') > Date.now() + 1700_000);

        res = await api('PATCH', `/api/cart/items/${b}`, { bearer: token, json: { quantity: 4 } });
        assert.equal(res.status, 200);
        assert.deepEqual(lineOf(res.body, b)?.lineTotal, eur(3400));
        assert.deepEqual(res.body.subtotal, eur(3 * 1299 + 3400));

        res = await api('DELETE', `/api/cart/items/${a}`, { bearer: token });
        assert.equal(res.status, 200);
        assert.deepEqual(
          res.body.items.map((i) => i.productId),
          [b],
        );
        assert.deepEqual(res.body.subtotal, eur(3400));

        assertProblem(await api('DELETE', `/api/cart/items/${a}`, { bearer: token }), 404, a);
        assertProblem(await api('PATCH', `/api/cart/items/${a}`, { bearer: token, json: { quantity: 1 } }), 404, a);

        const again = await api('GET', '/api/cart', { bearer: token });
        assert.deepEqual(again.body.items.length, 1);
        assert.equal(again.body.id, cartId);
        assert.equal((await historyOf(cart.db, cartId!))?.status, 'active');
      });

      it('refuses invalid quantities with a 400 naming quantity', async () => {
        const { token } = await reader();
        const a = fillers[0]!;
        for (const quantity of [0, -1, 100, 1.5, '2', null, 1e20, true]) {
          assertProblem(await api('POST', '/api/cart/add', { bearer: token, json: { productId: a, quantity } }), 400, 'body/quantity');
        }
        assertProblem(await api('POST', '/api/cart/add', { bearer: token, json: { productId: a } }), 400, 'body/quantity');
        await api('POST', '/api/cart/add', { bearer: token, json: { productId: a, quantity: 1 } });
        for (const quantity of [0, -1, 100, 1.5, '2', null]) {
          assertProblem(await api('PATCH', `/api/cart/items/${a}`, { bearer: token, json: { quantity } }), 400, 'body/quantity');
        }
        const res = await api('GET', '/api/cart', { bearer: token });
        assert.equal(lineOf(res.body, a)?.quantity, 1, 'nothing changed');
      });

      it('an unknown book is 404 and a retired one 422, both naming productId; a book retired later shows as unavailable', async () => {
        const { token } = await reader();
        const unknown = randomUUID();
        const notFound = await api('POST', '/api/cart/add', { bearer: token, json: { productId: unknown, quantity: 1 } });
        assertProblem(notFound, 404, unknown);
        assert.equal(notFound.body.productId, unknown);
        assert.match(notFound.body.detail ?? '', /productId/);

        const retired = await catalogue.book(999);
        await catalogue.retire(retired);
        const refused = await api('POST', '/api/cart/add', { bearer: token, json: { productId: retired, quantity: 1 } });
        assertProblem(refused, 422, retired);
        assert.equal(refused.body.productId, retired);
        assert.equal((await api('GET', '/api/cart', { bearer: token })).body.id, null, 'a refused add creates no cart');

        const later = await catalogue.book(999);
        await api('POST', '/api/cart/add', { bearer: token, json: { productId: later, quantity: 1 } });
        await catalogue.retire(later);
        const res = await api('GET', '/api/cart', { bearer: token });
        assert.equal(lineOf(res.body, later)?.available, false);
        assert.equal(lineOf(res.body, later)?.quantity, 1, 'the line stays, marked unavailable');
        assertProblem(await api('POST', '/api/cart/add', { bearer: token, json: { productId: later, quantity: 1 } }), 422, later);
      });

      it('caps a line at 99 copies and a cart at 50 different books', async () => {
        const { token } = await reader();
        const [first, ...rest] = fillers;
        let res = await api('POST', '/api/cart/add', { bearer: token, json: { productId: first, quantity: 98 } });
        assertProblem(await api('POST', '/api/cart/add', { bearer: token, json: { productId: first, quantity: 2 } }), 422, /quantity/);
        res = await api('POST', '/api/cart/add', { bearer: token, json: { productId: first, quantity: 1 } });
        assert.equal(lineOf(res.body, first!)?.quantity, 99);
        for (const id of rest.slice(0, 49)) {
          res = await api('POST', '/api/cart/add', { bearer: token, json: { productId: id, quantity: 1 } });
          assert.equal(res.status, 200, JSON.stringify(res.body));
        }
        assert.equal(res.body.items.length, 50);
        const fiftyFirst = rest[49]!;
        assertProblem(await api('POST', '/api/cart/add', { bearer: token, json: { productId: fiftyFirst, quantity: 1 } }), 422, fiftyFirst);
        res = await api('GET', '/api/cart', { bearer: token });
        assert.equal(res.body.items.length, 50);
        assert.equal(
          res.body.subtotal.amount,
          res.body.items.reduce((s, i) => s + i.quantity * i.unitPrice.amount, 0),
        );
      });

      it('concurrent adds to one cart lose nothing', async () => {
        const { token } = await reader();
        const a = await catalogue.book(500);
        const b = await catalogue.book(700);
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => api('POST', '/api/cart/add', { bearer: token, json: { productId: i % 2 ? a : b, quantity: 1 } })),
        );
        for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
        const res = await api('GET', '/api/cart', { bearer: token });
        assert.equal(lineOf(res.body, a)?.quantity, 5);
        assert.equal(lineOf(res.body, b)?.quantity, 5);
        assert.equal(new Set(results.map((r) => r.body.id)).size, 1, 'one cart, even when the first adds race');
      });

      it('a guest cart is reached only with its token, which is stored only as a hash', async () => {
        const a = await catalogue.book(1500);
        const guest = await api('POST', '/api/cart/add', { json: { productId: a, quantity: 2 } });
        assert.equal(guest.status, 200);
        const token = guest.body.cartToken!;
        assert.match(token, /^[A-Za-z0-9_-]{43}$/, '256 random bits, base64url');
        assert.equal(guest.headers.get('x-cart-token'), token);

        const again = await api('GET', '/api/cart', { cartToken: token });
        assert.equal(again.body.id, guest.body.id);
        assert.equal(again.body.cartToken, token);
        assert.equal(lineOf(again.body, a)?.quantity, 2);

        // Without the token, with another guest's, or with a made-up one: never this cart.
        assert.deepEqual((await api('GET', '/api/cart')).body.items, []);
        const other = await api('POST', '/api/cart/add', { json: { productId: a, quantity: 1 } });
        assert.notEqual(other.body.cartToken, token);
        assert.notEqual(other.body.id, guest.body.id);
        assert.equal(lineOf((await api('GET', '/api/cart', { cartToken: other.body.cartToken })).body, a)?.quantity, 1);
        const madeUp = 'A'.repeat(43);
        const guessed = await api('GET', '/api/cart', { cartToken: madeUp });
        assert.equal(guessed.body.id, null);
        assert.equal(guessed.body.cartToken, undefined);
        assertProblem(await api('PATCH', `/api/cart/items/${a}`, { cartToken: madeUp, json: { quantity: 5 } }), 404);
        assertProblem(await api('DELETE', `/api/cart/items/${a}`, { cartToken: madeUp }), 404);
        assertProblem(await api('DELETE', `/api/cart/items/${a}`), 404);
        // Adding with an unknown token starts a new cart under a token the service mints, not the one sent.
        const started = await api('POST', '/api/cart/add', { cartToken: madeUp, json: { productId: a, quantity: 1 } });
        assert.notEqual(started.body.cartToken, madeUp);
        assert.equal(lineOf((await api('GET', '/api/cart', { cartToken: token })).body, a)?.quantity, 2, 'the first guest’s cart is untouched');

        // A signed-in reader's cart is theirs whatever X-Cart-Token they send.
        const { token: bearer } = await reader();
        const signedIn = await api('GET', '/api/cart', { bearer, cartToken: token });
        assert.equal(signedIn.body.id, null);
        assert.equal(signedIn.body.cartToken, undefined);

        // The guest changes their own cart with the token.
        const changed = await api('PATCH', `/api/cart/items/${a}`, { cartToken: token, json: { quantity: 3 } });
        assert.equal(lineOf(changed.body, a)?.quantity, 3);

        // Only the hash of the token is a key.
        const { rows } = await cart.db.pool.query('SELECT owner_key FROM carts WHERE id = $1', [guest.body.id]);
        assert.equal(rows[0]?.owner_key, `g:${hashOf(token)}`);
        assert.equal((await cart.db.pool.query("SELECT 1 FROM carts WHERE owner_key LIKE '%' || $1 || '%'", [token])).rowCount, 0);
        if (redis) {
          assert.equal(await redis.exists(`cart:g:${hashOf(token)}`), 1);
          assert.deepEqual(await redis.keys(`*${token}*`), []);
        }
      });

      it('merges a guest cart into the account at sign-in without losing or doubling books', async () => {
        const both = await catalogue.book(1000);
        const guestOnly = await catalogue.book(500);
        const capped = await catalogue.book(300);
        const guest = await api('POST', '/api/cart/add', { json: { productId: both, quantity: 2 } });
        const guestToken = guest.body.cartToken!;
        await api('POST', '/api/cart/add', { cartToken: guestToken, json: { productId: guestOnly, quantity: 3 } });
        await api('POST', '/api/cart/add', { cartToken: guestToken, json: { productId: capped, quantity: 60 } });
        // Prices move after the guest added: the account's recorded price wins for a book both have,
        // the guest's recorded price stays for a book only the guest had.
        await catalogue.setPrice(both, 1100);
        await catalogue.setPrice(guestOnly, 550);

        const { token } = await reader();
        await api('POST', '/api/cart/add', { bearer: token, json: { productId: both, quantity: 1 } });
        const own = await api('POST', '/api/cart/add', { bearer: token, json: { productId: capped, quantity: 50 } });

        const merged = await api('POST', '/api/cart/merge', { bearer: token, cartToken: guestToken });
        assert.equal(merged.status, 200, JSON.stringify(merged.body));
        assert.equal(merged.body.id, own.body.id, 'the account’s cart receives the lines');
        assert.equal(merged.body.cartToken, undefined);
        assert.deepEqual(merged.body.merged, { added: 1, combined: 2, capped: [capped], skipped: [] });
        assert.equal(lineOf(merged.body, both)?.quantity, 3);
        assert.deepEqual(lineOf(merged.body, both)?.unitPrice, eur(1100), 'the account’s recorded price');
        assert.equal(lineOf(merged.body, guestOnly)?.quantity, 3);
        assert.deepEqual(lineOf(merged.body, guestOnly)?.unitPrice, eur(500), 'the guest’s recorded price');
        assert.deepEqual(lineOf(merged.body, guestOnly)?.currentPrice, eur(550));
        assert.equal(merged.body.priceChanged, true);
        assert.equal(lineOf(merged.body, capped)?.quantity, 99);
        assert.deepEqual(merged.body.subtotal, eur(3 * 1100 + 3 * 500 + 99 * 300));

        // The guest cart is closed (history: converted into the account's cart) and merging again is a no-op.
        assert.equal((await api('GET', '/api/cart', { cartToken: guestToken })).body.id, null);
        const history = await historyOf(cart.db, guest.body.id!);
        assert.equal(history?.status, 'converted');
        assert.equal(history?.merged_into, own.body.id);
        assert.equal(history?.guest, true);
        assert.deepEqual(
          history?.lines.map((l) => [l.productId, l.quantity]).sort(),
          [
            [both, 2],
            [guestOnly, 3],
            [capped, 60],
          ].sort(),
        );
        const again = await api('POST', '/api/cart/merge', { bearer: token, cartToken: guestToken });
        assert.equal(again.status, 200);
        assert.deepEqual(again.body.merged, { added: 0, combined: 0, capped: [], skipped: [] });
        assert.deepEqual(
          again.body.items.map((i) => [i.productId, i.quantity]),
          merged.body.items.map((i) => [i.productId, i.quantity]),
        );

        // A reader without a cart of their own gets the guest's lines in a new cart.
        const g2 = await api('POST', '/api/cart/add', { json: { productId: guestOnly, quantity: 1 } });
        const { token: newcomer } = await reader();
        const fresh = await api('POST', '/api/cart/merge', { bearer: newcomer, cartToken: g2.body.cartToken });
        assert.deepEqual(fresh.body.merged, { added: 1, combined: 0, capped: [], skipped: [] });
        assert.notEqual(fresh.body.id, g2.body.id);
        assert.equal(lineOf(fresh.body, guestOnly)?.quantity, 1);

        // A token without a cart merges nothing.
        const { token: nobody } = await reader();
        const none = await api('POST', '/api/cart/merge', { bearer: nobody, cartToken: 'B'.repeat(43) });
        assert.equal(none.status, 200);
        assert.equal(none.body.id, null);
        assert.deepEqual(none.body.merged, { added: 0, combined: 0, capped: [], skipped: [] });
      });

      it('concurrent merges of one guest cart add its lines exactly once', async () => {
        const shared = await catalogue.book(1000);
        const guestOnly = await catalogue.book(400);
        for (let round = 0; round < 3; round++) {
          const guest = await api('POST', '/api/cart/add', { json: { productId: shared, quantity: 2 } });
          await api('POST', '/api/cart/add', { cartToken: guest.body.cartToken, json: { productId: guestOnly, quantity: 1 } });
          const { token } = await reader();
          if (round > 0) await api('POST', '/api/cart/add', { bearer: token, json: { productId: shared, quantity: 1 } });
          const results = await Promise.all(
            Array.from({ length: 5 }, () => api('POST', '/api/cart/merge', { bearer: token, cartToken: guest.body.cartToken })),
          );
          for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
          const effective = results.filter((r) => (r.body.merged?.added ?? 0) + (r.body.merged?.combined ?? 0) > 0);
          assert.equal(effective.length, 1, 'exactly one of the racing merges moved the lines');
          const final = await api('GET', '/api/cart', { bearer: token });
          assert.equal(lineOf(final.body, shared)?.quantity, round > 0 ? 3 : 2);
          assert.equal(lineOf(final.body, guestOnly)?.quantity, 1);
        }
      });

      it('merge needs a signed-in reader and a well-formed cart token', async () => {
        const guest = await api('POST', '/api/cart/add', { json: { productId: fillers[1], quantity: 1 } });
        const res = await api('POST', '/api/cart/merge', { cartToken: guest.body.cartToken });
        assertProblem(res, 401);
        assert.match(res.headers.get('www-authenticate') ?? '', /Bearer/);
        assertProblem(await api('POST', '/api/cart/merge'), 401);
        const { token } = await reader();
        assertProblem(await api('POST', '/api/cart/merge', { bearer: token }), 400, 'headers/x-cart-token');
        assertProblem(await api('POST', '/api/cart/merge', { bearer: token, cartToken: 'short' }), 400, 'headers/x-cart-token');
        assert.equal(lineOf((await api('GET', '/api/cart', { cartToken: guest.body.cartToken })).body, fillers[1]!)?.quantity, 1, 'the guest cart is intact');
      });

      it('a changed catalogue price shows both prices until the reader accepts it', async () => {
        const { token } = await reader();
        const a = await catalogue.book(1000);
        const b = await catalogue.book(2000);
        await api('POST', '/api/cart/add', { bearer: token, json: { productId: a, quantity: 2 } });
        await api('POST', '/api/cart/add', { bearer: token, json: { productId: b, quantity: 1 } });
        await catalogue.setPrice(a, 1250);

        let res = await api('GET', '/api/cart', { bearer: token });
        assert.equal(res.body.priceChanged, true);
        assert.deepEqual(lineOf(res.body, a), {
          ...lineOf(res.body, a),
          unitPrice: eur(1000),
          currentPrice: eur(1250),
          priceChanged: true,
          lineTotal: eur(2000),
        });
        assert.equal(lineOf(res.body, b)?.priceChanged, false);
        assert.deepEqual(res.body.subtotal, eur(4000), 'the recorded prices, never silently the new one');

        // Adding more copies keeps the recorded price too.
        res = await api('POST', '/api/cart/add', { bearer: token, json: { productId: a, quantity: 1 } });
        assert.deepEqual(lineOf(res.body, a)?.unitPrice, eur(1000));
        assert.equal(res.body.priceChanged, true);

        res = await api('POST', '/api/cart/accept-prices', { bearer: token });
        assert.equal(res.status, 200);
        assert.equal(res.body.priceChanged, false);
        assert.deepEqual(lineOf(res.body, a), {
          ...lineOf(res.body, a),
          unitPrice: eur(1250),
          currentPrice: eur(1250),
          priceChanged: false,
          lineTotal: eur(3750),
        });
        assert.deepEqual(res.body.subtotal, eur(3750 + 2000));
        assert.equal((await api('GET', '/api/cart', { bearer: token })).body.priceChanged, false);

        // A price drop is a change too.
        await catalogue.setPrice(b, 1800);
        res = await api('GET', '/api/cart', { bearer: token });
        assert.deepEqual([lineOf(res.body, b)?.unitPrice, lineOf(res.body, b)?.currentPrice, res.body.priceChanged], [eur(2000), eur(1800), true]);

        // Without a cart, accepting prices is an empty cart.
        const { token: other } = await reader();
        assert.equal((await api('POST', '/api/cart/accept-prices', { bearer: other })).body.id, null);
      });

      it('OrderPaid clears the cart (history converted) once; OrderCancelled keeps it', async () => {
        const { userId, token } = await reader();
        const a = await catalogue.book(1000);
        const b = await catalogue.book(600);
        const before = await api('POST', '/api/cart/add', { bearer: token, json: { productId: a, quantity: 2 } });
        const paidId = randomUUID();
        const paid = { orderId: randomUUID(), userId, paymentId: 'pay_1' };

        await deliver(cart, OrderPaid, paid, paidId);
        const after = await api('GET', '/api/cart', { bearer: token });
        assert.equal(after.body.id, null, 'the paid cart is gone');
        const history = await historyOf(cart.db, before.body.id!);
        assert.equal(history?.status, 'converted');
        assert.equal(history?.order_id, paid.orderId);
        assert.deepEqual(
          history?.lines.map((l) => [l.productId, l.quantity]),
          [[a, 2]],
        );

        // The reader fills a new cart; the same OrderPaid delivered again changes nothing.
        const next = await api('POST', '/api/cart/add', { bearer: token, json: { productId: b, quantity: 1 } });
        assert.notEqual(next.body.id, before.body.id);
        await deliver(cart, OrderPaid, paid, paidId);
        assert.equal(lineOf((await api('GET', '/api/cart', { bearer: token })).body, b)?.quantity, 1, 'a duplicate delivery is harmless');
        assert.equal((await historyOf(cart.db, next.body.id!))?.status, 'active');

        await deliver(cart, OrderCancelled, { orderId: randomUUID(), userId, reason: 'payment window closed' });
        const kept = await api('GET', '/api/cart', { bearer: token });
        assert.equal(kept.body.id, next.body.id);
        assert.equal(lineOf(kept.body, b)?.quantity, 1, 'a cancelled order keeps the cart for a retry');

        // Another reader's order never touches this cart; an order of a reader without a cart is fine.
        await deliver(cart, OrderPaid, { orderId: randomUUID(), userId: randomUUID(), paymentId: 'pay_2' });
        assert.equal((await api('GET', '/api/cart', { bearer: token })).body.items.length, 1);
        const { rows } = await cart.db.pool.query('SELECT count(*)::int AS n FROM inbox');
        assert.ok(rows[0].n >= 3);
      });

      it('a reader only ever reaches their own cart', async () => {
        const alice = await reader();
        const bob = await reader();
        const a = await catalogue.book(1000);
        const b = await catalogue.book(1000);
        const aliceCart = await api('POST', '/api/cart/add', { bearer: alice.token, json: { productId: a, quantity: 2 } });

        const bobView = await api('GET', '/api/cart', { bearer: bob.token });
        assert.equal(bobView.body.id, null);
        assertProblem(await api('PATCH', `/api/cart/items/${a}`, { bearer: bob.token, json: { quantity: 9 } }), 404);
        assertProblem(await api('DELETE', `/api/cart/items/${a}`, { bearer: bob.token }), 404);
        const bobCart = await api('POST', '/api/cart/add', { bearer: bob.token, json: { productId: b, quantity: 1 } });
        assert.notEqual(bobCart.body.id, aliceCart.body.id);
        assert.deepEqual(
          bobCart.body.items.map((i) => i.productId),
          [b],
        );
        await api('POST', '/api/cart/accept-prices', { bearer: bob.token });
        // An admin is a reader like any other here: their own cart only.
        const admin = await identity.token(randomUUID(), { roles: ['admin'] });
        assert.equal((await api('GET', '/api/cart', { bearer: admin })).body.id, null);

        const aliceNow = await api('GET', '/api/cart', { bearer: alice.token });
        assert.deepEqual(
          aliceNow.body.items.map((i) => [i.productId, i.quantity]),
          [[a, 2]],
        );
      });

      it('a tampered, expired, foreign or alg:none token is a 401 on every endpoint', async () => {
        const userId = randomUUID();
        const valid = await identity.token(userId);
        const [h, p, s] = valid.split('.') as [string, string, string];
        const flipped = s.slice(0, 10) + (s[10] === 'A' ? 'B' : 'A') + s.slice(11);
        const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
        const claims = { sub: userId, iss: identity.issuer, aud: identity.audience, exp: Math.floor(Date.now() / 1000) + 600, roles: ['customer'] };
        const foreignIdentity = await startTestIdentity();
        const bad: Record<string, string> = {
          tampered: `${h}.${p}.${flipped}`,
          'other claims, same signature': `${h}.${b64({ ...claims, sub: randomUUID() })}.${s}`,
          expired: await identity.token(userId, { expiresIn: Math.floor(Date.now() / 1000) - 120 }),
          'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`,
          'another issuer’s key': await foreignIdentity.token(userId),
          garbage: 'not-a-jwt',
        };
        await foreignIdentity.close();
        const product = fillers[2]!;
        const endpoints: Array<[string, string, CallOptions]> = [
          ['GET', '/api/cart', {}],
          ['POST', '/api/cart/add', { json: { productId: product, quantity: 1 } }],
          ['PATCH', `/api/cart/items/${product}`, { json: { quantity: 1 } }],
          ['DELETE', `/api/cart/items/${product}`, {}],
          ['POST', '/api/cart/accept-prices', {}],
          ['POST', '/api/cart/merge', { cartToken: 'C'.repeat(43) }],
        ];
        for (const [what, token] of Object.entries(bad)) {
          for (const [method, path, o] of endpoints) {
            const res = await api(method, path, { ...o, bearer: token });
            assert.equal(res.status, 401, `${what} on ${method} ${path}: ${JSON.stringify(res.body)}`);
            assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
          }
        }
        // A bad token is refused even when the body is bad too, and another scheme is refused as well.
        assertProblem(await api('POST', '/api/cart/add', { bearer: bad.tampered, json: { quantity: 'x' } }), 401);
        assertProblem(await api('GET', '/api/cart', { headers: { authorization: 'Basic dXNlcjpwYXNz' } }), 401);
        // Nothing was created for the user along the way.
        assert.equal((await api('GET', '/api/cart', { bearer: valid })).body.id, null);
      });

      it('bad input to every endpoint is a 4xx problem naming the field, never a 500', async () => {
        const { token } = await reader();
        const a = fillers[3]!;
        await api('POST', '/api/cart/add', { bearer: token, json: { productId: a, quantity: 1 } });
        const cases: Array<[string, string, CallOptions, number, string?]> = [
          // add
          ['POST', '/api/cart/add', { json: { productId: 'not-a-uuid', quantity: 1 } }, 400, 'body/productId'],
          ['POST', '/api/cart/add', { json: { productId: 42, quantity: 1 } }, 400, 'body/productId'],
          ['POST', '/api/cart/add', { json: { productId: 'x'.repeat(10_000), quantity: 1 } }, 400, 'body/productId'],
          ['POST', '/api/cart/add', { json: { productId: a, quantity: 1, unitPrice: { amount: 1, currency: 'EUR' } } }, 400, 'body/unitPrice'],
          ['POST', '/api/cart/add', { json: { quantity: 1 } }, 400, 'body/productId'],
          ['POST', '/api/cart/add', { json: [{ productId: a, quantity: 1 }] }, 400],
          ['POST', '/api/cart/add', { json: 'add' }, 400],
          ['POST', '/api/cart/add', { raw: '{"productId": ' }, 400],
          ['POST', '/api/cart/add', {}, 400],
          ['POST', '/api/cart/add', { raw: 'productId=1', contentType: 'text/plain' }, 415],
          ['POST', '/api/cart/add', { raw: JSON.stringify({ productId: a, quantity: 1, pad: 'x'.repeat(70 * 1024) }) }, 413],
          // set quantity
          ['PATCH', '/api/cart/items/not-a-uuid', { json: { quantity: 1 } }, 400, 'params/productId'],
          ['PATCH', `/api/cart/items/${a}`, { json: { quantity: 1, productId: a } }, 400, 'body/productId'],
          ['PATCH', `/api/cart/items/${a}`, { json: {} }, 400, 'body/quantity'],
          ['PATCH', `/api/cart/items/${a}`, { raw: '[' }, 400],
          // remove
          ['DELETE', '/api/cart/items/1234', {}, 400, 'params/productId'],
          ['DELETE', `/api/cart/items/${a}`, { json: { quantity: 1 } }, 400, 'body'],
          // accept prices
          ['POST', '/api/cart/accept-prices', { json: { prices: [] } }, 400, 'body'],
          ['POST', '/api/cart/accept-prices', { raw: '{{' }, 400],
          // read and token header
          ['GET', '/api/cart', { cartToken: 'x'.repeat(5000) }, 400, 'headers/x-cart-token'],
          ['GET', '/api/cart', { cartToken: `${'a'.repeat(42)}!` }, 400, 'headers/x-cart-token'],
          ['POST', '/api/cart/add', { cartToken: 'short', json: { productId: a, quantity: 1 } }, 400, 'headers/x-cart-token'],
          // merge
          ['POST', '/api/cart/merge', { cartToken: 'D'.repeat(43), json: { anything: 1 } }, 400, 'body'],
          ['POST', '/api/cart/merge', { cartToken: 'x'.repeat(100) }, 400, 'headers/x-cart-token'],
        ];
        for (const [method, path, o, status, field] of cases) {
          const res = await api(method, path, { bearer: token, ...o });
          assert.ok(res.status < 500, `${method} ${path} ${JSON.stringify(o).slice(0, 100)} answered ${res.status}`);
          assertProblem(res, status, field);
        }
        // Over-long or badly encoded path segments are refused by Fastify's router before any hook runs; the
        // platform's server answers those with Fastify's own JSON body instead of a problem (reported), still a 4xx.
        for (const path of [`/api/cart/items/${'9'.repeat(5000)}`, '/api/cart/items/%E0%A4%A']) {
          const res = await api('PATCH', path, { bearer: token, json: { quantity: 1 } });
          assert.ok(res.status >= 400 && res.status < 500, `PATCH ${path.slice(0, 40)}… answered ${res.status}`);
        }
        // Guests get the same answers.
        assertProblem(await api('POST', '/api/cart/add', { json: { productId: a, quantity: 1, price: 1 } }), 400, 'body/price');
        const res = await api('GET', '/api/cart', { bearer: token });
        assert.deepEqual(
          res.body.items.map((i) => [i.productId, i.quantity]),
          [[a, 1]],
          'nothing changed',
        );
      });

      it('a cart expires when unused for CART_TTL_SECONDS, and its history becomes abandoned', async () => {
        const { userId, token } = await reader();
        const a = fillers[4]!;
        const added = await call(shortLived.url, 'POST', '/api/cart/add', { bearer: token, json: { productId: a, quantity: 2 } });
        assert.equal(added.status, 200);
        assert.ok(Date.parse(added.body.expiresAt ?? '') <= Date.now() + 2_500);
        const guest = await call(shortLived.url, 'POST', '/api/cart/add', { json: { productId: a, quantity: 1 } });
        await sleep(3_200);
        const gone = await call(shortLived.url, 'GET', '/api/cart', { bearer: token });
        assert.equal(gone.status, 200);
        assert.equal(gone.body.id, null, 'the cart is gone after its lifetime');
        assert.equal((await call(shortLived.url, 'GET', '/api/cart', { cartToken: guest.body.cartToken })).body.id, null);
        const history = await eventually(
          async () => {
            const h = await historyOf(shortLived.db, added.body.id!);
            return h?.status === 'abandoned' ? h : undefined;
          },
          { timeoutMs: 5_000, what: 'the expired cart to be marked abandoned' },
        );
        assert.deepEqual(
          history.lines.map((l) => [l.productId, l.quantity]),
          [[a, 2]],
          'the abandoned cart’s lines are kept in its history',
        );
        await eventually(async () => (await historyOf(shortLived.db, guest.body.id!))?.status === 'abandoned', { timeoutMs: 5_000 });
        // The next add starts a new cart.
        const next = await call(shortLived.url, 'POST', '/api/cart/add', { bearer: token, json: { productId: a, quantity: 1 } });
        assert.notEqual(next.body.id, added.body.id);
        assert.equal(lineOf(next.body, a)?.quantity, 1);
        if (redis) {
          const ttl = await redis.ttl(`cart:u:${userId}`);
          assert.ok(ttl > 0 && ttl <= 2, `Redis expires the cart in ${ttl} s`);
        }
      });

      it('reading or changing a cart keeps it alive (sliding expiry)', async () => {
        const { token } = await reader();
        const a = fillers[5]!;
        const added = await call(shortLived.url, 'POST', '/api/cart/add', { bearer: token, json: { productId: a, quantity: 1 } });
        const guest = await call(shortLived.url, 'POST', '/api/cart/add', { json: { productId: a, quantity: 1 } });
        // Touched every 1.2 s for 4.8 s: well past the 2 s lifetime of an untouched cart.
        for (let i = 0; i < 4; i++) {
          await sleep(1_200);
          const seen = await call(shortLived.url, 'GET', '/api/cart', { bearer: token });
          assert.equal(seen.body.id, added.body.id, `alive after ${(i + 1) * 1.2} s`);
          if (i === 1) await call(shortLived.url, 'PATCH', `/api/cart/items/${a}`, { cartToken: guest.body.cartToken, json: { quantity: 2 } });
          else await call(shortLived.url, 'GET', '/api/cart', { cartToken: guest.body.cartToken });
        }
        // The sweep ran meanwhile (every 0.5 s here) and left the live carts alone.
        assert.equal((await historyOf(shortLived.db, added.body.id!))?.status, 'active');
        assert.equal((await historyOf(shortLived.db, guest.body.id!))?.status, 'active');
        assert.equal(lineOf((await call(shortLived.url, 'GET', '/api/cart', { cartToken: guest.body.cartToken })).body, a)?.quantity, 2);
      });
    });
  }

  describe('dependencies, configuration and documentation', () => {
    test('a catalogue that cannot be reached is a 503 problem, and an empty cart needs no catalogue', async () => {
      const harness = await startCart('postgres', identity, 'http://127.0.0.1:1', { LOG_LEVEL: 'error' });
      try {
        const token = await identity.token(randomUUID());
        const empty = await call(harness.url, 'GET', '/api/cart', { bearer: token });
        assert.equal(empty.status, 200);
        const res = await call(harness.url, 'POST', '/api/cart/add', { bearer: token, json: { productId: fillers[0], quantity: 1 } });
        assertProblem(res, 503);
        assert.match(res.body.detail ?? '', /catalog/);
      } finally {
        await harness.close();
      }
    });

    test('start-up names a bad or unreachable variable', async (t) => {
      const db = await createTestDatabase('cart_config');
      t.after(() => db.drop());
      const base = { DATABASE_URL: db.url, PORT: '0', LOG_LEVEL: 'silent', IDENTITY_URL: identity.url, CATALOG_URL: catalogService.url };
      const start = (env: Record<string, string>) => startService(cartModule, { env: { ...base, ...env }, transport: new EmbeddedTransport() });
      await assert.rejects(start({ REDIS_URL: 'redis://127.0.0.1:1' }), /REDIS_URL/);
      await assert.rejects(start({ REDIS_URL: 'http://127.0.0.1:6379' }), /REDIS_URL/);
      await assert.rejects(start({ CART_TTL_SECONDS: '0' }), /CART_TTL_SECONDS/);
      await assert.rejects(start({ CART_TTL_SECONDS: 'soon' }), /CART_TTL_SECONDS/);
      await assert.rejects(start({ CATALOG_URL: '' }), /CATALOG_URL/);
    });

    test('the OpenAPI document describes every cart route, its tokens and answers', async () => {
      const harness = await startCart('postgres', identity, catalogService.url);
      try {
        const doc = (await (await fetch(`${harness.url}/openapi.json`)).json()) as {
          paths: Record<
            string,
            Record<
              string,
              {
                tags?: string[];
                summary?: string;
                security?: unknown;
                parameters?: Array<{ in: string; name: string; required?: boolean }>;
                responses: Record<string, unknown>;
              }
            >
          >;
        };
        const routes: Array<[string, string]> = [
          ['/api/cart', 'get'],
          ['/api/cart/add', 'post'],
          ['/api/cart/items/{productId}', 'patch'],
          ['/api/cart/items/{productId}', 'delete'],
          ['/api/cart/accept-prices', 'post'],
          ['/api/cart/merge', 'post'],
        ];
        for (const [path, method] of routes) {
          const op = doc.paths[path]?.[method];
          assert.ok(op, `${method} ${path} is documented`);
          assert.deepEqual(op.tags, ['cart']);
          assert.ok(op.summary);
          assert.ok(op.responses['200'] && op.responses['400'] && op.responses['401'], `${method} ${path} documents its answers`);
          const header = op.parameters?.find((p) => p.in === 'header' && p.name === 'x-cart-token');
          assert.ok(header, `${method} ${path} documents X-Cart-Token`);
          if (path === '/api/cart/merge') {
            assert.deepEqual(op.security, [{ bearerAuth: [] }]);
            assert.equal(header.required, true);
          } else {
            assert.deepEqual(op.security, [{ bearerAuth: [] }, {}], 'a token is accepted, not required');
          }
        }
      } finally {
        await harness.close();
      }
    });
  });
});
