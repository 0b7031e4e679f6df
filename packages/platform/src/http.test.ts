import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Readable, Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { pino } from 'pino';
import { Type } from 'typebox';
import { currentContext } from './context.ts';
import { type App, createServer, listen, markNotReady, type ReadinessCheck } from './http.ts';
import { createLogger, type Logger } from './log.ts';
import { PROBLEM_CONTENT_TYPE, ProblemError, problems } from './problem.ts';

/** A real createLogger() logger (with its correlation mixin) whose lines are kept in memory instead of written to stdout. */
function capturedLogger(name: string): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({ name, level: 'debug' });
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      callback();
    },
  });
  // pino keeps its destination under this symbol; children made later share it.
  (log as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] = sink;
  return { log, lines };
}

const ItemBody = Type.Object({ productId: Type.String({ minLength: 1 }), quantity: Type.Integer({ minimum: 1, maximum: 99 }) });

const testRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/things/:id/items',
    { schema: { summary: 'Add an item to a thing', params: Type.Object({ id: Type.String() }), body: ItemBody } },
    async (request) => {
      // Across an await and a timer, the work context must still be the request's.
      await sleep(5);
      request.log.info({ productId: request.body.productId }, 'inside handler');
      return { id: request.params.id, ...request.body, context: currentContext() ?? null };
    },
  );
  app.get(
    '/things/:id',
    {
      schema: {
        params: Type.Object({ id: Type.String() }),
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1 })) }),
      },
    },
    async (request) => ({ id: request.params.id, limit: request.query.limit ?? null }),
  );
  app.get('/stream', async (_request, reply) => {
    // Answered from socket events, after the handler has returned.
    const chunks = Readable.from(
      (async function* () {
        for (let i = 0; i < 3; i++) {
          await sleep(10);
          yield `chunk ${i}\n`;
        }
      })(),
    );
    return reply.type('text/plain').send(chunks);
  });
  app.get('/rate-limited', async () => {
    throw problems.tooManyRequests('Slow down.', 30);
  });
  app.get('/conflict', async () => {
    throw new ProblemError(409, 'The cart changed.', { type: 'urn:folio:problem:conflict', extensions: { cartVersion: 7 } });
  });
  app.get('/boom', async () => {
    throw new Error('connection to db-primary.internal:5432 lost (password=hunter2)');
  });
  app.get('/slow', async () => {
    await sleep(150);
    return { done: true, context: currentContext() ?? null };
  });
};

let app: App;
let base: string;
let lines: Array<Record<string, unknown>>;
const checkState = { database: true as boolean };
const checks: ReadinessCheck[] = [
  {
    name: 'database',
    check: async () => {
      if (!checkState.database) throw new Error('connection refused');
    },
  },
  { name: 'broker', check: async () => {} },
];

