import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, type TestContext, test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { runWithContext } from './context.ts';
import { createHttpClient, type HttpClient, type HttpClientOptions, retryAfterMs, UpstreamError, UpstreamUnavailableError } from './http-client.ts';
import { ProblemError } from './problem.ts';

interface Hit {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  remotePort: number | undefined;
}

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

let server: Server;
let baseUrl: string;
const routes = new Map<string, Handler>();
const hits = new Map<string, Hit[]>();
const hitsOf = (path: string) => hits.get(path) ?? [];

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/** Answers with the statuses in turn, then keeps answering with the last one. */
function script(...steps: Array<{ status: number; body?: unknown; headers?: Record<string, string> }>): Handler {
  return (_req, res, n) => {
    const step = steps[Math.min(n, steps.length) - 1] as { status: number; body?: unknown; headers?: Record<string, string> };
    json(res, step.status, step.body ?? { attempt: n }, step.headers);
  };
}

function capture(): { log: pino.Logger; lines: Array<{ level: number; msg: string; [k: string]: unknown }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

function client(t: TestContext, opts: Partial<HttpClientOptions> = {}): HttpClient {
  const c = createHttpClient({ name: 'inventory', baseUrl, timeoutMs: 1_000, backoffMs: 5, log: capture().log, ...opts });
  t.after(() => c.close());
  return c;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => assert.fail('expected the call to fail'),
    (err: unknown) => err,
  );
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] as string;
      const list = hits.get(path) ?? [];
      list.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
        remotePort: req.socket.remotePort,
      });
      hits.set(path, list);
      const handler = routes.get(path);
      if (handler) handler(req, res, list.length);
      else json(res, 404, { type: 'about:blank', title: 'Not Found', status: 404 }, { 'content-type': 'application/problem+json' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  routes.clear();
  hits.clear();
});

