/**
 * `npm start` as a newcomer runs it: a real child process on an embedded PostgreSQL.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually } from '@folio/platform/testing';
import pg from 'pg';
import { freePort } from './lib/ports.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

test('npm start brings /health up, and data written before a restart is still there after it', { timeout: 180_000 }, async () => {
  const dataDir = `.data/test-start-${randomBytes(3).toString('hex')}`;
  const [port, pgPort] = await Promise.all([freePort(), freePort()]);
  const env = { ...process.env, PORT: String(port), FOLIO_DATA_DIR: dataDir, FOLIO_EMBEDDED_PG_PORT: String(pgPort), LOG_LEVEL: 'warn' };
  const start = () => spawn('npm', ['start'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const stop = async (child: ChildProcess) => {
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    process.kill(-child.pid!, 'SIGTERM'); // npm and its node child, as Ctrl-C would
    return exited;
  };
  const health = () =>
    eventually(
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/health`);
        return res.ok && ((await res.json()) as { status: string });
      },
      { timeoutMs: 90_000, what: '/health' },
    );

  try {
    const first = start();
    assert.equal((await health()).status, 'ok');
    const db = new pg.Client({ connectionString: `postgres://postgres:postgres@127.0.0.1:${pgPort}/postgres` });
    await db.connect();
    await db.query('CREATE TABLE kept (note text)');
    await db.query("INSERT INTO kept VALUES ('written before the restart')");
    await db.end();
    await stop(first);

    const second = start();
    assert.equal((await health()).status, 'ok');
    const again = new pg.Client({ connectionString: `postgres://postgres:postgres@127.0.0.1:${pgPort}/postgres` });
    await again.connect();
    const { rows } = await again.query('SELECT note FROM kept');
    await again.end();
    assert.deepEqual(rows, [{ note: 'written before the restart' }]);
    await stop(second);
  } finally {
    await rm(`${root}/${dataDir}`, { recursive: true, force: true });
  }
});
