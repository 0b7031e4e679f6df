/**
 * The checkout benchmark (`npm run bench`): the distributed topology (a process per service on real
 * PostgreSQL, Redis and Kafka, the payment gateway simulator as its own program), seeded, driven through
 * the edge by virtual readers who each sign in once and then buy again and again: fill the cart, place the
 * order, pay on the hosted page, wait until the order is paid. Then a flash sale, pgbench for scale, and
 * the consistency audit over every service's database.
 *
 *   npm run bench [-- --seconds 20 --concurrency 1,8,32 --books 200 --flash-buyers 1000 --flash-copies 100]
 *
 * It starts Kafka (infra/infra.sh) when it is not running, and stops it again at the end in that case.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import pg from 'pg';
import { runAudit } from './lib/audit/audit.ts';
import { formatReport } from './lib/audit/report.ts';
import {
  BenchError,
  type CheckoutTiming,
  checkout,
  closedLoop,
  commitsByService,
  cpuSnapshot,
  cpuUsed,
  inBatches,
  payAndSeePaid,
  percentile,
  pgbenchTps,
} from './lib/bench.ts';
import { berlin, type Json, type Reader, startTestTopology, type TestTopology } from './lib/e2e.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '1,8,32' },
    books: { type: 'string', default: '200' },
    'flash-buyers': { type: 'string', default: '1000' },
    'flash-copies': { type: 'string', default: '100' },
    'pgbench-seconds': { type: 'string', default: '15' },
    keep: { type: 'boolean', default: false },
  },
});
const seconds = Number(args.seconds);
const levels = args.concurrency.split(',').map(Number);
const bookCount = Number(args.books);
const flashBuyers = Number(args['flash-buyers']);
const flashCopies = Number(args['flash-copies']);
const pgbenchSeconds = Number(args['pgbench-seconds']);

// A PostgreSQL on this machine is reached through its Unix socket when it has one: cheaper than TCP
// over loopback for the many short round trips of a checkout (measured: about 7 % less CPU per checkout).
const LOCAL_SOCKET_DIR = '/var/run/postgresql';
const pgAdminUrl =
  process.env.PG_ADMIN_URL ??
  (existsSync(`${LOCAL_SOCKET_DIR}/.s.PGSQL.5432`)
    ? `postgres://postgres@localhost/postgres?host=${LOCAL_SOCKET_DIR}`
    : 'postgres://postgres@127.0.0.1:5432/postgres');
const kafka = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const redis = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// The topology helper of the end-to-end suites reads where the infrastructure is from these.
process.env.FOLIO_TEST_PG_URL = pgAdminUrl;
process.env.FOLIO_TEST_KAFKA = kafka;
process.env.FOLIO_TEST_REDIS = redis;

const say = (line: string) => process.stdout.write(`${line}\n`);
const ms = (v: number) => (Number.isNaN(v) ? '—' : `${v.toFixed(0)} ms`);

function reachable(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.split(':');
  return new Promise((resolve) => {
    const socket = connect({ host: host!, port: Number(port) }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
  });
}

interface Phase {
  concurrency: number;
  /** CPU seconds each part of the system used during the phase. */
  cpu: Map<string, number>;
  /** Transactions each service's database committed during the phase. */
  commits: Map<string, number>;
  completed: number;
  errors: number;
  perSecond: number;
  placeOrder: number[];
  checkout: number[];
}

