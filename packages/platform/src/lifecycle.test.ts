import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { closeWithLifecycle, createServer, listen } from './http.ts';
import { Lifecycle } from './lifecycle.ts';

function memoryLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

/** One GET on a fresh connection (no pooled keep-alive socket), so a closed listener shows as ECONNREFUSED. */
function freshGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpGet(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('Lifecycle.close', () => {
  test('runs closers in reverse registration order', async () => {
    const { log } = memoryLogger();
    const lifecycle = new Lifecycle(log);
    const ran: string[] = [];
    lifecycle.onClose('database', async () => {
      await sleep(5);
      ran.push('database');
    });
    lifecycle.onClose('broker', () => {
      ran.push('broker');
    });
    lifecycle.onClose('http', async () => {
      await sleep(5);
      ran.push('http');
    });
    assert.equal(lifecycle.closing, false);
    const closed = lifecycle.close('test');
    assert.equal(lifecycle.closing, true);
    await closed;
    assert.deepEqual(ran, ['http', 'broker', 'database']);
    assert.equal(lifecycle.failed, false);
  });

  test('a failing closer is logged, does not stop the others, and close() still resolves', async () => {
    const { log, lines } = memoryLogger();
    const lifecycle = new Lifecycle(log);
    const ran: string[] = [];
    lifecycle.onClose('first', () => {
      ran.push('first');
    });
    lifecycle.onClose('rejects', async () => {
      throw new Error('pool already ended');
    });
    lifecycle.onClose('throws synchronously', () => {
      throw new Error('boom');
    });
    lifecycle.onClose('last', () => {
      ran.push('last');
    });
    await lifecycle.close();
    assert.deepEqual(ran, ['last', 'first']);
    assert.equal(lifecycle.failed, true);
    const errors = lines.filter((l) => l.level === 50);
    assert.deepEqual(errors.map((l) => l.closer).sort(), ['rejects', 'throws synchronously']);
    const rejected = errors.find((l) => l.closer === 'rejects')?.err as { message: string } | undefined;
    assert.match(String(rejected?.message), /pool already ended/);
  });

  test('a hanging closer is cut off by the timeout and the rest still run', async () => {
    const { log, lines } = memoryLogger();
    const lifecycle = new Lifecycle(log, { closerTimeoutMs: 150 });
    const ran: string[] = [];
    lifecycle.onClose('after', () => {
      ran.push('after');
    });
    lifecycle.onClose('hangs', () => new Promise<void>(() => {}));
    const started = Date.now();
    await lifecycle.close();
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 140 && elapsed < 1000, `close took ${elapsed} ms`);
    assert.deepEqual(ran, ['after']);
    assert.equal(lifecycle.failed, true);
    const line = lines.find((l) => l.closer === 'hangs' && l.level === 50);
    assert.match(String((line?.err as { message: string } | undefined)?.message), /did not finish within 150 ms/);
  });

  test('close() is idempotent: closers run once, every caller waits for the same end', async () => {
    const { log } = memoryLogger();
    const lifecycle = new Lifecycle(log);
    let runs = 0;
    let finished = false;
    lifecycle.onClose('slow', async () => {
      runs++;
      await sleep(50);
      finished = true;
    });
    const a = lifecycle.close('first');
    const b = lifecycle.close('second');
    assert.equal(a, b);
    await b;
    assert.equal(finished, true);
    await lifecycle.close('third');
    assert.equal(runs, 1);
  });
});

