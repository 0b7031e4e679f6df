/**
 * Test fixture: the real inventory service over real HTTP, on a fresh database, with a real token
 * issuer and the embedded transport (so tests can deliver and observe events). Test code only.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from '@folio/platform/db';
import type { EmbeddedTransport } from '@folio/platform/messaging/embedded-transport';
import { type Envelope, type EventDefinition, type PayloadOf, topicOf } from '@folio/platform/messaging/envelope';
import { deliver, metric, redeliver, type ServiceFixture, startServiceFixture, testServiceEnv } from '@folio/platform/testing-service';
import inventory from './service.ts';

export type InventoryFixture = ServiceFixture;

/** The variables the inventory gets in tests (a second instance on the same database uses them too). */
export const testEnv = testServiceEnv;

export const startInventory = (label: string, env: Record<string, string> = {}): Promise<InventoryFixture> => startServiceFixture(inventory, label, env);

export interface Answer<T = unknown> {
  status: number;
  contentType: string;
  body: T;
}

/** fetch, JSON in and out. */
export async function call<T = unknown>(
  base: string,
  method: string,
  path: string,
  opts: { body?: unknown; token?: string; raw?: string } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = {};
  if (opts.body !== undefined || opts.raw !== undefined) headers['content-type'] = 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const body = opts.raw ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined);
  const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: (text ? JSON.parse(text) : undefined) as T };
}

/**
 * Records every event of a type published on the transport, as another service's consumer group
 * would. The group stays subscribed until the transport closes: a group left without members would
 * make the bus refuse (and the relay repeat) every later batch.
 */
export async function listen<D extends EventDefinition>(
  transport: EmbeddedTransport,
  def: D,
  group = `listener-${randomUUID()}`,
): Promise<Envelope<PayloadOf<D>>[]> {
  const events: Envelope<PayloadOf<D>>[] = [];
  await transport.subscribe({
    groupId: group,
    topics: [topicOf(def)],
    handler: async (m) => {
      events.push(JSON.parse(m.value) as Envelope<PayloadOf<D>>);
    },
  });
  return events;
}

export interface StockRow {
  onHand: number;
  reserved: number;
  sold: number;
  restocked: number;
  initial: number;
}

export async function stockOf(pool: Pool, bookId: string): Promise<StockRow | undefined> {
  const { rows } = await pool.query<StockRow>('SELECT on_hand AS "onHand", reserved, sold, restocked, initial FROM stock WHERE book_id = $1', [bookId]);
  return rows[0];
}

/** Gives a book `copies` on hand through the admin API, as a delivery would. */
export async function stockBook(f: InventoryFixture, copies: number, bookId: string = randomUUID()): Promise<string> {
  const res = await call(f.url, 'POST', `/api/inventory/${bookId}/restock`, { token: f.adminToken, body: { quantity: copies } });
  if (res.status !== 200) throw new Error(`restock refused: ${res.status} ${JSON.stringify(res.body)}`);
  return bookId;
}

/** A reservation request whose deadline is `ms` from now. */
export const reserveBody = (lines: { bookId: string; quantity: number }[], opts: { orderId?: string; ms?: number } = {}) => ({
  orderId: opts.orderId ?? randomUUID(),
  lines,
  expiresAt: new Date(Date.now() + (opts.ms ?? 15 * 60_000)).toISOString(),
});

export { deliver, metric, redeliver };
