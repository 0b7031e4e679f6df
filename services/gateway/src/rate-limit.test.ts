import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { RunningService } from '@folio/platform/service';
import { eventually, redisUrl, skipUnless } from '@folio/platform/testing';
import { Redis } from 'ioredis';
import { clientKey } from './rate-limit.ts';
import { type Backend, gateway, routesTo, type Storefront, startBackend, storefront } from './test-helpers.ts';

/**
 * Clients are told apart by address. The suites run every gateway with TRUST_PROXY so each test can be
 * a client of its own (a random documentation address in X-Forwarded-For): counts in the shared Redis
 * never mix between tests, runs, or anything else on this machine.
 */
let clients = 0;
const uniqueClient = () => {
  clients += 1;
  // 2001:db8::/32 is for documentation; a random /48 per run, a /64 per client.
  return `2001:db8:${randomInt(0, 0xffff).toString(16)}:${clients.toString(16)}::${randomInt(1, 0xffff).toString(16)}`;
};

interface Answer {
  status: number;
  headers: Headers;
  body: { status?: number; title?: string; type?: string; detail?: string; url?: string };
}

async function call(url: string, client: string, init: { method?: string; path?: string; origin?: string } = {}): Promise<Answer> {
  const res = await fetch(`${url}${init.path ?? '/api/products'}`, {
    method: init.method ?? 'GET',
    headers: { 'x-forwarded-for': client, ...(init.origin ? { origin: init.origin } : {}) },
  });
  return { status: res.status, headers: res.headers, body: (await res.json().catch(() => ({}))) as Answer['body'] };
}

function assert429(answer: Answer, limit: number): void {
  assert.equal(answer.status, 429, JSON.stringify(answer.body));
  assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(answer.body.status, 429);
  assert.equal(answer.body.title, 'Too Many Requests');
  assert.equal(answer.body.type, 'urn:folio:problem:rate-limited');
  assert.match(answer.body.detail ?? '', /^Too many requests from your address; try again in \d+ seconds?\.$/);
  const retryAfter = Number(answer.headers.get('retry-after'));
  assert.ok(retryAfter >= 1, `Retry-After ${answer.headers.get('retry-after')}`);
  assert.ok(answer.body.detail?.includes(`in ${retryAfter} second`), 'the detail names the same wait as Retry-After');
  assert.equal(answer.headers.get('ratelimit-limit'), String(limit));
  assert.equal(answer.headers.get('ratelimit-remaining'), '0');
  assert.ok(Number(answer.headers.get('ratelimit-reset')) >= 1);
  assert.ok(answer.headers.get('x-request-id'), 'a 429 carries the request id');
  assert.match(answer.headers.get('content-security-policy') ?? '', /default-src 'self'/, 'and the security headers');
}

