/**
 * `npm test`: finds the infrastructure once, then runs every *.test.ts with node's test runner.
 *
 * - PostgreSQL: PG_ADMIN_URL (default the local server on 5432); if it is not there, an
 *   embedded PostgreSQL is started so a fresh machine still runs the database suites.
 * - Redis (REDIS_URL) and Kafka (KAFKA_BROKERS): suites that need them are skipped, and
 *   the skip is announced loudly at the start and at the end.
 * - FOLIO_REQUIRE_INFRA=1 (CI) turns every missing dependency into a failure instead.
 *
 * Extra arguments are passed to `node --test` (e.g. a file to run just that suite).
 */
import { spawn } from 'node:child_process';
import { startEmbeddedPostgres } from '@folio/platform/embedded-postgres';
import { Admin } from '@platformatic/kafka';
import { Redis } from 'ioredis';
import pg from 'pg';

const requireInfra = process.env.FOLIO_REQUIRE_INFRA === '1';
const pgUrl = process.env.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const kafkaBrokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

async function probePostgres(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

async function probeRedis(url: string): Promise<string | undefined> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 1500, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    redis.disconnect();
  }
}

async function probeKafka(brokers: string[]): Promise<string | undefined> {
  const admin = new Admin({ clientId: 'folio-test-probe', bootstrapBrokers: brokers, timeout: 3000, retries: 0 });
  try {
    await admin.metadata({ topics: [] });
    return undefined;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    await admin.close().catch(() => {});
  }
}

const missing: string[] = [];
const env: Record<string, string> = { ...(process.env as Record<string, string>) };
let embedded: { stop(): Promise<void> } | undefined;

const pgProblem = await probePostgres(pgUrl);
if (!pgProblem) {
  env.FOLIO_TEST_PG_URL = pgUrl;
} else if (requireInfra) {
  missing.push(`PostgreSQL at ${new URL(pgUrl).host}: ${pgProblem}`);
} else {
  console.log(`test: no PostgreSQL at ${new URL(pgUrl).host} (${pgProblem}); starting an embedded one`);
  const handle = await startEmbeddedPostgres({ dataDir: '.data/test-postgres', port: Number(process.env.FOLIO_TEST_EMBEDDED_PG_PORT ?? 54330) });
  embedded = handle;
  env.FOLIO_TEST_PG_URL = handle.url;
}

const skipped: string[] = [];
const redisProblem = await probeRedis(redisUrl);
if (!redisProblem) env.FOLIO_TEST_REDIS = redisUrl;
else (requireInfra ? missing : skipped).push(`Redis at ${redisUrl}: ${redisProblem}`);

const kafkaProblem = await probeKafka(kafkaBrokers);
if (!kafkaProblem) env.FOLIO_TEST_KAFKA = kafkaBrokers.join(',');
else (requireInfra ? missing : skipped).push(`Kafka at ${kafkaBrokers.join(',')}: ${kafkaProblem}`);

if (missing.length > 0) {
  console.error(`test: FOLIO_REQUIRE_INFRA=1 and these are missing:\n${missing.map((m) => `  - ${m}`).join('\n')}\nStart them with \`npm run infra:up\`.`);
  await embedded?.stop();
  process.exit(1);
}

const banner = (lines: string[]) =>
  lines.length === 0
    ? ''
    : `\n${'!'.repeat(78)}\n! SUITES SKIPPED — these dependencies were not found, so the tests needing them did not run:\n${lines
        .map((l) => `!   ${l}`)
        .join('\n')}\n! Run \`npm run infra:up\` first to run everything (CI sets FOLIO_REQUIRE_INFRA=1).\n${'!'.repeat(78)}\n`;
if (skipped.length > 0) console.log(banner(skipped));

const patterns = ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'scripts/**/*.test.ts', 'payment-gateway-simulator/src/**/*.test.ts'];
const args = process.argv.slice(2);
// One file at a time: the end-to-end suites each start up to eight processes and are sized for this
// 2-core machine on their own; two at once starve each other into timeouts.
const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=300000', ...(args.length > 0 ? args : patterns)], {
  stdio: 'inherit',
  env,
});
const code: number = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
await embedded?.stop();
if (skipped.length > 0) console.log(banner(skipped));
process.exit(code);
