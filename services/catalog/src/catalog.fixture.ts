/**
 * Test fixture: the real catalogue service over real HTTP, on a fresh database, with a real token
 * issuer and the embedded transport (so tests can deliver events). Test code only.
 */
import type { Pool } from '@folio/platform/db';
import { EmbeddedTransport } from '@folio/platform/messaging/embedded-transport';
import { type RunningService, startService } from '@folio/platform/service';
import { createTestDatabase, type TestDatabase } from '@folio/platform/testing';
import { startTestIdentity, type TestIdentity } from '@folio/platform/testing-identity';
import catalog from './service.ts';

export interface CatalogFixture {
  url: string;
  db: TestDatabase;
  pool: Pool;
  identity: TestIdentity;
  transport: EmbeddedTransport;
  service: RunningService;
  adminToken: string;
  customerToken: string;
  close(): Promise<void>;
}

export async function startCatalog(label: string, env: Record<string, string> = {}): Promise<CatalogFixture> {
  const db = await createTestDatabase(label);
  const identity = await startTestIdentity();
  const transport = new EmbeddedTransport();
  const service = await startService(catalog, {
    env: { DATABASE_URL: db.url, PORT: '0', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error', IDENTITY_URL: identity.url, ...env },
    transport,
  });
  return {
    url: service.url,
    db,
    pool: db.pool,
    identity,
    transport,
    service,
    adminToken: await identity.token('admin-1', { roles: ['admin'] }),
    customerToken: await identity.token('reader-1', { roles: ['customer'] }),
    async close() {
      await service.close();
      await transport.close();
      await identity.close();
      await db.drop();
    },
  };
}

export interface Answer<T = unknown> {
  status: number;
  contentType: string;
  body: T;
  headers: Headers;
}

/** fetch, JSON in and out. */
export async function call<T = unknown>(
  base: string,
  method: string,
  path: string,
  opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(`${base}${path}`, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
}
