/**
 * The order service's test bench, all real: catalog, cart, shipping, inventory, payment and order, each on a
 * fresh PostgreSQL database of its own, on ONE in-process bus; the payment gateway simulator (webhooks POSTed
 * to the payment service over HTTP); a real token issuer. Books are added through the catalogue's admin API
 * and stocked through the inventory's. Test code only.
 */
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { Pool } from '@folio/platform/db';
import { EmbeddedTransport } from '@folio/platform/messaging/embedded-transport';
import { type RunningService, type ServiceModule, startService } from '@folio/platform/service';
import { createTestDatabase, eventually, type TestDatabase } from '@folio/platform/testing';
import { startTestIdentity, type TestIdentity } from '@folio/platform/testing-identity';
import { type Simulator, startSimulator } from '../../../payment-gateway-simulator/src/simulator.ts';
import cartModule from '../../cart/src/service.ts';
import catalogModule from '../../catalog/src/service.ts';
import inventoryModule from '../../inventory/src/service.ts';
import paymentModule from '../../payment/src/service.ts';
import shippingModule from '../../shipping/src/service.ts';
import orderModule from './service.ts';

// biome-ignore lint/suspicious/noExplicitAny: answers are read loosely in tests; each assertion says what it expects.
export type Json = any;

export interface Answer {
  status: number;
  type: string;
  headers: Headers;
  body: Json;
}

export const berlin = { name: 'Ada Reader', line1: 'Unter den Linden 1', city: 'Berlin', postalCode: '10117', country: 'DE' };
export const cards = { ok: '4242 4242 4242 4242', declined: '4000 0000 0000 0002' };
const WEBHOOK_SECRET = 'whsec_order_tests';
const LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'error';

