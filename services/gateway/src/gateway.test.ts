import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { currentContext } from '@folio/platform/context';
import { type App, createServer, listen } from '@folio/platform/http';
import { createLogger } from '@folio/platform/log';
import { problems } from '@folio/platform/problem';
import type { RunningService } from '@folio/platform/service';
import { Type } from 'typebox';
import { startGateway } from './gateway.ts';

const log = createLogger({ name: 'gateway-test', level: 'warn' });

describe('the edge gateway', () => {
  let upstream: App;
  let upstreamUrl: string;
  let gateway: RunningService;
  const seen: Array<{ correlationId: string | undefined; requestId: string | undefined; ip: string }> = [];

  before(async () => {
    // A stand-in for the catalog, built with the same server factory as every service.
    upstream = await createServer({ name: 'catalog', log, docs: false });
    upstream.get('/api/products', { schema: { querystring: Type.Object({ q: Type.Optional(Type.String()) }) } }, async (request) => {
      const ctx = currentContext();
      seen.push({ correlationId: ctx?.correlationId, requestId: ctx?.requestId, ip: request.ip });
      return { items: [{ id: 'b1', title: `match for ${request.query.q}` }] };
    });
    upstream.post('/api/products', { schema: { body: Type.Object({ title: Type.String({ minLength: 1 }) }) } }, async (request, reply) =>
      reply.code(201).send({ id: 'b2', ...request.body }),
    );
    upstream.get('/api/products/:id', async (request) => {
      throw problems.notFound(`No book ${(request.params as { id: string }).id}.`);
    });
    upstreamUrl = await listen(upstream, 0);
    gateway = await startGateway({ env: { PORT: '0', LOG_LEVEL: 'warn', CATALOG_URL: upstreamUrl, CART_URL: 'http://127.0.0.1:1' } });
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
  });

  test('forwards path, query, body and status, and the ids travel to the service', async () => {
    const res = await fetch(`${gateway.url}/api/products?q=tolkien`, { headers: { 'x-correlation-id': 'checkout-42' } });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { items: [{ id: 'b1', title: 'match for tolkien' }] });
    const requestId = res.headers.get('x-request-id');
    assert.ok(requestId);
    assert.deepEqual(seen.at(-1), { correlationId: 'checkout-42', requestId, ip: '127.0.0.1' });
  });

  test("a client's own X-Forwarded-For is replaced by the address the edge saw", async () => {
    await fetch(`${gateway.url}/api/products`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    assert.equal(seen.at(-1)?.ip, '127.0.0.1', 'the service must not see the spoofed address');

    const created = await fetch(`${gateway.url}/api/products`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Dune' }),
    });
    assert.equal(created.status, 201);
    assert.deepEqual(await created.json(), { id: 'b2', title: 'Dune' });
  });

  test("passes a service's problem answers through unchanged", async () => {
    const missing = await fetch(`${gateway.url}/api/products/nope`);
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(((await missing.json()) as { detail: string }).detail, 'No book nope.');
    const invalid = await fetch(`${gateway.url}/api/products`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"title":""}' });
    assert.equal(invalid.status, 400);
    assert.match(((await invalid.json()) as { detail: string }).detail, /title/);
  });

  test('a service that is down is a 503 problem naming it; an unknown path is a 404 problem', async () => {
    const down = await fetch(`${gateway.url}/api/cart`);
    assert.equal(down.status, 503);
    const body = (await down.json()) as { detail: string; status: number };
    assert.equal(body.status, 503);
    assert.match(body.detail, /The cart service is unavailable/);
    const unknown = await fetch(`${gateway.url}/api/nothing-here`);
    assert.equal(unknown.status, 404);
    assert.match(unknown.headers.get('content-type') ?? '', /application\/problem\+json/);
  });

  test('GET /health reports each service', async () => {
    const health = (await (await fetch(`${gateway.url}/health`)).json()) as { status: string; services: Record<string, { status: string }> };
    assert.equal(health.status, 'degraded');
    assert.equal(health.services.catalog?.status, 'up');
    assert.equal(health.services.cart?.status, 'down');
    assert.equal(Object.keys(health.services).length, 2, 'only the services this deployment routes to');
  });
});