describe('http client: retries', () => {
  test('a GET that fails twice with 503 then succeeds is retried to success', async (t) => {
    routes.set('/stock/1', script({ status: 503 }, { status: 503 }, { status: 200, body: { available: 7 } }));
    const { log, lines } = capture();
    const c = client(t, { log });
    const res = await c.get<{ available: number }>('/stock/1');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { available: 7 });
    assert.match(res.headers['content-type'] ?? '', /application\/json/);
    assert.equal(hitsOf('/stock/1').length, 3);
    const warnings = lines.filter((l) => l.level === 40);
    assert.equal(warnings.length, 2, 'a warning per retry');
    assert.equal(warnings[0]?.upstream, 'inventory');
  });

  test('a POST without an idempotency key is sent once, even on a 503', async (t) => {
    routes.set('/reservations', script({ status: 503, body: { type: 'urn:x', title: 'Service Unavailable', status: 503, detail: 'draining' } }));
    const err = await rejection(client(t).post('/reservations', { isbn: '1' }));
    assert.ok(err instanceof UpstreamUnavailableError);
    assert.equal(err.reason, 'server-error');
    assert.equal(err.status, 503);
    assert.equal(err.problem?.detail, 'draining');
    assert.equal(hitsOf('/reservations').length, 1);
  });

  test('a POST with an idempotency key is retried, and the key arrives on each attempt', async (t) => {
    routes.set('/reservations', script({ status: 502 }, { status: 201, body: { id: 'r-1' } }));
    const res = await client(t).post<{ id: string }>('/reservations', { isbn: '978', quantity: 2 }, { idempotencyKey: 'key-123' });
    assert.equal(res.status, 201);
    assert.deepEqual(res.body, { id: 'r-1' });
    const seen = hitsOf('/reservations');
    assert.equal(seen.length, 2);
    for (const h of seen) {
      assert.equal(h.method, 'POST');
      assert.equal(h.headers['idempotency-key'], 'key-123');
      assert.equal(h.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(h.body), { isbn: '978', quantity: 2 });
    }
  });

  test('a 404 problem+json is an UpstreamError with the parsed problem, not retried', async (t) => {
    routes.set('/stock/missing', (_req, res) =>
      json(
        res,
        404,
        { type: 'urn:folio:problem:not-found', title: 'Not Found', status: 404, detail: 'no such book' },
        { 'content-type': 'application/problem+json' },
      ),
    );
    const err = await rejection(client(t).get('/stock/missing'));
    assert.ok(err instanceof UpstreamError);
    assert.equal(err.upstream, 'inventory');
    assert.equal(err.status, 404);
    assert.deepEqual(err.problem, { type: 'urn:folio:problem:not-found', title: 'Not Found', status: 404, detail: 'no such book' });
    assert.match(err.message, /inventory answered 404 to GET \/stock\/missing: no such book/);
    assert.equal(hitsOf('/stock/missing').length, 1);
  });

  test('other 4xx and a 500 are final too', async (t) => {
    routes.set('/conflict', script({ status: 409 }));
    routes.set('/boom', script({ status: 500 }));
    const c = client(t);
    const conflict = await rejection(c.put('/conflict', {}));
    assert.ok(conflict instanceof UpstreamError);
    assert.equal(conflict.status, 409);
    const boom = await rejection(c.get('/boom'));
    assert.ok(boom instanceof UpstreamError);
    assert.equal(boom.status, 500);
    assert.equal(hitsOf('/conflict').length, 1);
    assert.equal(hitsOf('/boom').length, 1);
  });

  test('retries give up after `retries` extra attempts', async (t) => {
    routes.set('/down', script({ status: 504 }));
    const err = await rejection(client(t, { retries: 3 }).delete('/down'));
    assert.ok(err instanceof UpstreamUnavailableError);
    assert.equal(err.reason, 'server-error');
    assert.equal(hitsOf('/down').length, 4);
  });

  test('Retry-After is honoured on 503 and 429', async (t) => {
    routes.set('/busy', script({ status: 503, headers: { 'retry-after': '1' } }, { status: 200, body: { ok: true } }));
    routes.set('/limited', script({ status: 429, headers: { 'retry-after': '0' } }, { status: 200 }));
    const c = client(t);
    const started = performance.now();
    const res = await c.get('/busy');
    const elapsed = performance.now() - started;
    assert.equal(res.status, 200);
    assert.ok(elapsed >= 900, `waited ${elapsed} ms`);
    assert.ok(elapsed < 3_000, `waited ${elapsed} ms`);
    assert.equal((await c.get('/limited')).status, 200);
    assert.equal(hitsOf('/limited').length, 2);
  });

  test('a Retry-After longer than 5 s ends the retries and is passed on', async (t) => {
    routes.set('/maintenance', script({ status: 503, headers: { 'retry-after': '60' } }));
    const started = performance.now();
    const err = await rejection(client(t).get('/maintenance'));
    assert.ok(performance.now() - started < 500);
    assert.ok(err instanceof UpstreamUnavailableError);
    assert.equal(err.retryAfterSeconds, 60);
    assert.equal(hitsOf('/maintenance').length, 1);
    assert.equal(err.toProblem().headers['retry-after'], '60');
  });

  test('retryAfterMs reads seconds and HTTP dates', () => {
    assert.equal(retryAfterMs('2'), 2_000);
    assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 7_000), 3_000);
    assert.equal(retryAfterMs('soon'), undefined);
    assert.equal(retryAfterMs(undefined), undefined);
  });
});

