import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { RunningService } from '@folio/platform/service';
import { type Backend, gateway, routesTo, type Storefront, startBackend, storefront } from './test-helpers.ts';

const shop = 'https://shop.example.org';
const devServer = 'http://localhost:5173';
const foreign = 'https://evil.example';

function assertSecurityHeaders(res: Response, what: string): void {
  const csp = res.headers.get('content-security-policy') ?? '';
  for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:", "connect-src 'self'"]) {
    assert.ok(csp.includes(directive), `${what}: CSP lacks ${directive}: ${csp}`);
  }
  for (const directive of ["form-action 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'self'"]) {
    assert.ok(csp.includes(directive), `${what}: CSP lacks ${directive}: ${csp}`);
  }
  assert.doesNotMatch(csp, /unsafe-eval|script-src[^;]*unsafe-inline/, `${what}: scripts must come from the origin only`);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', what);
  assert.equal(res.headers.get('referrer-policy'), 'strict-origin-when-cross-origin', what);
  assert.equal(res.headers.get('x-frame-options'), 'DENY', what);
  assert.ok(res.headers.get('x-request-id'), `${what}: X-Request-Id`);
}

describe('security headers and request ids', () => {
  let backend: Backend;
  let site: Storefront;
  let edge: RunningService;

  before(async () => {
    backend = await startBackend();
    site = await storefront();
    edge = await gateway({ ...routesTo(backend.url), STOREFRONT_DIR: site.dir, IDENTITY_URL: 'http://127.0.0.1:1' });
  });
  after(async () => {
    await edge.close();
    await backend.close();
    await site.remove();
  });

  test('on files, pages, proxied answers, problems and the gateway’s own routes', async () => {
    const answers: Array<[string, Response]> = [
      ['index.html', await fetch(`${edge.url}/`)],
      ['an asset', await fetch(`${edge.url}/assets/app-1a2b3c.js`)],
      ['a deep link', await fetch(`${edge.url}/orders/x`, { headers: { accept: 'text/html' } })],
      ['a proxied answer', await fetch(`${edge.url}/api/products`)],
      ['a 404 problem', await fetch(`${edge.url}/api/nothing-here`)],
      ['a 503 for a service that is down', await fetch(`${edge.url}/api/me`)],
      ['/health', await fetch(`${edge.url}/health`)],
      ['/docs', await fetch(`${edge.url}/docs/`)],
    ];
    for (const [what, res] of answers) assertSecurityHeaders(res, what);
    assert.equal(answers[5]![1].status, 503);
  });

  test('no HSTS over plain HTTP unless configured; then HSTS and upgrade-insecure-requests', async () => {
    const plain = await fetch(`${edge.url}/`);
    assert.equal(plain.headers.get('strict-transport-security'), null);
    assert.doesNotMatch(plain.headers.get('content-security-policy') ?? '', /upgrade-insecure-requests/);

    const tls = await gateway({ STOREFRONT_DIR: site.dir, HSTS_MAX_AGE_SECONDS: '31536000' });
    try {
      const res = await fetch(`${tls.url}/`);
      assert.equal(res.headers.get('strict-transport-security'), 'max-age=31536000');
      assert.match(res.headers.get('content-security-policy') ?? '', /upgrade-insecure-requests/);
    } finally {
      await tls.close();
    }
  });

  test("a client's well-formed request id is kept, on proxied, static and problem answers; another is replaced", async () => {
    const id = `client-${randomUUID()}`;
    for (const path of ['/api/products', '/assets/app-1a2b3c.js', '/api/nothing-here']) {
      const res = await fetch(`${edge.url}${path}`, { headers: { 'x-request-id': id } });
      assert.equal(res.headers.get('x-request-id'), id, path);
    }
    const forged = await fetch(`${edge.url}/api/products`, { headers: { 'x-request-id': 'a b\tc<script>' } });
    assert.match(forged.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });
});

describe('CORS', () => {
  let backend: Backend;
  let edge: RunningService;
  let sameOriginOnly: RunningService;

  before(async () => {
    // A service that (wrongly) answers with CORS headers of its own and a Vary of its own.
    backend = await startBackend({ headers: { 'access-control-allow-origin': '*', vary: 'Accept-Encoding' } });
    edge = await gateway({ ...routesTo(backend.url), STOREFRONT_ORIGIN: `${shop}, ${devServer}/` });
    sameOriginOnly = await gateway(routesTo(backend.url));
  });
  after(async () => {
    await edge.close();
    await sameOriginOnly.close();
    await backend.close();
  });

  const preflight = (url: string, origin: string) =>
    fetch(`${url}/api/orders`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, idempotency-key, x-cart-token',
      },
    });

  test("a preflight from the storefront's origin is allowed with the API's methods and headers", async () => {
    for (const origin of [shop, devServer]) {
      const res = await preflight(edge.url, origin);
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('access-control-allow-origin'), origin);
      const methods = res.headers.get('access-control-allow-methods') ?? '';
      for (const m of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) assert.ok(methods.includes(m), `${m} in ${methods}`);
      const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase();
      for (const h of ['authorization', 'content-type', 'idempotency-key', 'x-cart-token', 'x-request-id'])
        assert.ok(allowed.includes(h), `${h} in ${allowed}`);
      assert.equal(res.headers.get('access-control-allow-credentials'), null, 'bearer tokens, no cookies');
      assert.match(res.headers.get('vary') ?? '', /origin/i);
    }
    assert.equal(backend.hits.filter((h) => h.method === 'OPTIONS').length, 0, 'preflights end at the edge');
  });

  test('a preflight from any other origin gets no allow-origin', async () => {
    for (const url of [edge.url, sameOriginOnly.url]) {
      const res = await preflight(url, foreign);
      assert.equal(res.headers.get('access-control-allow-origin'), null);
    }
    // Without STOREFRONT_ORIGIN even the Vite dev server is another origin.
    assert.equal((await preflight(sameOriginOnly.url, devServer)).headers.get('access-control-allow-origin'), null);
  });

  test('proxied answers carry the edge’s CORS headers, never a service’s own', async () => {
    const allowed = await fetch(`${edge.url}/api/products`, { headers: { origin: shop } });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get('access-control-allow-origin'), shop, "the service's '*' must not leak through");
    const exposed = (allowed.headers.get('access-control-expose-headers') ?? '').toLowerCase();
    for (const h of ['x-request-id', 'retry-after', 'x-cart-token', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset']) {
      assert.ok(exposed.includes(h), `${h} in ${exposed}`);
    }
    const vary = allowed.headers.get('vary') ?? '';
    assert.match(vary, /accept-encoding/i, "the service's Vary is kept");
    assert.match(vary, /origin/i, 'and Origin added to it');

    for (const [url, origin] of [
      [edge.url, foreign],
      [sameOriginOnly.url, devServer],
    ] as const) {
      const denied = await fetch(`${url}/api/products`, { headers: { origin } });
      assert.equal(denied.status, 200, 'CORS is enforced by the browser; the answer itself is the same');
      assert.equal(denied.headers.get('access-control-allow-origin'), null, `${origin} at ${url}`);
    }
  });

  test('STOREFRONT_ORIGIN must list origins, not URLs with paths', async () => {
    await assert.rejects(gateway({ STOREFRONT_ORIGIN: 'https://shop.example.org/checkout' }), /STOREFRONT_ORIGIN.*origin only/s);
    await assert.rejects(gateway({ STOREFRONT_ORIGIN: 'shop.example.org' }), /STOREFRONT_ORIGIN/);
  });
});