async function main(): Promise<number> {
  const startedKafka = !(await reachable(kafka.split(',')[0]!));
  if (startedKafka) {
    say('Kafka is not running: starting it (infra/infra.sh up)…');
    await run('bash', ['infra/infra.sh', 'up'], { cwd: root });
  }
  let t: TestTopology | undefined;
  try {
    say(`Starting the distributed topology (a process per service; PostgreSQL at ${pgAdminUrl}, Redis, Kafka)…`);
    t = await startTestTopology('bench', {
      env: {
        // Stock comes from the admin's restock below, so the flash sale's book has exactly its copies.
        INVENTORY_INITIAL_STOCK: '0',
        // One address (this load generator) is every reader here: the edge's per-client limit is off.
        RATE_LIMIT_MAX: '0',
      },
    });
    const { edge } = t;
    const prefix = new URL(t.databaseUrl('order')).pathname.slice(1).replace(/_order$/, '');
    const admin = await t.admin();
    await t.seedCatalog(bookCount + 1);
    const books = await listBooks(t, bookCount + 1);
    const [flashBook, ...stocked] = books;
    await inBatches(stocked, 8, async (b) => restock(t!, admin, b.id, 10_000));
    say(`Seeded ${books.length} books; ${stocked.length} stocked with 10,000 copies each.`);

    const maxConcurrency = Math.max(...levels);
    const readers = await inBatches(
      Array.from({ length: maxConcurrency }, (_, i) => i),
      4,
      (i) => edge.reader(`bench${i}`),
    );
    say(`${readers.length} readers registered and signed in (once each, as a returning reader would be).`);

    // Warm-up: JIT (a broker started just now spends seconds compiling), pools, consumer groups settled.
    await closedLoop(8, 10_000, (slot) => checkout(edge, readers[slot]!, stocked[slot % stocked.length]!.id));

    const phases: Phase[] = [];
    for (const concurrency of levels) {
      let pick = 0;
      const cpuBefore = await cpuSnapshot();
      const commitsBefore = await commitsByService(pgAdminUrl, prefix);
      const { results, errors, elapsedMs } = await closedLoop(concurrency, seconds * 1000, (slot) =>
        checkout(edge, readers[slot]!, stocked[pick++ % stocked.length]!.id),
      );
      for (const e of errors.slice(0, 3)) say(`  error at concurrency ${concurrency}: ${e.message}`);
      const timings = results as CheckoutTiming[];
      phases.push({
        concurrency,
        cpu: cpuUsed(cpuBefore, await cpuSnapshot()),
        commits: cpuUsed(commitsBefore, await commitsByService(pgAdminUrl, prefix)),
        completed: timings.length,
        errors: errors.length,
        perSecond: timings.length / (elapsedMs / 1000),
        placeOrder: timings.map((r) => r.placeOrderMs),
        checkout: timings.map((r) => r.checkoutMs),
      });
      say(`  concurrency ${concurrency}: ${timings.length} paid checkouts in ${(elapsedMs / 1000).toFixed(1)} s, ${errors.length} errors`);
    }

    const breakdown = await timeBreakdown(t);
    const flash = await flashSale(t, admin, flashBook!.id);

    say(`Measuring pgbench (TPC-B-like, ${pgbenchSeconds} s, 8 clients) on the same PostgreSQL…`);
    const benchDb = 'folio_bench_pgbench';
    await run('psql', [pgAdminUrl, '-qc', `DROP DATABASE IF EXISTS ${benchDb}`, '-c', `CREATE DATABASE ${benchDb}`]);
    const tps = await pgbenchTps(pgAdminUrl, benchDb, { clients: 8, seconds: pgbenchSeconds, scale: 10 });
    await run('psql', [pgAdminUrl, '-qc', `DROP DATABASE IF EXISTS ${benchDb}`]);

    say('');
    say('Paid checkouts (sign in once; then per checkout: add to cart, place order, pay on the hosted page, see it paid)');
    say('');
    say('| concurrency | paid checkouts/s | completed | errors | POST /api/orders p50 / p95 / p99 | checkout (placed → paid) p50 / p95 / p99 |');
    say('|---:|---:|---:|---:|---|---|');
    for (const p of phases) {
      const lat = (v: number[]) => `${ms(percentile(v, 50))} / ${ms(percentile(v, 95))} / ${ms(percentile(v, 99))}`;
      say(`| ${p.concurrency} | ${p.perSecond.toFixed(1)} | ${p.completed} | ${p.errors} | ${lat(p.placeOrder)} | ${lat(p.checkout)} |`);
    }
    say('');
    const busiest = phases.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
    const cpuTotal = [...busiest.cpu.values()].reduce((a, b) => a + b, 0);
    say(
      `Where the CPU goes (concurrency ${busiest.concurrency}: ${cpuTotal.toFixed(1)} CPU-s for ${busiest.completed} paid checkouts = ` +
        `${((cpuTotal * 1000) / Math.max(1, busiest.completed)).toFixed(0)} CPU-ms each; 2 cores):`,
    );
    for (const [part, s] of [...busiest.cpu].sort((a, b) => b[1] - a[1])) {
      say(`  ${part.padEnd(30)} ${((s * 1000) / Math.max(1, busiest.completed)).toFixed(1).padStart(7)} CPU-ms per checkout`);
    }
    const perCheckout = (n: number) => (n / Math.max(1, busiest.completed)).toFixed(1);
    say(
      `  database transactions per checkout: ${[...busiest.commits]
        .sort((a, b) => b[1] - a[1])
        .map(([service, n]) => `${service} ${perCheckout(n)}`)
        .join(', ')}`,
    );
    say('');
    say('Where a checkout waits (mean time between the steps of its order timeline, all phases):');
    for (const b of breakdown) say(`  ${b.step.padEnd(40)} ${b.meanMs.toFixed(1).padStart(8)} ms   (${b.orders} orders)`);
    say('');
    say(
      `Flash sale: ${flashBuyers} buyers for ${flashCopies} copies — orders placed ${flash.placed}, refused as sold out ${flash.soldOut}, ` +
        `other answers ${flash.other}; all ${flashBuyers} answered in ${(flash.answeredMs / 1000).toFixed(2)} s; ` +
        `sold ${flash.sold} (paid ${flash.paid}), stock left ${flash.left}.`,
    );
    say(`pgbench TPC-B on this machine's PostgreSQL: ${tps.toFixed(0)} tps (8 clients, scale 10, ${pgbenchSeconds} s).`);
    say('');

    say('Consistency audit over every service database:');
    const report = await runAudit({ databaseUrl: (service) => t!.databaseUrl(service), graceSeconds: 60 });
    say(formatReport(report));
    const ok = report.violations === 0 && flash.sold === flashCopies && phases.every((p) => p.completed > 0);
    if (flash.sold !== flashCopies) say(`FAILED: the flash sale sold ${flash.sold} copies, not ${flashCopies}.`);
    return ok ? 0 : 1;
  } finally {
    if (args.keep && t) {
      say(`--keep: the topology stays up (edge ${t.edge.url}, databases ${t.databaseUrl('order').replace(/order$/, '*')}); Ctrl-C stops it.`);
      await new Promise((resolve) => process.once('SIGINT', resolve));
    }
    await t?.stop();
    if (startedKafka) await run('bash', ['infra/infra.sh', 'down'], { cwd: root });
  }
}

