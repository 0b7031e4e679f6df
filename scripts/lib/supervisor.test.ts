/**
 * The supervisor of `npm run start:distributed`, with real child processes: a tiny HTTP server
 * crashed with SIGKILL comes back; a child that dies at once is restarted ever more slowly; a child
 * stopped on purpose stays down.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { describe, type TestContext, test } from 'node:test';
import { freePort } from './ports.ts';
import { type Backoff, Supervised } from './supervisor.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Answers 'up <pid>' on PORT, and says so on stdout. */
const SERVER = `
const port = Number(process.env.PORT);
require('node:http').createServer((_req, res) => res.end('up ' + process.pid)).listen(port, '127.0.0.1', () => console.log('listening on', port));
`;

interface Harness {
  unit: Supervised;
  messages: Array<{ at: number; message: string }>;
  lines: string[];
  restarted: ChildProcess[];
}

function supervise(t: TestContext, script: string, opts: { env?: Record<string, string>; backoff?: Partial<Backoff>; restart?: boolean } = {}): Harness {
  const h: Harness = { messages: [], lines: [], restarted: [] } as unknown as Harness;
  h.unit = new Supervised({
    name: 'tiny',
    command: process.execPath,
    args: ['-e', script],
    env: { ...(process.env as Record<string, string>), ...opts.env },
    output: (line) => h.lines.push(line),
    log: (message) => h.messages.push({ at: performance.now(), message }),
    onRestart: (child) => h.restarted.push(child),
    ...(opts.backoff ? { backoff: opts.backoff } : {}),
    ...(opts.restart !== undefined ? { restart: opts.restart } : {}),
  });
  t.after(() => h.unit.stop('SIGKILL'));
  return h;
}

async function answer(port: number): Promise<string | undefined> {
  return fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1_000) }).then(
    (r) => r.text(),
    () => undefined,
  );
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('supervisor', () => {
  test('a child killed with SIGKILL is logged with its signal, restarted with the same environment, and answers again', async (t) => {
    const port = await freePort();
    const h = supervise(t, SERVER, { env: { PORT: String(port) } });
    const first = h.unit.start();
    const before = await until('the first child to answer', () => answer(port));
    assert.equal(before, `up ${first.pid}`);
    assert.ok(h.lines.includes(`listening on ${port}`), 'its output is piped line by line');

    const killedAt = performance.now();
    process.kill(first.pid!, 'SIGKILL'); // from outside, as the OOM killer or a stray kill -9 would
    const after = await until('the restarted child to answer', async () => {
      const text = await answer(port);
      return text && text !== before ? text : undefined;
    });
    const second = h.restarted[0];
    assert.ok(second, 'a new child was started');
    assert.notEqual(second.pid, first.pid);
    assert.equal(after, `up ${second.pid}`, 'the new child serves on the same port: same environment');
    assert.equal(h.unit.restarts, 1);
    assert.deepEqual(
      h.messages.map((m) => m.message),
      ['tiny exited (code null, signal SIGKILL); restarting in 0.5 s'],
    );
    const restartedAfter = (h.messages[0]?.at ?? 0) - killedAt;
    assert.ok(restartedAfter < 400, `the death was noticed ${Math.round(restartedAfter)} ms after the kill`);
  });

  test('a child that dies at once is restarted after ever longer waits, up to the cap', async (t) => {
    const h = supervise(t, 'process.exit(3)', { backoff: { initialMs: 50, maxMs: 200 } });
    const startedAt = performance.now();
    h.unit.start();
    await until('five deaths', () => h.messages.length >= 5 || undefined);
    assert.deepEqual(
      h.messages.slice(0, 5).map((m) => m.message),
      [0.05, 0.1, 0.2, 0.2, 0.2].map((s) => `tiny exited (code 3, signal null); restarting in ${s} s`),
    );
    // The waits are real: each death follows its restart, which followed the announced wait.
    const deaths = h.messages.map((m) => m.at);
    const gaps = deaths.slice(1, 5).map((at, i) => at - (deaths[i] as number));
    for (const [i, want] of [50, 100, 200, 200].entries()) assert.ok((gaps[i] as number) >= want, `gap ${i}: ${gaps.map(Math.round)}`);
    assert.ok(performance.now() - startedAt >= 550);
  });

  test('a child that stayed up long enough is restarted after the shortest wait again', async (t) => {
    // Lives 150 ms each time; 100 ms counts as "a while" here.
    const h = supervise(t, 'setTimeout(() => process.exit(1), 150)', { backoff: { initialMs: 20, maxMs: 1_000, resetAfterMs: 100 } });
    h.unit.start();
    await until('three deaths', () => h.messages.length >= 3 || undefined);
    for (const { message } of h.messages) assert.equal(message, 'tiny exited (code 1, signal null); restarting in 0.02 s');
  });

  test('stop() restarts nothing: not after SIGTERM, not after a deliberate SIGKILL, not a restart that was waiting', async (t) => {
    const port = await freePort();
    const h = supervise(t, SERVER, { env: { PORT: String(port) }, backoff: { initialMs: 100 } });
    h.unit.start();
    await until('the child to answer', () => answer(port));
    await h.unit.stop();
    assert.equal(h.unit.running, false);
    await sleep(300);
    assert.equal(await answer(port), undefined, 'still down');
    assert.equal(h.unit.restarts, 0);

    h.unit.start();
    await until('the child to answer again', () => answer(port));
    await h.unit.stop('SIGKILL'); // the tests' "crash on purpose"
    await sleep(300);
    assert.equal(await answer(port), undefined);
    assert.equal(h.unit.restarts, 0);
    assert.deepEqual(h.messages, []);

    // Dies unasked, and is stopped while its restart waits.
    const child = h.unit.start();
    await until('the child to answer once more', () => answer(port));
    process.kill(child.pid!, 'SIGKILL');
    await until('the death to be logged', () => h.messages.length === 1 || undefined);
    await h.unit.stop();
    await sleep(300);
    assert.equal(await answer(port), undefined);
    assert.equal(h.unit.restarts, 0);
    assert.equal(h.messages.length, 1);
  });

  test('with supervision off, or switched off before a shutdown, a death is final', async (t) => {
    const port = await freePort();
    const off = supervise(t, SERVER, { env: { PORT: String(port) }, restart: false, backoff: { initialMs: 50 } });
    const child = off.unit.start();
    await until('the child to answer', () => answer(port));
    process.kill(child.pid!, 'SIGKILL');
    await off.unit.exited;
    await sleep(200);
    assert.equal(off.unit.restarts, 0);
    assert.deepEqual(off.messages, []);

    // What DistributedTopology.stop() does before stopping the processes one by one: a child that
    // a Ctrl-C reached directly and that exits first is not started again.
    const on = supervise(t, SERVER, { env: { PORT: String(port) }, backoff: { initialMs: 50 } });
    const next = on.unit.start();
    await until('the second child to answer', () => answer(port));
    on.unit.supervise = false;
    process.kill(next.pid!, 'SIGINT');
    await on.unit.exited;
    await sleep(200);
    assert.equal(on.unit.restarts, 0);
    assert.equal(await answer(port), undefined);
  });
});
