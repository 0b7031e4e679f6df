import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EmbeddedTransport } from './messaging/embedded-transport.ts';
import { type RunningService, StartupError, startService } from './service.ts';
import { notesService } from './testing/notes-service.ts';
import { createTestDatabase, eventually, kafkaBrokers, requireInfra, type TestDatabase } from './testing.ts';

const brokers = kafkaBrokers();
const notesMain = fileURLToPath(new URL('./testing/notes-main.ts', import.meta.url));
const quiet = { LOG_LEVEL: 'warn' };

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('service');
});
after(() => db.drop());

for (const kind of ['embedded', 'kafka'] as const) {
  describe(`a service on the ${kind} transport`, { skip: kind === 'kafka' && !brokers && !requireInfra ? 'no Kafka broker (npm run infra:up)' : false }, () => {
    let service: RunningService;
    before(async () => {
      const prefix = `svc${randomBytes(3).toString('hex')}`;
      const env = { ...quiet, DATABASE_URL: db.url, ...(kind === 'kafka' ? { KAFKA_BROKERS: brokers?.join(',') ?? 'missing' } : {}) };
      service = await startService(notesService(prefix), { env, ...(kind === 'embedded' ? { transport: new EmbeddedTransport() } : {}) });
    });
    after(() => service.close());

    test('applies its migrations, and a state change and its event travel together to the consumer', async () => {
      const res = await fetch(`${service.url}/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'hello' }),
      });
      assert.equal(res.status, 201);
      const { id } = (await res.json()) as { id: string };
      const note = await eventually(
        async () => {
          const n = (await (await fetch(`${service.url}/notes/${id}`)).json()) as { seen: boolean };
          return n.seen && n;
        },
        { what: 'the consumer to mark the note seen' },
      );
      assert.deepEqual(note, { id, text: 'hello', seen: true });
    });

    test('answers bad input with problem+json naming the field, and is ready with its checks', async () => {
      const bad = await fetch(`${service.url}/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: '' }) });
      assert.equal(bad.status, 400);
      assert.match(bad.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.match(((await bad.json()) as { detail: string }).detail, /text/);
      const missing = await fetch(`${service.url}/notes/${crypto.randomUUID()}`);
      assert.equal(missing.status, 404);
      const ready = (await (await fetch(`${service.url}/ready`)).json()) as { checks: Record<string, string> };
      assert.deepEqual(ready.checks, { database: 'ok', broker: 'ok', outbox: 'ok' });
      const openapi = (await (await fetch(`${service.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
      assert.ok(openapi.paths['/notes'] && openapi.paths['/notes/{id}']);
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      assert.match(metrics, /folio_outbox_published_total\{[^}]*relay="notes"[^}]*\} [1-9]/);
    });
  });
}

describe('start-up refuses bad configuration with a message that names it', () => {
  const startWith = (env: Record<string, string>) => startService(notesService(), { env: { ...quiet, ...env } });

  test('a malformed DATABASE_URL', async () => {
    await assert.rejects(startWith({ DATABASE_URL: 'not a url', KAFKA_BROKERS: '127.0.0.1:9092' }), (err: Error) => {
      assert.ok(err instanceof StartupError);
      assert.match(err.message, /DATABASE_URL: must be a URL like postgres:/);
      return true;
    });
    await assert.rejects(startWith({ DATABASE_URL: 'mysql://db/x' }), /DATABASE_URL: must use postgres: or postgresql: \(found mysql:\)/);
  });

  test('a missing DATABASE_URL and a malformed KAFKA_BROKERS, both named at once', async () => {
    await assert.rejects(startWith({ DATABASE_URL: '', KAFKA_BROKERS: 'kafka' }), (err: Error) => {
      assert.match(err.message, /DATABASE_URL: is required/);
      assert.match(err.message, /KAFKA_BROKERS: "kafka" is not host:port/);
      return true;
    });
  });

  test('an unreachable database', async () => {
    await assert.rejects(
      startWith({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' }),
      /cannot reach PostgreSQL at 127\.0\.0\.1:1\/nowhere.*\(DATABASE_URL\)/,
    );
  });

  test('no broker at all for a service in its own process', async () => {
    await assert.rejects(startWith({ DATABASE_URL: db.url }), /KAFKA_BROKERS is required when a service runs as its own process/);
  });

  test('the process exits 1 and says why on stderr', async () => {
    const child = spawn(process.execPath, [notesMain], {
      env: { ...process.env, ...quiet, DATABASE_URL: 'postgres//oops', KAFKA_BROKERS: '127.0.0.1:9092' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 1);
    assert.match(stderr, /notes cannot start: Invalid configuration:\n {2}- DATABASE_URL: must be a URL/);
  });
});

describe('a service whose broker is unreachable', () => {
  test('starts and serves what it can, keeps its events in the outbox, and says on /ready why it is not ready', async () => {
    const service = await startService(notesService(`unreachable${randomBytes(3).toString('hex')}`), {
      env: { LOG_LEVEL: 'fatal', DATABASE_URL: db.url, KAFKA_BROKERS: '127.0.0.1:1' },
    });
    try {
      const created = await fetch(`${service.url}/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"kept"}' });
      assert.equal(created.status, 201);
      const { id } = (await created.json()) as { id: string };
      assert.equal((await fetch(`${service.url}/health`)).status, 200, 'alive');
      const ready = await eventually(
        async () => {
          const res = await fetch(`${service.url}/ready`);
          const body = (await res.json()) as { checks: Record<string, string> };
          return res.status === 503 && body.checks.outbox !== 'ok' && body;
        },
        { timeoutMs: 30_000, what: '/ready to name the consumer and the outbox' },
      );
      assert.match(ready.checks.broker!, /consumer group notes is not consuming/);
      assert.match(ready.checks.outbox!, /cannot publish/);
      const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE key = $1`, [id]);
      assert.equal(rows[0]!.n, 1, 'the event waits in the outbox');
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      assert.match(metrics, /folio_consumer_up\{[^}]*group="notes"[^}]*\} 0/);
    } finally {
      await service.close();
    }
  });
});

describe('a service process', { skip: !brokers && !requireInfra ? 'no Kafka broker (npm run infra:up)' : false }, () => {
  test('stops on SIGTERM: drains, closes, exits 0', async () => {
    const child = spawn(process.execPath, [notesMain], {
      env: { ...process.env, LOG_LEVEL: 'info', DATABASE_URL: db.url, KAFKA_BROKERS: brokers?.join(',') ?? '', PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    await eventually(() => out.includes('notes service started'), { what: 'the service to start', timeoutMs: 30_000 });
    child.kill('SIGTERM');
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 0);
    assert.match(out, /shutting down|closing|closed/i);
  });
});
