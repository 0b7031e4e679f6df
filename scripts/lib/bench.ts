/**
 * The pieces of the checkout benchmark: a virtual reader who buys through the edge exactly as the
 * storefront and the gateway's hosted page would, latency statistics, and pgbench for scale.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { berlin, cards, type Edge, type Json, type Reader, submitPaymentForm } from './e2e.ts';

const run = promisify(execFile);

/** One completed checkout's timings, in milliseconds. */
export interface CheckoutTiming {
  /** POST /api/orders: cart read, pricing, shipping, tax, stock reserved, payment opened. */
  placeOrderMs: number;
  /** From placing the order until the reader sees it paid (includes paying on the hosted page). */
  checkoutMs: number;
}

export class BenchError extends Error {}

const year = String((new Date().getUTCFullYear() + 1) % 100).padStart(2, '0');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One whole checkout by a signed-in reader: put a book in the cart, place the order, pay on the hosted
 * page, follow the redirect back as a browser does, and wait until the order shows `paid`.
 */
export async function checkout(edge: Edge, reader: Reader, bookId: string, opts: { paidTimeoutMs?: number } = {}): Promise<CheckoutTiming> {
  const added = await edge.call('POST', '/api/cart/add', { token: reader.token, body: { productId: bookId, quantity: 1 } });
  if (added.status !== 200) throw new BenchError(`add to cart: ${added.status} ${JSON.stringify(added.body)}`);

  const placedAt = performance.now();
  const placed = await edge.call('POST', '/api/orders', {
    token: reader.token,
    body: { shippingAddress: berlin, shippingMethod: 'standard' },
    headers: { 'idempotency-key': randomUUID() },
  });
  const placeOrderMs = performance.now() - placedAt;
  if (placed.status !== 201) throw new BenchError(`place order: ${placed.status} ${JSON.stringify(placed.body)}`);
  const order: Json = placed.body;
  const paymentUrl = order.payment?.paymentUrl ?? (await paymentUrlOf(edge, reader, order.id));

  const deadline = Date.now() + (opts.paidTimeoutMs ?? 60_000);
  await payAndSeePaid(edge, reader, order.id, paymentUrl, deadline);
  const checkoutMs = performance.now() - placedAt;
  // The confirmation page shows the cart emptied (order.paid reaches the cart service through the broker).
  // Waiting for it before the next purchase keeps the next book out of the clearing of this order's cart.
  for (let wait = 10; ; wait = Math.min(wait * 2, 200)) {
    const cart = await edge.call('GET', '/api/cart', { token: reader.token });
    if (cart.status === 200 && cart.body.items.length === 0) break;
    if (Date.now() > deadline) throw new BenchError(`the cart of order ${order.id} was not cleared after it was paid`);
    await sleep(wait);
  }
  return { placeOrderMs, checkoutMs };
}

/**
 * Pays on the hosted page, follows the gateway's redirect back to Folio's return URL (which redirects to
 * the storefront) as a browser does, and waits as the storefront's return page does: the order's ETag
 * with `Prefer: wait`, answered when the order changes. Throws unless the order ends `paid` by `deadline`.
 */
export async function payAndSeePaid(edge: Edge, reader: Reader, orderId: string, paymentUrl: string, deadline: number): Promise<void> {
  const paid = await submitPaymentForm(paymentUrl, { cardNumber: cards.ok, expiry: `12/${year}`, cvc: '123' });
  if (paid.status !== 303 || !paid.location) throw new BenchError(`pay: ${paid.status} ${paid.html.slice(0, 200)}`);
  await fetch(paid.location, { redirect: 'manual' }).then((r) => r.arrayBuffer());

  let tag: string | null = null;
  for (;;) {
    const now = await edge.call('GET', `/api/orders/${orderId}`, {
      token: reader.token,
      headers: tag ? { 'if-none-match': tag, prefer: 'wait=10' } : {},
    });
    if (now.status === 200) {
      if (now.body.status === 'paid') return;
      if (now.body.status !== 'created') throw new BenchError(`order ${orderId} ended ${now.body.status}`);
      tag = now.headers.get('etag');
    } else if (now.status !== 304) throw new BenchError(`order ${orderId}: ${now.status} ${JSON.stringify(now.body)}`);
    if (Date.now() > deadline) throw new BenchError(`order ${orderId} not paid in time`);
  }
}

async function paymentUrlOf(edge: Edge, reader: Reader, orderId: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const now = await edge.call('GET', `/api/orders/${orderId}`, { token: reader.token });
    if (now.body?.payment?.paymentUrl) return now.body.payment.paymentUrl;
    await sleep(100);
  }
  throw new BenchError(`order ${orderId} has no payment page after 10 s`);
}