async function problemOf(res: Response, status: number): Promise<Record<string, unknown>> {
  const text = await res.text();
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${text}`);
  assert.equal(res.headers.get('content-type')?.split(';')[0], PROBLEM_CONTENT_TYPE);
  const body = JSON.parse(text) as Record<string, unknown>;
  assert.equal(body.status, status);
  assert.equal(typeof body.title, 'string');
  assert.equal(typeof body.type, 'string');
  return body;
}

/** The log line matching, waiting a little: a request is logged as completed just after its answer went out. */
async function eventuallyFind(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  for (let i = 0; i < 50; i++) {
    const line = lines.find(match);
    if (line) return line;
    await sleep(10);
  }
  assert.fail('no such log line');
}

const postItem = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  fetch(`${base}/things/t-1/items`, { method: 'POST', headers, body });

before(async () => {
  const captured = capturedLogger('http-test');
  lines = captured.lines;
  app = await createServer({ name: 'testsvc', version: '1.2.3', log: captured.log, readiness: checks });
  // Registered after createServer returned, as services do.
  await app.register(testRoutes);
  base = await listen(app, 0);
});

after(async () => {
  await app.close();
});

describe('validation problems', () => {
  test('quantity below the minimum is named', async () => {
    const res = await postItem(JSON.stringify({ productId: 'p-1', quantity: -1 }));
    const body = await problemOf(res, 400);
    assert.equal(body.type, 'urn:folio:problem:validation');
    assert.equal(body.instance, '/things/t-1/items');
    assert.match(String(body.detail), /body\/quantity must be >= 1/);
    assert.deepEqual(body.errors, [{ field: 'body/quantity', message: 'must be >= 1' }]);
  });

  test('a quantity that is not an integer is named (no coercion of bodies)', async () => {
    const body = await problemOf(await postItem(JSON.stringify({ productId: 'p-1', quantity: 'abc' })), 400);
    assert.match(String(body.detail), /body\/quantity must be integer/);
  });

  test('a missing property is named as required, and every error is listed', async () => {
    const body = await problemOf(await postItem(JSON.stringify({ quantity: 100 })), 400);
    assert.match(String(body.detail), /body\/productId is required/);
    const errors = body.errors as Array<{ field: string; message: string }>;
    assert.deepEqual(
      errors.map((e) => e.field),
      ['body/productId', 'body/quantity'],
    );
    assert.equal(errors[0]?.message, 'is required');
    assert.match(errors[1]?.message ?? '', /<= 99/);
  });

  test('querystring values are coerced, and named when they cannot be', async () => {
    const ok = await fetch(`${base}/things/t-9?limit=5`);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { id: 't-9', limit: 5 });
    const body = await problemOf(await fetch(`${base}/things/t-9?limit=lots`), 400);
    assert.match(String(body.detail), /querystring\/limit must be integer/);
    assert.equal(body.instance, '/things/t-9');
  });

  test('router errors (a path parameter too long, a badly encoded URL) are problems too', async () => {
    const tooLong = await problemOf(await fetch(`${base}/things/${'a'.repeat(150)}`), 414);
    assert.equal(tooLong.detail, 'A path parameter is too long.');
    const badUrl = await problemOf(await fetch(`${base}/things/%E0%A4%A`), 400);
    assert.equal(badUrl.detail, 'The URL is not validly percent-encoded.');
  });

  test('querystring values are never converted lossily: 1.5, true, 0x10 and 1e3 are refused, not turned into integers', async () => {
    for (const limit of ['1.5', 'true', '0x10', '1e3', ' 5', '05']) {
      const body = await problemOf(await fetch(`${base}/things/t-9?limit=${encodeURIComponent(limit)}`), 400);
      assert.match(String(body.detail), /querystring\/limit must be integer/, `limit=${limit}`);
    }
  });

  test('a valid body reaches the handler', async () => {
    const res = await postItem(JSON.stringify({ productId: 'p-1', quantity: 2 }));
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.quantity, 2);
  });
});

describe('request problems', () => {
  test('malformed JSON is a 400 saying so', async () => {
    const body = await problemOf(await postItem('{"productId": "p-1", "quantity": '), 400);
    assert.equal(body.detail, 'request body is not valid JSON');
  });

  test('a body over the limit is a 413', async () => {
    const big = JSON.stringify({ productId: 'x'.repeat(70 * 1024), quantity: 1 });
    const body = await problemOf(await postItem(big), 413);
    assert.match(String(body.detail), /65536 bytes/);
  });

  test('an unsupported content type is a 415', async () => {
    const body = await problemOf(await postItem('productId=p-1&quantity=1', { 'content-type': 'application/x-www-form-urlencoded' }), 415);
    assert.match(String(body.detail), /application\/x-www-form-urlencoded/);
    // text/plain is not accepted either (it would otherwise reach handlers as a string).
    await problemOf(await postItem('hello', { 'content-type': 'text/plain' }), 415);
  });

  test('an unknown route is a 404 problem naming method and path', async () => {
    const body = await problemOf(await fetch(`${base}/nowhere/at-all?x=1`, { method: 'DELETE' }), 404);
    assert.match(String(body.detail), /DELETE \/nowhere\/at-all/);
    assert.equal(body.instance, '/nowhere/at-all');
  });
});

describe('errors thrown by handlers', () => {
  test('a ProblemError keeps its status, headers and extensions', async () => {
    const res = await fetch(`${base}/rate-limited`);
    const body = await problemOf(res, 429);
    assert.equal(res.headers.get('retry-after'), '30');
    assert.equal(body.type, 'urn:folio:problem:rate-limited');
    assert.equal(body.detail, 'Slow down.');
    assert.equal(body.instance, '/rate-limited');

    const conflict = await problemOf(await fetch(`${base}/conflict`), 409);
    assert.equal(conflict.cartVersion, 7);
  });

  test('any other error is an opaque 500, logged with its stack', async () => {
    const res = await fetch(`${base}/boom`, { headers: { 'x-request-id': 'req-boom-1' } });
    const text = await res.clone().text();
    const body = await problemOf(res, 500);
    assert.equal(body.detail, 'An unexpected error occurred; it has been logged (request id req-boom-1).');
    assert.doesNotMatch(text, /db-primary|hunter2|stack|at .*\.ts/);
    const logged = await eventuallyFind((l) => l.requestId === 'req-boom-1' && l.level === 50);
    assert.ok(logged, 'the error was logged at error level');
    const err = logged.err as { message: string; stack: string };
    assert.match(err.message, /db-primary/);
    assert.match(err.stack, /http\.test\.ts/);
    assert.equal(logged.correlationId, 'req-boom-1');
  });
});

describe('request and correlation ids', () => {
  test('sane ids are honoured, echoed, and seen by the handler and its logs', async () => {
    const res = await postItem(JSON.stringify({ productId: 'p-ctx', quantity: 3 }), {
      'content-type': 'application/json',
      'x-request-id': 'req-123',
      'x-correlation-id': 'corr-abc.9',
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-request-id'), 'req-123');
    assert.equal(res.headers.get('x-correlation-id'), 'corr-abc.9');
    const body = (await res.json()) as { context: unknown };
    assert.deepEqual(body.context, { correlationId: 'corr-abc.9', requestId: 'req-123' });
    const line = lines.find((l) => l.msg === 'inside handler' && l.productId === 'p-ctx');
    assert.ok(line, 'the handler logged');
    assert.equal(line.correlationId, 'corr-abc.9');
    assert.equal(line.requestId, 'req-123');
    assert.equal(line.service, 'http-test');
    const completed = await eventuallyFind((l) => l.msg === 'request completed' && l.requestId === 'req-123');
    assert.ok(completed, 'the request was logged when answered');
    assert.equal(completed.correlationId, 'corr-abc.9');
    assert.equal(completed.route, '/things/:id/items');
  });

  test('the context survives a body that arrives in pieces', async () => {
    // Later body chunks are read in the socket's async context, not the request's: the server must restore it.
    const { status, headers, body } = await new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = httpRequest(`${base}/things/t-2/items`, {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'x-correlation-id': 'corr-chunked', 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      });
      req.on('error', reject);
      req.write('{"productId": "p-chunked",');
      setTimeout(() => req.end(' "quantity": 4}'), 50);
    });
    assert.equal(status, 200, body);
    assert.equal(headers['x-correlation-id'], 'corr-chunked');
    const requestId = headers['x-request-id'];
    assert.deepEqual((JSON.parse(body) as { context: unknown }).context, { correlationId: 'corr-chunked', requestId });
    const line = lines.find((l) => l.msg === 'inside handler' && l.productId === 'p-chunked');
    assert.equal(line?.correlationId, 'corr-chunked');
  });

  test('the completion log line of a streamed answer carries the ids', async () => {
    const res = await fetch(`${base}/stream`, { headers: { 'x-correlation-id': 'corr-stream', 'x-request-id': 'req-stream' } });
    assert.equal(await res.text(), 'chunk 0\nchunk 1\nchunk 2\n');
    const completed = await eventuallyFind((l) => l.msg === 'request completed' && l.route === '/stream');
    assert.equal(completed.requestId, 'req-stream');
    assert.equal(completed.correlationId, 'corr-stream');
  });

  test('without a correlation id, the request id is the correlation id', async () => {
    const res = await fetch(`${base}/health`, { headers: { 'x-request-id': 'only-request' } });
    assert.equal(res.headers.get('x-request-id'), 'only-request');
    assert.equal(res.headers.get('x-correlation-id'), 'only-request');
  });

  test('insane ids are replaced, also on error answers', async () => {
    const res = await fetch(`${base}/nowhere`, {
      headers: { 'x-request-id': 'has spaces in it', 'x-correlation-id': `${'a'.repeat(200)}` },
    });
    await problemOf(res, 404);
    const requestId = res.headers.get('x-request-id') ?? '';
    assert.match(requestId, /^[0-9a-f-]{36}$/);
    assert.equal(res.headers.get('x-correlation-id'), requestId);

    // A header value cannot carry a raw newline through fetch, but an encoded one must not pass either.
    const res2 = await fetch(`${base}/health`, { headers: { 'x-correlation-id': 'evil%0d%0ainjected', 'x-request-id': 'a\tb' } });
    assert.notEqual(res2.headers.get('x-correlation-id'), 'evil%0d%0ainjected');
    assert.match(res2.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  test('concurrent slow requests each keep their own context', async () => {
    const ids = ['c-1', 'c-2', 'c-3', 'c-4'];
    const bodies = await Promise.all(ids.map(async (id) => (await fetch(`${base}/slow`, { headers: { 'x-correlation-id': id } })).json()));
    assert.deepEqual(
      bodies.map((b) => (b as { context: { correlationId: string } }).context.correlationId),
      ids,
    );
  });

  test('each request gets its own id', async () => {
    const [a, b] = await Promise.all([fetch(`${base}/health`), fetch(`${base}/health`)]);
    assert.notEqual(a.headers.get('x-request-id'), b.headers.get('x-request-id'));
  });
});

describe('probes', () => {
  test('/health is 200 without checking dependencies', async () => {
    checkState.database = false;
    try {
      const res = await fetch(`${base}/health`);
      assert.equal(res.status, 200);
      const body = (await res.json()) as Record<string, unknown>;
      assert.equal(body.status, 'ok');
      assert.equal(body.service, 'testsvc');
      assert.equal(typeof body.uptimeSeconds, 'number');
    } finally {
      checkState.database = true;
    }
  });

  test('/ready is 200 when every check passes, 503 naming the failed one otherwise', async () => {
    const ok = await fetch(`${base}/ready`);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { status: 'ready', checks: { database: 'ok', broker: 'ok' } });

    checkState.database = false;
    try {
      const body = await problemOf(await fetch(`${base}/ready`), 503);
      const reported = body.checks as Record<string, string>;
      assert.equal(reported.broker, 'ok');
      assert.match(reported.database ?? '', /connection refused/);
      assert.match(String(body.detail), /database/);
    } finally {
      checkState.database = true;
    }
  });

  test('/ready times a hanging check out after 2 s', async () => {
    const { log } = capturedLogger('hang-test');
    const hanging = await createServer({
      name: 'hang',
      log,
      docs: false,
      readiness: [
        { name: 'broker', check: () => new Promise<void>(() => {}) },
        { name: 'database', check: async () => {} },
      ],
    });
    try {
      const url = await listen(hanging, 0);
      const started = Date.now();
      const body = await problemOf(await fetch(`${url}/ready`), 503);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 1900 && elapsed < 4000, `answered after ${elapsed} ms`);
      assert.deepEqual(body.checks, { broker: 'failed: timed out after 2000 ms', database: 'ok' });
    } finally {
      await hanging.close();
    }
  });

  test('/ready is 503 once marked not ready or while isClosing() says so, without running the checks', async () => {
    let closing = false;
    let checked = 0;
    const { log } = capturedLogger('closing-test');
    const server = await createServer({
      name: 'closing',
      log,
      docs: false,
      isClosing: () => closing,
      readiness: [{ name: 'database', check: async () => void checked++ }],
    });
    try {
      const url = await listen(server, 0);
      assert.equal((await fetch(`${url}/ready`)).status, 200);
      closing = true;
      const body = await problemOf(await fetch(`${url}/ready`), 503);
      assert.match(String(body.detail), /shutting down/);
      closing = false;
      assert.equal((await fetch(`${url}/ready`)).status, 200);
      markNotReady(server, 'draining for a deploy');
      assert.equal((await problemOf(await fetch(`${url}/ready`), 503)).detail, 'draining for a deploy');
      assert.equal(checked, 2);
      assert.equal((await fetch(`${url}/health`)).status, 200);
    } finally {
      await server.close();
    }
  });

  test('/metrics has the request duration histogram by route pattern, without itself', async () => {
    await fetch(`${base}/things/abc?limit=2`);
    await fetch(`${base}/things/def`);
    await fetch(`${base}/no/such/route`);
    await fetch(`${base}/metrics`);
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.match(text, /# TYPE http_request_duration_seconds histogram/);
    const count = (route: string, status: string) =>
      new RegExp(
        `http_request_duration_seconds_count\\{[^}]*method="GET",route="${route.replace(/[/:<>]/g, '\\$&')}",status_code="${status}"[^}]*\\} (\\d+)`,
      ).exec(text);
    const things = count('/things/:id', '200');
    assert.ok(things, 'a series for the /things/:id pattern');
    assert.ok(Number(things[1]) >= 2);
    assert.ok(count('<unmatched>', '404'), 'a series for unmatched routes');
    assert.doesNotMatch(text, /route="\/things\/abc"/);
    assert.doesNotMatch(text, /route="\/metrics"/);
    assert.match(text, /service="testsvc"/);
    assert.match(text, /process_cpu_user_seconds_total/);
  });
});

describe('OpenAPI', () => {
  test('/openapi.json is an OpenAPI 3.1.0 document with the routes and their schemas, without the probes', async () => {
    const res = await fetch(`${base}/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as {
      openapi: string;
      info: { title: string; version: string };
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Record<string, unknown> }> } }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(doc.info, { title: 'Folio testsvc service', version: '1.2.3' });
    assert.deepEqual(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    const post = doc.paths['/things/{id}/items']?.post;
    assert.ok(post, `the test route is documented; paths: ${Object.keys(doc.paths).join(', ')}`);
    const schema = post.requestBody?.content['application/json']?.schema as {
      required: string[];
      properties: Record<string, Record<string, unknown>>;
    };
    assert.deepEqual([...schema.required].sort(), ['productId', 'quantity']);
    assert.equal(schema.properties.quantity?.type, 'integer');
    assert.equal(schema.properties.quantity?.minimum, 1);
    assert.equal(schema.properties.quantity?.maximum, 99);
    assert.equal(schema.properties.productId?.minLength, 1);
    for (const hidden of ['/health', '/ready', '/metrics', '/openapi.json']) assert.equal(doc.paths[hidden], undefined, `${hidden} is hidden`);
    assert.ok(!Object.keys(doc.paths).some((p) => p.startsWith('/docs')), 'the Swagger UI routes are hidden');
  });

  test('/docs serves the Swagger UI', async () => {
    const res = await fetch(`${base}/docs`, { redirect: 'follow' });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await res.text(), /swagger/i);
  });

  test('with docs: false there is no Swagger UI, but /openapi.json remains', async () => {
    const { log } = capturedLogger('nodocs');
    const bare = await createServer({ name: 'bare', log, docs: false });
    try {
      const url = await listen(bare, 0);
      await problemOf(await fetch(`${url}/docs`), 404);
      const res = await fetch(`${url}/openapi.json`);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { openapi: string }).openapi, '3.1.0');
    } finally {
      await bare.close();
    }
  });
});