describe('http client: timeouts and connections', () => {
  test('a hanging endpoint times out after about timeoutMs', async (t) => {
    routes.set('/hang', () => {});
    const started = performance.now();
    const err = await rejection(client(t, { timeoutMs: 200, retries: 0 }).get('/hang'));
    const elapsed = performance.now() - started;
    assert.ok(err instanceof UpstreamUnavailableError);
    assert.equal(err.reason, 'timeout');
    assert.ok(elapsed >= 180 && elapsed < 1_000, `took ${elapsed} ms`);
  });

  test('the timeout covers a body that never finishes', async (t) => {
    routes.set('/slow-body', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"partial":');
    });
    const err = await rejection(client(t, { timeoutMs: 200, retries: 0 }).get('/slow-body'));
    assert.ok(err instanceof UpstreamUnavailableError);
    assert.equal(err.reason, 'timeout');
  });

  test('a per-request timeout overrides the client default, and timeouts are retried for GETs', async (t) => {
    routes.set('/hang', () => {});
    const err = await rejection(client(t, { timeoutMs: 5_000, retries: 1 }).get('/hang', { timeoutMs: 100 }));
    assert.ok(err instanceof UpstreamUnavailableError);
    assert.equal(err.reason, 'timeout');
    assert.equal(hitsOf('/hang').length, 2);
  });

  test('connection refused is UpstreamUnavailableError "connection", convertible to a 503', async (t) => {
    const port = await closedPort();
    const c = client(t, { baseUrl: `http://127.0.0.1:${port}`, retries: 1 });
    const err = await rejection(c.get('/stock/1'));
    assert.ok(err instanceof UpstreamUnavailableError);
    assert.equal(err.reason, 'connection');
    const problem = err.toProblem();
    assert.ok(problem instanceof ProblemError);
    assert.equal(problem.status, 503);
    assert.equal(problem.detail, 'The inventory service is unavailable; try again shortly.');
    assert.equal(problem.type, 'urn:folio:problem:unavailable');
  });

  test('connections are kept alive between calls', async (t) => {
    routes.set('/ping', script({ status: 200 }));
    const c = client(t);
    for (let i = 0; i < 6; i++) await c.get('/ping');
    const ports = new Set(hitsOf('/ping').map((h) => h.remotePort));
    // undici's pool may warm a second socket while the first drains, but sockets are reused, not opened per call.
    assert.ok(ports.size <= 2, `${ports.size} connections for 6 sequential calls`);
  });

  test('the caller giving up aborts the call with its own reason', async (t) => {
    routes.set('/hang', () => {});
    const reason = new Error('client went away');
    const controller = new AbortController();
    setTimeout(() => controller.abort(reason), 50);
    const err = await rejection(client(t, { timeoutMs: 2_000 }).get('/hang', { signal: controller.signal }));
    assert.equal(err, reason);
    assert.equal(hitsOf('/hang').length, 1);
  });
});

