/**
 * `npm start` as a newcomer runs it: a real child process on an embedded PostgreSQL.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually } from '@folio/platform/testing';
import { pay } from './lib/e2e.ts';
import { freePort } from './lib/ports.ts';
import { services as registry } from './lib/services.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

test('npm start brings /health up, and data written before a restart is still there after it', { timeout: 180_000 }, async () => {
  const dataDir = `.data/test-start-${randomBytes(3).toString('hex')}`;
  const [port, pgPort] = await Promise.all([freePort(), freePort()]);
  const env = { ...process.env, PORT: String(port), FOLIO_DATA_DIR: dataDir, FOLIO_EMBEDDED_PG_PORT: String(pgPort), LOG_LEVEL: 'warn' };
  const running = new Set<ChildProcess>();
  const start = () => {
    const child = spawn('npm', ['start'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    running.add(child);
    child.on('exit', () => running.delete(child));
    return child;
  };
  const stop = async (child: ChildProcess) => {
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    process.kill(-child.pid!, 'SIGTERM'); // npm and its node child, as Ctrl-C would
    return exited;
  };
  const health_ = () =>
    eventually(
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/health`);
        return res.ok && ((await res.json()) as { status: string; services?: unknown });
      },
      { timeoutMs: 90_000, what: '/health' },
    );

  const api = async (path: string, init: { method?: string; token?: string; body?: unknown } = {}) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: init.method ?? 'GET',
      headers: { ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
      ...(init.body ? { body: JSON.stringify(init.body) } : {}),
    });
    // biome-ignore lint/suspicious/noExplicitAny: answers are read loosely; each assertion says what it expects.
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const reader = { email: `new-${randomBytes(3).toString('hex')}@example.org`, password: 'a long enough passphrase' };
  const address = { name: 'Ada', line1: 'Unter den Linden 1', city: 'Berlin', postalCode: '10117', country: 'DE' };

  try {
    const first = start();
    const health = (await health_()) as { status: string; services: Record<string, { status: string }> };
    assert.equal(health.status, 'ok', JSON.stringify(health));
    assert.deepEqual(Object.keys(health.services).sort(), registry.map((s) => s.name).sort());
    // A newcomer sees books at once: the empty catalogue seeded itself.
    const books = await api('/api/products?limit=3');
    assert.equal(books.body.items.length, 3);
    assert.equal((await api('/api/auth/register', { method: 'POST', body: { ...reader, name: 'Ada' } })).status, 201);
    const login = await api('/api/auth/login', { method: 'POST', body: reader });
    const token = login.body.accessToken;
    assert.equal((await api('/api/me/addresses', { method: 'POST', token, body: address })).status, 201);
    // And buy one, paying on the gateway's hosted page: the whole purchase works in one process. Inventory
    // learns the seeded books from the catalogue's events, a moment after start-up.
    const book = books.body.items[0];
    await eventually(async () => (await api(`/api/inventory/${book.id}`)).body.available > 0, { what: 'the seeded book to be in stock' });
    assert.equal((await api('/api/cart/add', { method: 'POST', token, body: { productId: book.id, quantity: 1 } })).status, 200);
    const placed = await api('/api/orders', { method: 'POST', token, body: { shippingAddress: address, shippingMethod: 'standard' } });
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    assert.equal((await pay(placed.body.payment.paymentUrl)).status, 303);
    await eventually(async () => (await api(`/api/orders/${placed.body.id}`, { token })).body.status === 'paid', { what: 'the order to be paid' });
    await stop(first);

    const second = start();
    assert.equal(((await health_()) as { status: string }).status, 'ok');
    const again = await api('/api/auth/login', { method: 'POST', body: reader });
    assert.equal(again.status, 200, 'the account written before the restart is still there');
    const saved = await api('/api/me/addresses', { token: again.body.accessToken });
    assert.deepEqual(
      saved.body.items.map((a: { city: string }) => a.city),
      ['Berlin'],
    );
    const orders = await api('/api/orders', { token: again.body.accessToken });
    assert.deepEqual(
      orders.body.items.map((o: { status: string }) => o.status),
      ['paid'],
    );
    await stop(second);
  } finally {
    // A failed assertion must not leave npm start running (the test would never end).
    for (const child of running) await stop(child);
    // npm can exit a moment before PostgreSQL has finished its own shutdown; let it, then clean up.
    await eventually(() => !existsSync(`${root}/${dataDir}/postgres/postmaster.pid`), { timeoutMs: 30_000, what: 'PostgreSQL to stop' }).catch(() => {});
    await rm(`${root}/${dataDir}`, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
});
