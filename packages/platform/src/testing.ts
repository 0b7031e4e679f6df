/**
 * Test helpers shared by every suite. scripts/test.ts probes the infrastructure once and
 * passes what it found in FOLIO_TEST_* variables; suites ask here instead of probing again.
 */
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
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
