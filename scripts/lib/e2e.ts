/**
 * Helpers for the end-to-end suites that drive a running topology through the edge, as a reader
 * (and the payment gateway's hosted page) would.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { withDatabase } from '@folio/platform/db';
import { kafkaBrokers, redisUrl } from '@folio/platform/testing';
import { Admin } from '@platformatic/kafka';
import pg from 'pg';
import { DistributedTopology } from './distributed.ts';
import { freePort } from './ports.ts';
import { databaseOf } from './services.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

// biome-ignore lint/suspicious/noExplicitAny: answers are read loosely; each assertion says what it expects.
export type Json = any;

export interface Answer {
  status: number;
  type: string;
  headers: Headers;
  body: Json;
}

export class Edge {
  readonly url: string;
  constructor(url: string) {
    this.url = url;
  }

  async call(method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
    const res = await fetch(path.startsWith('http') ? path : `${this.url}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        ...opts.headers,
      },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
    const text = await res.text();
    let body: Json = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: res.status, type: res.headers.get('content-type') ?? '', headers: res.headers, body };
  }

  /** Registers and signs in a new reader. */
  async reader(label: string): Promise<Reader> {
    const email = `${label}-${randomBytes(5).toString('hex')}@example.org`;
    const password = `correct horse ${randomBytes(6).toString('hex')}`;
    const reg = await this.call('POST', '/api/auth/register', { body: { email, password, name: label } });
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    const login = await this.call('POST', '/api/auth/login', { body: { email, password } });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    return { id: reg.body.id, email, password, token: login.body.accessToken, refreshToken: login.body.refreshToken };
  }
}

export interface Reader {
  id: string;
  email: string;
  password: string;
  token: string;
  refreshToken: string;
}

/** A distributed topology of its own (databases named `t_<label>_<random>_<service>`) for one suite. */
export interface TestTopology {
  topology: DistributedTopology;
  edge: Edge;
  /** A service's own database. */
  databaseUrl(service: string): string;
  /** The Kafka namespace of this topology's topics and groups (KAFKA_NAMESPACE): a watcher must use it too. */
  kafkaNamespace: string;
  /** The operator's seed command, against the catalogue's database. */
  seedCatalog(books: number): Promise<void>;
  /** A new reader promoted with the operator's make-admin command, signed in again to carry the role. */
  admin(): Promise<Reader>;
  /** Stops every process, drops the databases, and keeps every process's output in .artifacts/. */
  stop(): Promise<void>;
}

export async function startTestTopology(
  label: string,
  opts: { env?: Record<string, string>; gatewayEnv?: Record<string, string>; logLevel?: string } = {},
): Promise<TestTopology> {
  const brokers = kafkaBrokers();
  const redis = redisUrl();
  if (!brokers || !redis) throw new Error('Kafka and Redis are required (FOLIO_REQUIRE_INFRA=1): start them with `npm run infra:up`');
  const pgAdmin = process.env.FOLIO_TEST_PG_URL as string;
  const prefix = `t_${label}_${randomBytes(3).toString('hex')}`;
  const output: string[] = [];
  const topology = await DistributedTopology.start({
    pgAdminUrl: pgAdmin,
    kafkaBrokers: brokers.join(','),
    redisUrl: redis,
    gatewayPort: await freePort(),
    logLevel: opts.logLevel ?? 'warn',
    databasePrefix: prefix,
    output: (service, line) => output.push(`${service} | ${line}`),
    ...(opts.env ? { env: opts.env } : {}),
    // Rate limiting off by default: every request of a suite comes from 127.0.0.1, and suites fire
    // hundreds of concurrent checkouts (and registrations) from it, which a per-client limit would
    // answer with 429s. A suite testing the limits passes gatewayEnv: { RATE_LIMIT_MAX: '…' }.
    gatewayEnv: { RATE_LIMIT_MAX: '0', ...opts.gatewayEnv },
  });
  const edge = new Edge(topology.gatewayUrl);
  const databaseUrl = (service: string) => withDatabase(pgAdmin, databaseOf(service, prefix));
  return {
    topology,
    edge,
    databaseUrl,
    kafkaNamespace: prefix,
    async seedCatalog(books) {
      await run(process.execPath, ['services/catalog/src/seed-cli.ts', '--books', String(books)], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: databaseUrl('catalog') },
      });
    },
    async admin() {
      const first = await edge.reader('admin');
      await run(process.execPath, ['services/identity/src/make-admin.ts', first.email], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: databaseUrl('identity') },
      });
      const login = await edge.call('POST', '/api/auth/login', { body: { email: first.email, password: first.password } });
      return { ...first, token: login.body.accessToken };
    },
    async stop() {
      await topology.stop();
      const admin = new pg.Client({ connectionString: pgAdmin });
      await admin.connect();
      const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${prefix}_%`]);
      for (const r of rows) await admin.query(`DROP DATABASE IF EXISTS ${r.datname} WITH (FORCE)`);
      await admin.end();
      // Its topics too, so runs do not pile up partitions on the shared broker.
      const kafka = new Admin({ clientId: 'folio-test-cleanup', bootstrapBrokers: brokers });
      try {
        const topics = (await kafka.listTopics()).filter((topic) => topic.startsWith(`${prefix}.`));
        if (topics.length > 0) await kafka.deleteTopics({ topics });
      } finally {
        await kafka.close();
      }
      await mkdir(`${root}/.artifacts`, { recursive: true });
      await writeFile(`${root}/.artifacts/${label}-topology.log`, `${output.join('\n')}\n`);
    },
  };
}

export const berlin = { name: 'Ada Reader', line1: 'Unter den Linden 1', city: 'Berlin', postalCode: '10117', country: 'DE' };

/** What the gateway's hosted page does when a reader submits it: a real form post. */
export async function submitPaymentForm(
  paymentUrl: string,
  fields: Record<string, string>,
): Promise<{ status: number; location: string | null; html: string }> {
  const res = await fetch(paymentUrl, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, location: res.headers.get('location'), html: await res.text() };
}

export const cards = {
  ok: '4242 4242 4242 4242',
  declined: '4000 0000 0000 0002',
  insufficientFunds: '4000 0000 0000 9995',
};

/** Pays on the hosted page with a card (expiry next year), and follows the gateway's redirect back to Folio's return URL. */
export async function pay(paymentUrl: string, card = cards.ok) {
  const year = String((new Date().getUTCFullYear() + 1) % 100).padStart(2, '0');
  const answer = await submitPaymentForm(paymentUrl, { cardNumber: card, expiry: `12/${year}`, cvc: '123' });
  if (answer.status === 303 && answer.location) {
    // The browser would now load the return URL (Folio's payment service, through the edge).
    await fetch(answer.location, { redirect: 'manual' }).catch(() => {});
  }
  return answer;
}

/** The Cancel button of the hosted page, then the browser following the redirect to Folio. */
export async function cancelOnPaymentPage(paymentUrl: string) {
  const answer = await submitPaymentForm(paymentUrl, { action: 'cancel' });
  assert.equal(answer.status, 303, answer.html.slice(0, 200));
  const back = await fetch(answer.location!, { redirect: 'manual' });
  return { gateway: answer, folio: { status: back.status, location: back.headers.get('location') } };
}