describe('closeWithLifecycle', () => {
  test('a slow request in flight completes; /ready turns 503 first; new connections are refused', async () => {
    const { log } = memoryLogger();
    const app = await createServer({ name: 'drain', log, docs: false });
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => {
      entered = resolve;
    });
    app.get('/slow', async () => {
      entered();
      await sleep(400);
      return { done: true };
    });
    const base = await listen(app, 0);

    const lifecycle = new Lifecycle(log);
    closeWithLifecycle(app, lifecycle);
    // Registered after the server, so it runs before the server closes: the load balancer's grace period.
    let readyDuringGrace: { status: number; body: string } | undefined;
    lifecycle.onClose('grace period', async () => {
      readyDuringGrace = await freshGet(`${base}/ready`);
    });

    assert.equal((await freshGet(`${base}/ready`)).status, 200);
    const slow = fetch(`${base}/slow`);
    await inHandler;
    const closeStarted = Date.now();
    const closing = lifecycle.close('test');

    // While the server drains, it no longer accepts connections.
    await sleep(50);
    await assert.rejects(freshGet(`${base}/ready`), { code: 'ECONNREFUSED' });

    const res = await slow;
    assert.equal(res.status, 200);
    // The client is told not to reuse the connection, which lets close() finish at once.
    assert.equal(res.headers.get('connection'), 'close');
    assert.deepEqual(await res.json(), { done: true });
    await closing;
    assert.equal(lifecycle.failed, false);
    // The answered connection was closed too, rather than kept alive until its timeout.
    assert.ok(Date.now() - closeStarted < 2000, `close took ${Date.now() - closeStarted} ms`);

    assert.equal(readyDuringGrace?.status, 503);
    const problem = JSON.parse(readyDuringGrace?.body ?? '{}') as Record<string, unknown>;
    assert.equal(problem.status, 503);
    assert.match(String(problem.detail), /shutting down/);

    await assert.rejects(freshGet(`${base}/ready`), { code: 'ECONNREFUSED' });
  });
});

describe('installSignalHandlers', () => {
  const lifecycleUrl = pathToFileURL(join(import.meta.dirname, 'lifecycle.ts')).href;

  /** Runs a small program that installs the handlers, sends it SIGTERM once it says so, and reports how it ended. */
  async function runWithSignal(body: string): Promise<{ code: number | null; stdout: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'folio-lifecycle-'));
    try {
      const file = join(dir, 'main.mjs');
      await writeFile(
        file,
        `import { pino } from ${JSON.stringify(import.meta.resolve('pino'))};
import { Lifecycle } from ${JSON.stringify(lifecycleUrl)};
const lifecycle = new Lifecycle(pino({ level: 'silent' }), { closerTimeoutMs: 200, totalTimeoutMs: 500 });
${body}
lifecycle.installSignalHandlers();
setInterval(() => {}, 1000); // stays up like a server would
console.log('READY');
`,
      );
      const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (c: string) => {
        stdout += c;
        if (c.includes('READY')) child.kill('SIGTERM');
      });
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      return { code, stdout };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  test('SIGTERM closes everything in reverse order and exits 0', async () => {
    const { code, stdout } = await runWithSignal(`
lifecycle.onClose('a', () => console.log('closed a'));
lifecycle.onClose('b', async () => { await new Promise((r) => setTimeout(r, 20)); console.log('closed b'); });`);
    assert.equal(code, 0);
    assert.match(stdout, /closed b\nclosed a\n/);
  });

  test('a failing closer makes the exit code 1', async () => {
    const { code, stdout } = await runWithSignal(`
lifecycle.onClose('a', () => console.log('closed a'));
lifecycle.onClose('b', () => { throw new Error('nope'); });`);
    assert.equal(code, 1);
    assert.match(stdout, /closed a/);
  });

  test('exceeding the total timeout exits 1 without waiting for the closers', async () => {
    const started = Date.now();
    const { code, stdout } = await runWithSignal(`
lifecycle.onClose('never reached', () => console.log('closed last'));
for (const n of [1, 2, 3, 4]) lifecycle.onClose('slow ' + n, () => new Promise((r) => setTimeout(r, 180)));`);
    assert.equal(code, 1);
    assert.doesNotMatch(stdout, /closed last/);
    assert.ok(Date.now() - started < 5000);
  });
});