type Module = ServiceModule<never>;
const NAMES = ['catalog', 'shipping', 'inventory', 'cart', 'payment', 'order'] as const;
type Name = (typeof NAMES)[number];
const MODULES: Record<Name, Module> = {
  catalog: catalogModule as unknown as Module,
  shipping: shippingModule as unknown as Module,
  inventory: inventoryModule as unknown as Module,
  cart: cartModule as unknown as Module,
  payment: paymentModule as unknown as Module,
  order: orderModule as unknown as Module,
};

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function call(
  url: string,
  method: string,
  opts: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined || opts.raw !== undefined) headers['content-type'] ??= 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(url, {
    method,
    redirect: 'manual',
    headers,
    ...(opts.raw !== undefined ? { body: opts.raw } : opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  let body: Json = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {}
  return { status: res.status, type: res.headers.get('content-type') ?? '', headers: res.headers, body };
}

/**
 * What the gateway's hosted page does when a reader submits it, then the browser following the redirect back to
 * Folio (unless `returnToFolio` is false: the reader closed the tab, so only the gateway's callback reports it).
 */
export async function pay(paymentUrl: string, card = cards.ok, opts: { returnToFolio?: boolean } = {}): Promise<{ status: number; html: string }> {
  const year = String((new Date().getUTCFullYear() + 1) % 100).padStart(2, '0');
  return submit(paymentUrl, { cardNumber: card, expiry: `12/${year}`, cvc: '123' }, opts.returnToFolio ?? true);
}

/** The Cancel button of the hosted page. */
export const cancelOnPage = (paymentUrl: string) => submit(paymentUrl, { action: 'cancel' }, true);

async function submit(paymentUrl: string, fields: Record<string, string>, follow: boolean): Promise<{ status: number; html: string }> {
  const res = await fetch(paymentUrl, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  const html = await res.text();
  const location = res.headers.get('location');
  if (follow && res.status === 303 && location) await fetch(location, { redirect: 'manual' }).catch(() => {});
  return { status: res.status, html };
}

export interface Reader {
  userId: string;
  token: string;
}

export interface Book {
  id: string;
  title: string;
  price: { amount: number; currency: string };
}

export class PurchaseStack {
  readonly identity: TestIdentity;
  readonly transport: EmbeddedTransport;
  readonly sim: Simulator;
  readonly dbs: Record<Name, TestDatabase>;
  readonly urls: Record<Name, string>;
  readonly services: Partial<Record<Name, RunningService>>;
  readonly #env: Record<Name, Record<string, string>>;
  adminToken = '';
  #categoryId = '';

  private constructor(parts: {
    identity: TestIdentity;
    transport: EmbeddedTransport;
    sim: Simulator;
    dbs: Record<Name, TestDatabase>;
    urls: Record<Name, string>;
    env: Record<Name, Record<string, string>>;
  }) {
    this.identity = parts.identity;
    this.transport = parts.transport;
    this.sim = parts.sim;
    this.dbs = parts.dbs;
    this.urls = parts.urls;
    this.#env = parts.env;
    this.services = {};
  }

  /** Starts everything; `env` adds variables per service (e.g. a short payment window for the order and payment services). */
  static async start(label: string, env: Partial<Record<Name, Record<string, string>>> = {}): Promise<PurchaseStack> {
    const identity = await startTestIdentity();
    const ports = Object.fromEntries(await Promise.all(NAMES.map(async (n) => [n, await freePort()]))) as Record<Name, number>;
    const urls = Object.fromEntries(NAMES.map((n) => [n, `http://127.0.0.1:${ports[n]}`])) as Record<Name, string>;
    const sim = await startSimulator({
      port: 0,
      webhookUrl: `${urls.payment}/api/payments/webhook`,
      webhookSecret: WEBHOOK_SECRET,
      webhookBaseDelayMs: 100,
      webhookMaxDelayMs: 1000,
      expirySweepMs: 200,
      minExpiresInSeconds: 1,
      logLevel: LOG_LEVEL,
    });
    const dbs = Object.fromEntries(await Promise.all(NAMES.map(async (n) => [n, await createTestDatabase(`${label}_${n}`)]))) as Record<Name, TestDatabase>;
    const common = {
      LOG_LEVEL,
      IDENTITY_URL: identity.url,
      CATALOG_URL: urls.catalog,
      CART_URL: urls.cart,
      SHIPPING_URL: urls.shipping,
      INVENTORY_URL: urls.inventory,
      PAYMENT_URL: urls.payment,
      ORDER_URL: urls.order,
    };
    const perService: Record<Name, Record<string, string>> = {
      catalog: {},
      shipping: {},
      inventory: { RESERVATION_SWEEP_INTERVAL_MS: '200' },
      cart: {},
      payment: {
        PAYMENT_GATEWAY_URL: sim.url,
        PAYMENT_GATEWAY_API_KEY: sim.apiKey,
        PAYMENT_WEBHOOK_SECRETS: WEBHOOK_SECRET,
        PUBLIC_URL: urls.payment,
        STOREFRONT_URL: 'http://storefront.test',
        PAYMENT_SWEEP_INTERVAL_MS: '200',
        PAYMENT_RECONCILE_AFTER_SECONDS: '2',
        GATEWAY_TIMEOUT_MS: '2000',
        GATEWAY_BREAKER_RESET_MS: '1000',
      },
      order: { SAGA_INTERVAL_MS: '100', WINDOW_SWEEP_INTERVAL_MS: '200' },
    };
    const stackEnv = Object.fromEntries(
      NAMES.map((n) => [n, { ...common, ...perService[n], ...env[n], DATABASE_URL: dbs[n].url, PORT: String(ports[n]) }]),
    ) as unknown as Record<Name, Record<string, string>>;
    const stack = new PurchaseStack({ identity, transport: new EmbeddedTransport(), sim, dbs, urls, env: stackEnv });
    for (const name of NAMES) await stack.startService(name);
    stack.adminToken = await identity.token(`admin-${randomUUID()}`, { roles: ['admin'] });
    const categories = await call(`${urls.catalog}/api/categories`, 'GET');
    stack.#categoryId = categories.body.items[0].id;
    return stack;
  }

  get orderDb(): Pool {
    return this.dbs.order.pool;
  }

  async startService(name: Name, env: Record<string, string> = {}): Promise<RunningService> {
    const running = await startService(MODULES[name], { env: { ...this.#env[name], ...env }, transport: this.transport });
    this.services[name] = running;
    return running;
  }

  async stopService(name: Name): Promise<void> {
    await this.services[name]?.close();
    delete this.services[name];
  }

  async close(): Promise<void> {
    for (const name of [...NAMES].reverse()) await this.stopService(name).catch(() => {});
    await this.sim.close();
    await this.transport.close();
    await this.identity.close();
    await Promise.all(Object.values(this.dbs).map((db) => db.drop().catch(() => {})));
  }

  async reader(): Promise<Reader> {
    const userId = randomUUID();
    return { userId, token: await this.identity.token(userId) };
  }

  /** A new book in the catalogue (admin API), with `copies` in stock (inventory admin API). */
  async book(opts: { copies: number; price?: number; title?: string }): Promise<Book> {
    const digits = `978${String(randomInt(0, 1e9)).padStart(9, '0')}`;
    let sum = 0;
    for (let i = 0; i < 12; i++) sum += Number(digits[i]) * (i % 2 === 0 ? 1 : 3);
    const isbn = `${digits}${(10 - (sum % 10)) % 10}`;
    const title = opts.title ?? `The Order of Things ${randomUUID().slice(0, 8)}`;
    const created = await call(`${this.urls.catalog}/api/products`, 'POST', {
      token: this.adminToken,
      body: { title, authors: ['Ada Test'], isbn, price: { amount: opts.price ?? 1299, currency: 'EUR' }, categoryId: this.#categoryId },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const book: Book = { id: created.body.id, title: created.body.title, price: created.body.price };
    // The inventory opens the book's stock when the catalogue's BookAdded reaches it.
    await eventually(async () => (await this.stock(book.id)).onHand !== undefined, { what: `the inventory to know ${book.id}` });
    if (opts.copies > 0) {
      const restocked = await call(`${this.urls.inventory}/api/inventory/${book.id}/restock`, 'POST', {
        token: this.adminToken,
        body: { quantity: opts.copies },
      });
      assert.equal(restocked.status, 200, JSON.stringify(restocked.body));
    }
    assert.equal((await this.stock(book.id)).available, opts.copies);
    return book;
  }

  async setPrice(bookId: string, amount: number): Promise<void> {
    const res = await call(`${this.urls.catalog}/api/products/${bookId}`, 'PATCH', { token: this.adminToken, body: { price: { amount, currency: 'EUR' } } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  }

  /** { onHand, reserved, available } of a book. */
  async stock(bookId: string): Promise<Json> {
    return (await call(`${this.urls.inventory}/api/inventory/${bookId}`, 'GET')).body;
  }

  async addToCart(reader: Reader, book: Book, quantity = 1): Promise<void> {
    const res = await call(`${this.urls.cart}/api/cart/add`, 'POST', { token: reader.token, body: { productId: book.id, quantity } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  }

  async cart(reader: Reader): Promise<Json> {
    return (await call(`${this.urls.cart}/api/cart`, 'GET', { token: reader.token })).body;
  }

  order(method: string, path: string, opts: Parameters<typeof call>[2] = {}): Promise<Answer> {
    return call(`${this.urls.order}${path}`, method, opts);
  }

  placeOrder(reader: Reader, opts: { key?: string; body?: unknown } = {}): Promise<Answer> {
    return this.order('POST', '/api/orders', {
      token: reader.token,
      body: opts.body ?? { shippingAddress: berlin, shippingMethod: 'standard' },
      ...(opts.key ? { headers: { 'idempotency-key': opts.key } } : {}),
    });
  }

  async orderOf(reader: Reader, id: string): Promise<Json> {
    const res = await this.order('GET', `/api/orders/${id}`, { token: reader.token });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  }

  orderReaches(reader: Reader, id: string, status: string, timeoutMs = 20_000): Promise<Json> {
    return eventually(
      async () => {
        const o = await this.orderOf(reader, id);
        return o.status === status && o;
      },
      { timeoutMs, what: `order ${id} to be ${status}` },
    );
  }
}