/** The p-th percentile (nearest rank) of the values. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Runs `worker` on `concurrency` loops until `durationMs` has passed; each loop finishes its current call. */
export async function closedLoop<T>(
  concurrency: number,
  durationMs: number,
  worker: (slot: number) => Promise<T>,
): Promise<{ results: T[]; errors: Error[]; elapsedMs: number }> {
  const results: T[] = [];
  const errors: Error[] = [];
  const started = performance.now();
  const end = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, slot) => {
      while (performance.now() < end) {
        try {
          results.push(await worker(slot));
        } catch (err) {
          errors.push(err as Error);
        }
      }
    }),
  );
  return { results, errors, elapsedMs: performance.now() - started };
}

/** Runs `fn` over items with at most `limit` in flight. */
export async function inBatches<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

/**
 * pgbench's TPC-B-like run on the same PostgreSQL server, for scale: what this machine's database does
 * with the simplest possible transactions (5 statements each, no network hops between services).
 */
export async function pgbenchTps(adminUrl: string, database: string, opts: { clients: number; seconds: number; scale: number }): Promise<number> {
  const url = new URL(adminUrl);
  // The same way in as the services: a Unix socket directory (?host=/run/postgresql) or TCP.
  const host = url.searchParams.get('host') ?? url.hostname;
  const conn = ['-h', host, '-p', url.port || '5432', '-U', decodeURIComponent(url.username || 'postgres')];
  const env = { ...process.env, ...(url.password ? { PGPASSWORD: decodeURIComponent(url.password) } : {}) };
  await run('pgbench', [...conn, '-i', '-q', '-s', String(opts.scale), database], { env });
  const { stdout } = await run('pgbench', [...conn, '-c', String(opts.clients), '-j', '2', '-T', String(opts.seconds), database], { env });
  const tps = /tps = ([\d.]+)/.exec(stdout);
  if (!tps) throw new BenchError(`pgbench printed no tps:\n${stdout}`);
  return Number(tps[1]);
}

/** CPU seconds used so far by each part of the system on this machine, read from /proc (Linux). */
export type CpuSnapshot = Map<string, number>;

const TICKS_PER_SECOND = 100;

/** Which part of the system a process is: a service by its entry point, or the infrastructure by its program. */
function partOf(cmdline: string, pid: number): string | undefined {
  if (pid === process.pid) return 'load generator (this bench)';
  const service = /services\/([a-z-]+)\/src\/main\.ts/.exec(cmdline);
  if (service) return service[1];
  if (cmdline.includes('payment-gateway-simulator/src/main.ts')) return 'payment gateway simulator';
  if (/^postgres[: ]/.test(cmdline) || cmdline.includes('/bin/postgres')) return 'PostgreSQL';
  if (cmdline.includes('kafka.Kafka') || cmdline.includes('kafka_2.13')) return 'Kafka';
  if (cmdline.startsWith('redis-server') || cmdline.includes('/redis-server')) return 'Redis';
  return undefined;
}

export async function cpuSnapshot(): Promise<CpuSnapshot> {
  const parts: CpuSnapshot = new Map();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim();
      const part = partOf(cmdline, Number(entry));
      if (!part) continue;
      // Fields after the command name: utime is the 14th and stime the 15th field of the whole line.
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      parts.set(part, (parts.get(part) ?? 0) + ticks / TICKS_PER_SECOND);
    } catch {
      // The process ended while we looked.
    }
  }
  return parts;
}

/** CPU seconds each part used between two snapshots (processes that started in between count from zero). */
export function cpuUsed(before: CpuSnapshot, after: CpuSnapshot): Map<string, number> {
  return new Map([...after].map(([part, s]) => [part, Math.max(0, s - (before.get(part) ?? 0))]));
}

/** Transactions committed so far in each database whose name starts with the prefix, by service. */
export async function commitsByService(pgAdminUrl: string, prefix: string): Promise<Map<string, number>> {
  const { default: pg } = await import('pg');
  const db = new pg.Client({ connectionString: pgAdminUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ datname: string; commits: string }>(
      'SELECT datname, xact_commit + xact_rollback AS commits FROM pg_stat_database WHERE datname LIKE $1',
      [`${prefix}_%`],
    );
    return new Map(rows.map((r) => [r.datname.slice(prefix.length + 1), Number(r.commits)]));
  } finally {
    await db.end();
  }
}
