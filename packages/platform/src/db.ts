import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { Logger } from './log.ts';

export type Pool = pg.Pool;
/** A connection inside an open transaction. Repositories take one so callers decide the transaction's scope. */
export type Tx = pg.PoolClient;
/** Anything that can run a query: the pool (autocommit) or a transaction. */
export type Queryable = Pick<pg.Pool, 'query'>;

export class DatabaseUnavailableError extends Error {
  constructor(target: string, cause: unknown) {
    super(`cannot reach PostgreSQL at ${target}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'DatabaseUnavailableError';
  }
}

/** host:port/database of a URL, without credentials, for messages and logs. */
export function describeDatabaseUrl(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
}

/**
 * A connection that prepares each parameterised statement once (named by a hash of its text) and then
 * only binds and executes it, instead of having PostgreSQL parse and plan it on every call: on our
 * short OLTP statements that was a large share of the database's CPU. Statements without parameters
 * (DDL, migrations, BEGIN/COMMIT) go through unprepared.
 */
class PreparingClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: forwards every overload of pg's query unchanged.
  override query(config: any, values?: any, callback?: any): any {
    if (typeof config === 'string' && Array.isArray(values) && values.length > 0) {
      return super.query({ name: statementName(config), text: config, values }, callback);
    }
    return super.query(config, values, callback);
  }
}

const statementNames = new Map<string, string>();
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    name = `s_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return name;
}

export function createPool(url: string, opts: { name: string; max?: number }): Pool {
  const pool = new pg.Pool({
    Client: PreparingClient,
    connectionString: url,
    application_name: opts.name,
    max: opts.max ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // A client losing its connection (the server shutting down or restarting) must not crash the process:
  // an idle one is dropped by the pool, a checked-out one fails its query, and the next query reconnects.
  // pg emits 'error' on the client too, which would be unhandled on a client that is checked out.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/** Fails fast, with the address in the message, when the database cannot be reached. */
export async function checkDatabase(pool: Pool, url: string): Promise<void> {
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    throw new DatabaseUnavailableError(describeDatabaseUrl(url), err);
  }
}

const afterCommitHooks = new WeakMap<Tx, Array<() => void>>();

/** Runs fn once the surrounding transaction has committed (never if it rolls back). */
export function afterCommit(tx: Tx, fn: () => void): void {
  const hooks = afterCommitHooks.get(tx);
  if (hooks) hooks.push(fn);
  else afterCommitHooks.set(tx, [fn]);
}

export async function withTransaction<T>(pool: Pool, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const tx = await pool.connect();
  let result: T;
  try {
    await tx.query('BEGIN');
    result = await fn(tx);
    await tx.query('COMMIT');
  } catch (err) {
    await tx.query('ROLLBACK').catch(() => {});
    afterCommitHooks.delete(tx);
    tx.release();
    throw err;
  }
  const hooks = afterCommitHooks.get(tx) ?? [];
  afterCommitHooks.delete(tx);
  tx.release();
  for (const hook of hooks) hook();
  return result;
}

/** Creates a database if it does not exist yet (distributed launcher, tests). */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`unsafe database name "${database}"`);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rowCount === 0) {
      await client.query(`CREATE DATABASE ${database}`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created concurrently by another instance
      });
    }
  } finally {
    await client.end();
  }
}

/** The same server and credentials as url, another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

// Any fixed number works: it only has to be the same for every instance migrating one database.
const MIGRATION_LOCK = 7_314_002;

/**
 * Applies the *.sql files of each folder, in folder order then file-name order, once each,
 * under an advisory lock so several instances starting together migrate one at a time.
 * A file that changed after it was applied is refused: migrations are append-only.
 */
export async function migrate(pool: Pool, dirs: readonly string[], log?: Logger): Promise<string[]> {
  const files: { name: string; sql: string; checksum: string }[] = [];
  for (const dir of dirs) {
    for (const file of (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort()) {
      const sql = await readFile(join(dir, file), 'utf8');
      files.push({ name: file, sql, checksum: createHash('sha256').update(sql).digest('hex') });
    }
  }
  const applied: string[] = [];
  await withTransaction(pool, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await tx.query<{ name: string; checksum: string }>('SELECT name, checksum FROM schema_migrations');
    const done = new Map(rows.map((r) => [r.name, r.checksum]));
    for (const f of files) {
      const seen = done.get(f.name);
      if (seen === f.checksum) continue;
      if (seen !== undefined) throw new Error(`migration ${f.name} was changed after it was applied; add a new migration instead`);
      await tx.query(f.sql);
      await tx.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [f.name, f.checksum]);
      applied.push(f.name);
    }
  });
  if (applied.length > 0) log?.info({ migrations: applied }, 'applied migrations');
  return applied;
}

/* SQLSTATEs of failures that pass by themselves: retrying the same request later can succeed. */
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '53300', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);
const TRANSIENT_MESSAGES = /timeout exceeded when trying to connect|Connection terminated|connection timeout|ECONNREFUSED|ECONNRESET/i;

/**
 * True for a database failure that is ours and temporary (pool exhausted, connection lost, server
 * restarting, deadlock, serialization conflict): the caller should get a 503 and try again, never a 500.
 */
export function isTransientDatabaseError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e) return false;
  if (typeof e.code === 'string' && (TRANSIENT_SQLSTATES.has(e.code) || e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET')) return true;
  return typeof e.message === 'string' && TRANSIENT_MESSAGES.test(e.message);
}