describe('http client: requests', () => {
  test('correlation and request ids from the work context arrive as headers', async (t) => {
    routes.set('/echo', script({ status: 200 }));
    const c = client(t);
    await runWithContext({ correlationId: 'corr-123', requestId: 'req-9' }, () => c.get('/echo'));
    const [first] = hitsOf('/echo');
    assert.equal(first?.headers['x-correlation-id'], 'corr-123');
    assert.equal(first?.headers['x-request-id'], 'req-9');
    assert.match(String(first?.headers.accept), /application\/json/);
    await c.get('/echo');
    const second = hitsOf('/echo')[1];
    assert.match(String(second?.headers['x-correlation-id']), /^[0-9a-f-]{36}$/, 'work outside a context gets a fresh correlation id');
    assert.equal(second?.headers['x-request-id'], undefined);
  });

  test('the same correlation id is sent on every retry', async (t) => {
    routes.set('/flaky', script({ status: 503 }, { status: 200 }));
    const c = client(t);
    await c.get('/flaky');
    const [a, b] = hitsOf('/flaky');
    assert.ok(a?.headers['x-correlation-id']);
    assert.equal(a?.headers['x-correlation-id'], b?.headers['x-correlation-id']);
  });

  test('base path prefix, query parameters, custom headers and non-JSON answers', async (t) => {
    routes.set('/api/v1/items', (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('plain text'));
    routes.set('/api/v1/empty', (_req, res) => res.writeHead(204).end());
    const c = client(t, { baseUrl: `${baseUrl}/api/v1/` });
    const res = await c.get<string>('/items', { query: { isbn: '978 0', limit: 5, inStock: true, skip: undefined }, headers: { 'X-Extra': 'yes' } });
    assert.equal(res.body, 'plain text');
    const [hit] = hitsOf('/api/v1/items');
    assert.equal(hit?.url, '/api/v1/items?isbn=978+0&limit=5&inStock=true');
    assert.equal(hit?.headers['x-extra'], 'yes');
    const empty = await c.delete('/empty');
    assert.equal(empty.status, 204);
    assert.equal(empty.body, undefined);
  });
});

describe('http client: circuit breaker', () => {
  test('opens after repeated failures, fails fast, half-opens after resetTimeoutMs and closes on success', async (t) => {
    let healthy = false;
    routes.set('/stock', (_req, res) => (healthy ? json(res, 200, { ok: true }) : json(res, 500, { oops: true })));
    const { log, lines } = capture();
    const metrics = new Registry();
    const c = client(t, { retries: 0, log, metrics, breaker: { volumeThreshold: 3, failureThreshold: 50, resetTimeoutMs: 300 } });

    for (let i = 0; i < 3; i++) assert.ok((await rejection(c.get('/stock'))) instanceof UpstreamError);
    assert.equal(c.breakerOpen, true);
    assert.equal(hitsOf('/stock').length, 3);
    const opened = lines.find((l) => l.level === 50);
    assert.match(String(opened?.msg), /circuit breaker to inventory OPENED/);
    assert.match(await metrics.getSingleMetricAsString('folio_http_client_breaker_open'), /folio_http_client_breaker_open\{upstream="inventory"\} 1/);

    const started = performance.now();
    const fast = await rejection(c.get('/stock'));
    assert.ok(performance.now() - started < 50, 'fails fast');
    assert.ok(fast instanceof UpstreamUnavailableError);
    assert.equal(fast.reason, 'circuit-open');
    assert.equal(fast.toProblem().status, 503);
    assert.equal(hitsOf('/stock').length, 3, 'the network was not touched');

    healthy = true;
    await new Promise((r) => setTimeout(r, 350));
    const res = await c.get('/stock');
    assert.equal(res.status, 200);
    assert.equal(hitsOf('/stock').length, 4);
    assert.equal(c.breakerOpen, false);
    assert.ok(lines.some((l) => l.level === 30 && /closed/.test(l.msg)));
    assert.match(await metrics.getSingleMetricAsString('folio_http_client_breaker_open'), /\{upstream="inventory"\} 0/);
    const requests = await metrics.getSingleMetricAsString('folio_http_client_requests_total');
    assert.match(requests, /\{upstream="inventory",method="GET",outcome="server-error"\} 3/);
    assert.match(requests, /\{upstream="inventory",method="GET",outcome="circuit-open"\} 1/);
    assert.match(requests, /\{upstream="inventory",method="GET",outcome="success"\} 1/);
  });

  test('a failed trial request in half-open state opens the breaker again', async (t) => {
    routes.set('/down', script({ status: 503 }));
    const c = client(t, { retries: 0, breaker: { volumeThreshold: 2, resetTimeoutMs: 100 } });
    await rejection(c.get('/down'));
    await rejection(c.get('/down'));
    assert.equal(c.breakerOpen, true);
    await new Promise((r) => setTimeout(r, 150));
    const trial = await rejection(c.get('/down'));
    assert.ok(trial instanceof UpstreamUnavailableError && trial.reason === 'server-error');
    const again = await rejection(c.get('/down'));
    assert.ok(again instanceof UpstreamUnavailableError && again.reason === 'circuit-open');
    assert.equal(hitsOf('/down').length, 3);
  });

  test('a dependency that was down and comes back is used again about a second later (default settings)', async (t) => {
    // The dependency "restarts": nothing listens on its port, then a server does.
    const port = await closedPort();
    const { log, lines } = capture();
    const c = client(t, { baseUrl: `http://127.0.0.1:${port}`, retries: 0, log });
    for (let i = 0; i < 10; i++) assert.equal(((await rejection(c.get('/stock'))) as UpstreamUnavailableError).reason, 'connection');
    assert.equal(c.breakerOpen, true);
    const openedAt = performance.now();
    const opened = lines.find((l) => l.level === 50);
    assert.equal(opened?.resetTimeoutMs, 1_000);
    const refused = await rejection(c.get('/stock'));
    assert.ok(refused instanceof UpstreamUnavailableError && refused.reason === 'circuit-open');
    assert.equal(refused.retryAfterSeconds, 1);

    const back = createServer((_req, res) => json(res, 200, { ok: true }));
    await new Promise<void>((resolve) => back.listen(port, '127.0.0.1', resolve));
    t.after(() => {
      back.closeAllConnections();
      back.close();
    });
    // Ask every 50 ms, as callers would, until the breaker lets one through.
    let res: Awaited<ReturnType<HttpClient['get']>> | undefined;
    while (!res && performance.now() - openedAt < 5_000) {
      res = await c.get('/stock').catch((err: unknown) => {
        assert.ok(err instanceof UpstreamUnavailableError && err.reason === 'circuit-open', String(err));
        return undefined;
      });
      if (!res) await new Promise((r) => setTimeout(r, 50));
    }
    const waited = performance.now() - openedAt;
    assert.equal(res?.status, 200);
    assert.ok(waited >= 950 && waited < 1_500, `used again ${Math.round(waited)} ms after the breaker opened`);
    assert.equal(c.breakerOpen, false);
  });

  test('trials that keep failing back off (doubling up to the cap), and a success resets the wait', async (t) => {
    let healthy = false;
    const trials: number[] = [];
    routes.set('/down', (_req, res) => {
      trials.push(performance.now());
      if (healthy) json(res, 200, { ok: true });
      else json(res, 503, { oops: true });
    });
    const { log, lines } = capture();
    const c = client(t, { retries: 0, log, breaker: { volumeThreshold: 2, resetTimeoutMs: 100, maxResetTimeoutMs: 400 } });
    const callUntil = async (hits: number) => {
      while (trials.length < hits) {
        await c.get('/down').catch(() => {});
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    await callUntil(2);
    assert.equal(c.breakerOpen, true);
    await callUntil(6); // four failing trials
    const gaps = trials.slice(1).map((at, i) => at - (trials[i] as number));
    const expected = [100, 200, 400, 400];
    for (const [i, want] of expected.entries()) {
      const gap = gaps[i + 1] as number;
      assert.ok(gap >= want - 5 && gap < want + 90, `trial ${i + 1} came ${Math.round(gap)} ms after the previous, expected ${want}: ${gaps.map(Math.round)}`);
    }
    const waits = () => lines.filter((l) => l.level === 50).map((l) => l.resetTimeoutMs);
    assert.deepEqual(waits(), [100, 200, 400, 400, 400]);

    healthy = true;
    await callUntil(7);
    assert.equal((await c.get('/down')).status, 200);
    assert.equal(c.breakerOpen, false);
    healthy = false;
    while (!c.breakerOpen) await c.get('/down').catch(() => {});
    assert.equal(waits().at(-1), 100, 'a breaker that closed starts again from the shortest wait');
  });

  test('timeouts and connection errors count as failures', async (t) => {
    const port = await closedPort();
    const c = client(t, { baseUrl: `http://127.0.0.1:${port}`, retries: 0, breaker: { volumeThreshold: 2 } });
    await rejection(c.get('/x'));
    await rejection(c.get('/x'));
    const err = await rejection(c.get('/x'));
    assert.ok(err instanceof UpstreamUnavailableError);
    assert.equal(err.reason, 'circuit-open');
  });

  test('4xx answers never trip the breaker', async (t) => {
    routes.set('/nope', script({ status: 404 }));
    const c = client(t, { retries: 0, breaker: { volumeThreshold: 2, failureThreshold: 1 } });
    for (let i = 0; i < 10; i++) {
      const err = await rejection(c.get('/nope'));
      assert.ok(err instanceof UpstreamError && err.status === 404);
    }
    assert.equal(c.breakerOpen, false);
    assert.equal(hitsOf('/nope').length, 10);
  });

  test('breaker: false disables it', async (t) => {
    routes.set('/down', script({ status: 500 }));
    const c = client(t, { retries: 0, breaker: false });
    for (let i = 0; i < 15; i++) await rejection(c.get('/down'));
    assert.equal(hitsOf('/down').length, 15);
  });

  test('clients sharing a metrics registry do not clash', async (t) => {
    const metrics = new Registry();
    client(t, { name: 'inventory', metrics });
    client(t, { name: 'payments', metrics });
    assert.match(await metrics.getSingleMetricAsString('folio_http_client_breaker_open'), /upstream="payments"\} 0/);
  });
});

describe('http client: bad answers', () => {
  test('a 2xx whose JSON is broken is an UpstreamError, not a success', async (t) => {
    routes.set('/broken', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"nope'));
    const err = await rejection(client(t).get('/broken'));
    assert.ok(err instanceof UpstreamError);
    assert.equal(err.status, 200);
    assert.match(err.message, /not valid JSON/);
  });
});
