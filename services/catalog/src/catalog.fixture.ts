/**
 * Test fixture: the real catalogue service over real HTTP, on a fresh database, with a real token
 * issuer and the embedded transport (so tests can deliver events). Test code only.
 */
import { type ServiceFixture, startServiceFixture } from '@folio/platform/testing-service';
import catalog from './service.ts';

export type CatalogFixture = ServiceFixture;

export const startCatalog = (label: string, env: Record<string, string> = {}): Promise<CatalogFixture> => startServiceFixture(catalog, label, env);

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
