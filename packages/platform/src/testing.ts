/**
 * Test helpers shared by every suite. scripts/test.ts probes the infrastructure once and
 * passes what it found in FOLIO_TEST_* variables; suites ask here instead of probing again.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createPool, ensureDatabase, type Pool, withDatabase } from './db.ts';

export const requireInfra = process.env.FOLIO_REQUIRE_INFRA === '1';

function adminUrl(): string {
  const url = process.env.FOLIO_TEST_PG_URL ?? process.env.PG_ADMIN_URL;
  if (!url) throw new Error('no PostgreSQL for tests: run the suite with `npm test`, which finds or starts one');
  return url;
}

export interface TestDatabase {
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

/** A fresh, empty database of its own for one suite, dropped afterwards. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `t_${label
    .replace(/[^a-z0-9]/gi, '_')
    .toLowerCase()
    .slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  const admin = adminUrl();
  await ensureDatabase(admin, name);
  const url = withDatabase(admin, name);
  const pool = createPool(url, { name: `test-${label}`, max: 10 });
  return {
    url,
    pool,
    async drop() {
      await pool.end().catch(() => {});
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => client.end());
    },
  };
}

/** Kafka bootstrap servers when a broker was found, else undefined (the suite is skipped, loudly). */
export function kafkaBrokers(): string[] | undefined {
  const v = process.env.FOLIO_TEST_KAFKA;
  return v ? v.split(',') : undefined;
}

export function redisUrl(): string | undefined {
  return process.env.FOLIO_TEST_REDIS || undefined;
}

/** Skips a test for a missing dependency, or fails it when CI said the dependency is required. */
export function skipUnless(t: TestContext, available: unknown, what: string): boolean {
  if (available) return true;
  const reason = `${what} is not available (start it with \`npm run infra:up\`)`;
  if (requireInfra) throw new Error(`${reason}, and FOLIO_REQUIRE_INFRA=1 makes that a failure`);
  t.skip(reason);
  return false;
}

/** Polls until check() returns a truthy value, or fails with what was last seen. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
  throw new Error(`timed out waiting for ${opts.what ?? 'condition'}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}

const repositoryRoot = new URL('../../../', import.meta.url);
const brokerPidFile = new URL('.data/kafka/kafka.pid', repositoryRoot);

/**
 * Why the Kafka broker cannot be restarted by a test, or undefined when it can: only the broker the
 * project's own `npm run infra:up` started here (its pid file names a live process) is ever stopped.
 */
export function brokerNotRestartable(): string | undefined {
  if (!kafkaBrokers()) return 'no Kafka broker (npm run infra:up)';
  try {
    const pid = Number(readFileSync(brokerPidFile, 'utf8').trim());
    process.kill(pid, 0);
    return undefined;
  } catch {
    return 'the Kafka broker was not started by `npm run infra:up` in this checkout, so a test may not restart it';
  }
}

function infra(command: 'up' | 'down'): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('bash', [fileURLToPath(new URL('infra/infra.sh', repositoryRoot)), command], { timeout: 180_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`infra.sh ${command} failed: ${err.message}\n${stdout}${stderr}`)) : resolve(),
    );
  });
}

/**
 * Stops the broker with the project's own `infra:down` (no wipe), keeps it down at least `downForMs`
 * while `whileDown` runs, then starts it again with `infra:up` and resolves once it accepts clients.
 */
export async function restartBroker(opts: { downForMs?: number; whileDown?: () => Promise<unknown> } = {}): Promise<void> {
  await infra('down');
  try {
    await Promise.all([opts.whileDown?.(), new Promise((r) => setTimeout(r, opts.downForMs ?? 0))]);
  } finally {
    await infra('up');
  }
}
