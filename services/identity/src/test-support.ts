/**
 * Test helpers for the identity suites: the real service on a fresh database over real HTTP,
 * a small fetch wrapper, and accounts made through the public API. Test code only.
 */
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { EmbeddedTransport } from '@folio/platform/messaging/embedded-transport';
import { type RunningService, startService } from '@folio/platform/service';
import { createTestDatabase, type TestDatabase } from '@folio/platform/testing';
import { importJWK, type JWK, SignJWT } from 'jose';
import identity from './service.ts';

export interface Harness {
  db: TestDatabase;
  service: RunningService;
  url: string;
  close(): Promise<void>;
}

export async function startIdentity(label: string, env: Record<string, string> = {}, db?: TestDatabase): Promise<Harness> {
  const database = db ?? (await createTestDatabase(label));
  const service = await startService(identity, {
    env: { DATABASE_URL: database.url, PORT: '0', LOG_LEVEL: 'warn', ...env },
    transport: new EmbeddedTransport(),
  });
  return {
    db: database,
    service,
    url: service.url,
    async close() {
      await service.close();
      if (!db) await database.drop();
    },
  };
}

export interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

export interface CallOptions {
  body?: unknown;
  /** A raw string body, sent as is (for malformed JSON). */
  rawBody?: string;
  token?: string;
  headers?: Record<string, string>;
}

// biome-ignore lint/suspicious/noExplicitAny: answers are read loosely in tests; each assertion says what it expects.
export async function call<T = any>(base: string, method: string, path: string, opts: CallOptions = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined || opts.rawBody !== undefined) headers['content-type'] ??= 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(opts.rawBody !== undefined ? { body: opts.rawBody } : opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** A random client address, so suites do not share the per-address login throttle. */
export const someAddress = (): string => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

export const uniqueEmail = (tag = 'reader'): string => `${tag}-${randomUUID().slice(0, 8)}@example.com`;

export const GOOD_PASSWORD = 'correct horse battery staple';

export interface Account {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

export async function register(base: string, opts: { email?: string; password?: string; name?: string } = {}) {
  const email = opts.email ?? uniqueEmail();
  const password = opts.password ?? GOOD_PASSWORD;
  const res = await call(base, 'POST', '/api/auth/register', { body: { email, password, name: opts.name ?? 'Ada Reader' } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { id: res.body.id as string, email, password };
}

export async function login(base: string, email: string, password: string, address = someAddress()) {
  return call(base, 'POST', '/api/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': address } });
}

export async function signUp(base: string, opts: { email?: string; name?: string } = {}): Promise<Account> {
  const { id, email, password } = await register(base, opts);
  const res = await login(base, email, password);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { id, email, password, accessToken: res.body.accessToken, refreshToken: res.body.refreshToken };
}

/**
 * Signs a token with the service's own current private key, read from its database: for tokens that
 * are correctly signed but wrong in one other way (expired, another audience).
 */
export async function signWithServiceKey(
  db: TestDatabase,
  claims: Record<string, unknown>,
  opts: { sub: string; issuer?: string; audience?: string; iat?: number; exp: number },
): Promise<string> {
  const { rows } = await db.pool.query<{ kid: string; private_jwk: JWK }>(
    'SELECT kid, private_jwk FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1',
  );
  const row = rows[0];
  assert.ok(row, 'the service has a signing key');
  const key = await importJWK(row.private_jwk, 'EdDSA');
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', kid: row.kid })
    .setSubject(opts.sub)
    .setIssuer(opts.issuer ?? 'folio-identity')
    .setAudience(opts.audience ?? 'folio-api')
    .setIssuedAt(opts.iat ?? Math.floor(Date.now() / 1000))
    .setExpirationTime(opts.exp)
    .sign(key);
}

/** A structurally valid token with `alg: none` and no signature, claiming whatever the payload says. */
export function unsignedToken(payload: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
}

/** The same token with its payload changed (here: promoted to admin); the signature no longer matches. */
export function tamperedToken(token: string): string {
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString());
  claims.roles = ['customer', 'admin'];
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}

export function assertProblem(res: Answer, status: number, field?: string | RegExp): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
  assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
  assert.equal(res.body.status, status);
  assert.equal(typeof res.body.detail, 'string');
  if (field !== undefined) {
    const fields = ((res.body.errors as { field: string }[] | undefined) ?? []).map((e) => e.field).join(' ');
    const text = `${res.body.detail} ${fields}`;
    if (typeof field === 'string') assert.ok(text.includes(field), `expected the problem to name ${field}: ${JSON.stringify(res.body)}`);
    else assert.match(text, field);
  }
}