test('a client is its IPv4 address, or the /64 of its IPv6 address', () => {
  assert.equal(clientKey('203.0.113.7'), '203.0.113.7');
  assert.equal(clientKey('::ffff:203.0.113.7'), '203.0.113.7');
  assert.equal(clientKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:db8:1:2::9'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:0db8:0001:0002:ffff::1'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(clientKey('::1'), '0:0:0:0::/64');
  assert.notEqual(clientKey('2001:db8:1:3::1'), clientKey('2001:db8:1:2::1'));
});

describe('rate limits in memory (npm start)', () => {
  let backend: Backend;
  let site: Storefront;
  let edge: RunningService;
  const max = 3;

  before(async () => {
    backend = await startBackend();
    site = await storefront();
    edge = await gateway({
      ...routesTo(backend.url),
      STOREFRONT_DIR: site.dir,
      STOREFRONT_ORIGIN: 'https://shop.example.org',
      TRUST_PROXY: 'true',
      RATE_LIMIT_MAX: String(max),
      RATE_LIMIT_WINDOW_MS: '60000',
    });
  });
  after(async () => {
    await edge.close();
    await backend.close();
    await site.remove();
  });

  test('the request after the limit is a 429 problem with Retry-After, and never reaches the service', async () => {
    const client = uniqueClient();
    for (let i = 1; i <= max; i++) {
      const ok = await call(edge.url, client);
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('ratelimit-limit'), String(max));
      assert.equal(ok.headers.get('ratelimit-remaining'), String(max - i));
    }
    const before = backend.hits.length;
    const limited = await call(edge.url, client, { origin: 'https://shop.example.org' });
    assert429(limited, max);
    assert.equal(limited.headers.get('access-control-allow-origin'), 'https://shop.example.org', 'the storefront can read the 429');
    assert.equal(backend.hits.length, before);
    // Any /api path counts, unknown ones included.
    assert.equal((await call(edge.url, client, { path: '/api/nothing-here' })).status, 429);

    // Others are not held up: another client, and this one's pages, files, probes and the webhook.
    assert.equal((await call(edge.url, uniqueClient())).status, 200);
    for (const path of ['/', '/assets/app-1a2b3c.js', '/health', '/ready', '/metrics', '/openapi.json']) {
      const res = await fetch(`${edge.url}${path}`, { headers: { 'x-forwarded-for': client } });
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('ratelimit-limit'), null, path);
    }
    assert.equal((await call(edge.url, client, { method: 'POST', path: '/api/payments/webhook' })).status, 200);
  });

  test('addresses in one IPv6 /64 share a count', async () => {
    const prefix = uniqueClient().replace(/::[0-9a-f]+$/, '');
    for (let i = 1; i <= max; i++) assert.equal((await call(edge.url, `${prefix}::${i}`)).status, 200);
    assert429(await call(edge.url, `${prefix}:ffff:ffff:ffff:ffff`), max);
  });

  test('sign-in, registration and refresh have a stricter bucket of their own', async () => {
    const strict = await gateway({ ...routesTo(backend.url), TRUST_PROXY: 'true', RATE_LIMIT_MAX: '100', RATE_LIMIT_AUTH_MAX: '2' });
    try {
      const client = uniqueClient();
      assert.equal((await call(strict.url, client, { method: 'POST', path: '/api/auth/login' })).status, 200);
      const second = await call(strict.url, client, { method: 'POST', path: '/api/auth/register' });
      assert.equal(second.status, 200);
      assert.equal(second.headers.get('ratelimit-limit'), '2', 'the binding bucket is shown');
      assert.equal(second.headers.get('ratelimit-remaining'), '0');
      assert429(await call(strict.url, client, { method: 'POST', path: '/api/auth/refresh' }), 2);
      // Browsing goes on; the auth requests counted in the general bucket as well (4 of 100 now).
      const browse = await call(strict.url, client);
      assert.equal(browse.status, 200);
      assert.equal(browse.headers.get('ratelimit-limit'), '100');
      assert.equal(browse.headers.get('ratelimit-remaining'), '96');
      // Reading is not signing in: GET /api/auth/… is only in the general bucket.
      assert.equal((await call(strict.url, client, { path: '/api/auth/jwks' })).status, 200);
    } finally {
      await strict.close();
    }
  });

  test('the count starts again after the window', async () => {
    const short = await gateway({ ...routesTo(backend.url), TRUST_PROXY: 'true', RATE_LIMIT_MAX: '1', RATE_LIMIT_WINDOW_MS: '1500' });
    try {
      const client = uniqueClient();
      assert.equal((await call(short.url, client)).status, 200);
      assert429(await call(short.url, client), 1);
      await new Promise((r) => setTimeout(r, 1_600));
      assert.equal((await call(short.url, client)).status, 200);
    } finally {
      await short.close();
    }
  });

  test('RATE_LIMIT_MAX=0 turns rate limiting off, the auth bucket included', async () => {
    const off = await gateway({ ...routesTo(backend.url), TRUST_PROXY: 'true', RATE_LIMIT_MAX: '0', RATE_LIMIT_AUTH_MAX: '1' });
    try {
      const client = uniqueClient();
      const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => call(off.url, client, i % 2 ? { method: 'POST', path: '/api/auth/login' } : {})));
      assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
      assert.equal(answers[0]!.headers.get('ratelimit-limit'), null);
    } finally {
      await off.close();
    }
  });
});