/** The order service's own timeline says how long each step of the saga took after the previous one. */
async function timeBreakdown(t: TestTopology): Promise<Array<{ step: string; meanMs: number; orders: number }>> {
  const db = new pg.Client({ connectionString: t.databaseUrl('order') });
  await db.connect();
  try {
    const { rows } = await db.query<{ step: string; mean_ms: number; orders: number }>(
      `SELECT prev || ' → ' || event AS step, avg(extract(epoch FROM at - prev_at) * 1000)::float8 AS mean_ms, count(*)::int AS orders
       FROM (SELECT event, at, lag(event) OVER w AS prev, lag(at) OVER w AS prev_at
             FROM order_timeline WINDOW w AS (PARTITION BY order_id ORDER BY seq)) steps
       WHERE prev IS NOT NULL GROUP BY 1 HAVING count(*) >= 10 ORDER BY 3 DESC, 2 DESC`,
    );
    return rows.map((r) => ({ step: r.step, meanMs: r.mean_ms, orders: r.orders }));
  } finally {
    await db.end();
  }
}

async function listBooks(t: TestTopology, count: number): Promise<Json[]> {
  const books: Json[] = [];
  let cursor: string | null = null;
  while (books.length < count) {
    const page = await t.edge.call('GET', `/api/products?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    if (page.status !== 200) throw new BenchError(`listing books: ${page.status}`);
    books.push(...page.body.items);
    cursor = page.body.nextCursor;
    if (!cursor) break;
  }
  if (books.length < count) throw new BenchError(`seeded ${books.length} books, wanted ${count}`);
  return books.slice(0, count);
}

async function restock(t: TestTopology, admin: Reader, bookId: string, copies: number): Promise<void> {
  // The stock record appears when inventory has consumed the catalogue's BookAdded event.
  for (let i = 0; i < 300; i++) {
    const res = await t.edge.call('POST', `/api/inventory/${bookId}/restock`, { token: admin.token, body: { quantity: copies } });
    if (res.status === 200 || res.status === 201) return;
    if (res.status !== 404) throw new BenchError(`restock ${bookId}: ${res.status} ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new BenchError(`book ${bookId} never got a stock record`);
}

/** 1,000 readers with the book in their cart press "place order" at once; the winners pay. */
async function flashSale(t: TestTopology, admin: Reader, bookId: string) {
  const { edge } = t;
  say(`Flash sale: registering ${flashBuyers} buyers…`);
  const buyers = await inBatches(
    Array.from({ length: flashBuyers }, (_, i) => i),
    8,
    (i) => edge.reader(`flash${i}`),
  );
  await restock(t, admin, bookId, flashCopies);
  await inBatches(buyers, 32, (b) => edge.call('POST', '/api/cart/add', { token: b.token, body: { productId: bookId, quantity: 1 } }));
  say(`Flash sale: ${flashBuyers} buyers press "place order" at once…`);
  const started = performance.now();
  const answers = await Promise.all(
    buyers.map(async (b) => ({
      reader: b,
      answer: await edge.call('POST', '/api/orders', { token: b.token, body: { shippingAddress: berlin, shippingMethod: 'standard' } }),
    })),
  );
  const answeredMs = performance.now() - started;
  const winners = answers.filter((a) => a.answer.status === 201);
  const soldOut = answers.filter((a) => a.answer.status === 409).length;
  const other = answers.length - winners.length - soldOut;
  for (const a of answers.filter((x) => x.answer.status !== 201 && x.answer.status !== 409).slice(0, 3)) {
    say(`  unexpected answer: ${a.answer.status} ${JSON.stringify(a.answer.body).slice(0, 200)}`);
  }
  const paid = await inBatches(winners, 32, ({ reader, answer }) =>
    payAndSeePaid(edge, reader, answer.body.id, answer.body.payment.paymentUrl, Date.now() + 60_000).then(
      () => true,
      () => false,
    ),
  );
  const stock = (await edge.call('GET', `/api/inventory/${bookId}`, { token: admin.token })).body;
  return {
    placed: winners.length,
    soldOut,
    other,
    answeredMs,
    paid: paid.filter(Boolean).length,
    // The book started with no copies and got exactly flashCopies: what left the warehouse was sold.
    sold: flashCopies - Number(stock.onHand),
    left: Number(stock.available),
  };
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
