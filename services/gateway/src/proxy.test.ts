/**
 * What the edge does with answers that carry no body, and with services that break HTTP: a raw node:http
 * server stands in for a faulty service, so it can answer exactly what Fastify would never let us write.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type App, createServer, listen } from '@folio/platform/http';
import { createLogger } from '@folio/platform/log';
import type { RunningService } from '@folio/platform/service';
import { gateway } from './test-helpers.ts';

const log = createLogger({ name: 'gateway-test', level: 'warn' });

interface Problem {
  status: number;
  title: string;
  detail: string;
  instance: string;
}

describe('the edge passes bodiless answers intact, and a broken service is never a 500', () => {
  let faulty: Server;
  let fastify: App;
  let fastifyUrl: string;
  let edge: RunningService;

  before(async () => {
    // The order service as it was: a 304 whose content-length describes a "null" that was never sent.
    faulty = createHttpServer((req, res) => {
      const path = req.url ?? '';
      if (path === '/api/orders/o1' && req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304, { etag: '"v1"', 'content-type': 'application/json; charset=utf-8', 'content-length': '4' });
        res.end();
      } else if (path === '/api/orders/o1') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '11', etag: '"v1"' });
        res.end(req.method === 'HEAD' ? undefined : '{"id":"o1"}');
      } else if (path === '/api/orders/o1/items') {
        res.writeHead(204, { 'x-upstream': 'yes', 'content-length': '4' });
        res.end();
      } else if (path === '/api/orders/promised') {
        // Promises 100 bytes, sends none, and hangs up once the headers are out.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100', etag: '"v9"' });
        res.flushHeaders();
        setTimeout(() => res.socket?.destroy(), 30);
      } else if (path === '/api/orders/half') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"id":"o1",', () => setTimeout(() => res.socket?.destroy(), 30));
      }
      // /api/orders/silent: never answers.
    });
    await new Promise<void>((resolve) => faulty.listen(0, '127.0.0.1', resolve));

    // A service built like every other, whose handlers write what the order service's did.
    fastify = await createServer({ name: 'cart', log, docs: false });
    fastify.get('/api/cart', async (_request, reply) => reply.code(304).header('etag', '"c1"').send(null));
    fastify.delete('/api/cart/items/:id', async (_request, reply) => reply.code(204).send(null));
    fastifyUrl = await listen(fastify, 0);

    edge = await gateway({
      ORDER_URL: `http://127.0.0.1:${(faulty.address() as AddressInfo).port}`,
      CART_URL: fastifyUrl,
      UPSTREAM_TIMEOUT_MS: '500',
      RATE_LIMIT_MAX: '0',
    });
  });
  after(async () => {
    await edge.close();
    await fastify.close();
    faulty.closeAllConnections();
    await new Promise((resolve) => faulty.close(resolve));
  });

  test('a 304 with a stray content-length arrives as a 304: no body, no content-length, its ETag kept', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${edge.url}/api/orders/o1`, { headers: { 'if-none-match': '"v1"', prefer: 'wait=1' } });
      assert.equal(res.status, 304);
      assert.equal(res.headers.get('etag'), '"v1"');
      assert.equal(res.headers.get('content-length'), null);
      assert.equal(await res.text(), '');
    }
    // The connection the broken 304 cost is replaced: the service is still reachable.
    const changed = await fetch(`${edge.url}/api/orders/o1`, { headers: { 'if-none-match': '"v0"' } });
    assert.equal(changed.status, 200);
    assert.deepEqual(await changed.json(), { id: 'o1' });
  });

  test('a 204 arrives without a body or a content-length, a HEAD without a body', async () => {
    const none = await fetch(`${edge.url}/api/orders/o1/items`, { method: 'DELETE' });
    assert.equal(none.status, 204);
    assert.equal(none.headers.get('x-upstream'), 'yes');
    assert.equal(none.headers.get('content-length'), null);
    assert.equal(await none.text(), '');
    const head = await fetch(`${edge.url}/api/orders/o1`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '11', 'the length a GET would have');
    assert.equal(await head.text(), '');
  });

  test("a service's own send(null) on a 304 or 204 leaves it without a body or a length, directly and through the edge", async () => {
    const direct = await fetch(`${fastifyUrl}/api/cart`);
    assert.equal(direct.status, 304);
    assert.equal(direct.headers.get('content-length'), null, 'createServer drops the length of the "null" it did not send');
    const res = await fetch(`${edge.url}/api/cart`);
    assert.equal(res.status, 304);
    assert.equal(res.headers.get('etag'), '"c1"');
    assert.equal(res.headers.get('content-length'), null);
    const none = await fetch(`${edge.url}/api/cart/items/b1`, { method: 'DELETE' });
    assert.equal(none.status, 204);
    assert.equal(none.headers.get('content-length'), null);
  });

  test('an answer shorter than its content-length is a 502 problem naming the service, without its headers', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${edge.url}/api/orders/promised`);
      assert.equal(res.status, 502);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(res.headers.get('etag'), null, 'the ETag of an answer that never arrived');
      assert.ok(res.headers.get('x-request-id'));
      const problem = (await res.json()) as Problem;
      assert.equal(problem.status, 502);
      assert.equal(problem.title, 'Bad Gateway');
      assert.equal(problem.instance, '/api/orders/promised');
      assert.match(problem.detail, /^The order service sent a broken answer/);
    }
  });

  test('an answer that breaks off mid-body is broken off for the client too, never passed off as whole nor a 500', async () => {
    const res = await fetch(`${edge.url}/api/orders/half`).catch((err: Error) => err);
    if (res instanceof Error) return;
    assert.notEqual(res.status, 500);
    if (res.status === 502) return; // broke off before the edge had passed anything on
    assert.equal(res.status, 200);
    await assert.rejects(res.text(), 'the broken body is not passed off as a whole one');
  });

  test('a service that does not answer in time is a 504 problem', async () => {
    const res = await fetch(`${edge.url}/api/orders/silent`);
    assert.equal(res.status, 504);
    const problem = (await res.json()) as Problem;
    assert.match(problem.detail, /The order service did not answer in time/);
  });
});