describe('rate limits in Redis (distributed)', () => {
  let backend: Backend;
  const started: RunningService[] = [];
  const start = async (env: Record<string, string>) => {
    const g = await gateway({ ...routesTo(backend.url), TRUST_PROXY: 'true', RATE_LIMIT_WINDOW_MS: '60000', ...env });
    started.push(g);
    return g;
  };

  before(async () => {
    backend = await startBackend();
  });
  after(async () => {
    for (const g of started) await g.close();
    await backend.close();
  });

  test('two gateway instances share one count per client', async (t) => {
    if (!skipUnless(t, redisUrl(), 'Redis')) return;
    const a = await start({ REDIS_URL: redisUrl()!, RATE_LIMIT_MAX: '4' });
    const b = await start({ REDIS_URL: redisUrl()!, RATE_LIMIT_MAX: '4' });
    const client = uniqueClient();
    const statuses = [];
    for (const g of [a, b, a, b]) statuses.push((await call(g.url, client)).status);
    assert.deepEqual(statuses, [200, 200, 200, 200]);
    assert429(await call(a.url, client), 4);
    assert429(await call(b.url, client), 4);

    // The count lives in Redis under the client's key, and expires with the window.
    const redis = new Redis(redisUrl()!);
    try {
      const key = `folio:gateway:rate-limit:api:${clientKey(client)}`;
      assert.equal(await redis.get(key), '6');
      const ttl = await redis.pttl(key);
      assert.ok(ttl > 0 && ttl <= 60_000, `TTL ${ttl}`);
    } finally {
      redis.disconnect();
    }
  });

  test('Redis unreachable at start-up: the gateway starts and lets requests pass', async (t) => {
    if (!skipUnless(t, redisUrl(), 'Redis')) return;
    const nowhere = await closedPort();
    const startedAt = Date.now();
    const g = await start({ REDIS_URL: `redis://127.0.0.1:${nowhere}`, RATE_LIMIT_MAX: '1' });
    assert.ok(Date.now() - startedAt < 5_000, 'start-up does not wait long for Redis');
    const client = uniqueClient();
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      const answer = await call(g.url, client);
      assert.equal(answer.status, 200);
      assert.ok(Date.now() - t0 < 1_000, 'no request waits for the missing store');
    }
  });

  test('a Redis that accepts connections but never answers holds up neither start-up nor requests', async (t) => {
    if (!skipUnless(t, redisUrl(), 'Redis')) return;
    const held = new Set<Socket>();
    const blackHole = createServer((socket) => {
      held.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    try {
      const startedAt = Date.now();
      const g = await start({ REDIS_URL: `redis://127.0.0.1:${(blackHole.address() as { port: number }).port}`, RATE_LIMIT_MAX: '1' });
      assert.ok(Date.now() - startedAt < 5_000, `start-up took ${Date.now() - startedAt} ms`);
      const client = uniqueClient();
      for (let i = 0; i < 3; i++) {
        const t0 = Date.now();
        assert.equal((await call(g.url, client)).status, 200);
        assert.ok(Date.now() - t0 < 1_000, `a request took ${Date.now() - t0} ms`);
      }
    } finally {
      for (const s of held) s.destroy();
      await new Promise((resolve) => blackHole.close(resolve));
    }
  });

  test('Redis lost while running: requests pass (fail open), and limits apply again once it is back', async (t) => {
    if (!skipUnless(t, redisUrl(), 'Redis')) return;
    const link = await tcpLink(new URL(redisUrl()!));
    try {
      const g = await start({ REDIS_URL: `redis://127.0.0.1:${link.port}`, RATE_LIMIT_MAX: '2' });
      const client = uniqueClient();
      assert.equal((await call(g.url, client)).status, 200);
      assert.equal((await call(g.url, client)).headers.get('ratelimit-remaining'), '0');
      assert429(await call(g.url, client), 2);

      await link.cut();
      for (let i = 0; i < 5; i++) {
        const t0 = Date.now();
        const answer = await call(g.url, client);
        assert.equal(answer.status, 200, 'an edge without its store still serves');
        assert.equal(answer.headers.get('ratelimit-limit'), null);
        assert.ok(Date.now() - t0 < 1_000);
      }

      await link.restore();
      // ioredis reconnects by itself; the client is still over its limit in Redis.
      await eventually(async () => (await call(g.url, client)).status === 429, { timeoutMs: 15_000, what: 'limits enforced again' });
    } finally {
      await link.cut();
    }
  });
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A TCP link to Redis that the test can cut (as a network failure would) and restore on the same port. */
async function tcpLink(target: URL): Promise<{ port: number; cut(): Promise<void>; restore(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const open = async () => {
    server = createServer((client) => {
      const redis = createConnection({ host: target.hostname, port: Number(target.port || 6379) });
      for (const s of [client, redis]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(redis).pipe(client);
    });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  };
  await open();
  return {
    get port() {
      return port;
    },
    async cut() {
      const s = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      if (s) await new Promise((resolve) => s.close(resolve));
    },
    restore: open,
  };
}
