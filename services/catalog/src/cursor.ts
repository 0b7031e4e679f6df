/**
 * Keyset cursors of the product listing: base64url of JSON { s: sort, k: sort key, i: id }.
 * Opaque to clients; checked strictly on the way back in, because the key ends up compared in SQL
 * and a value PostgreSQL cannot cast would otherwise surface as a 500.
 */

export const SORT_ORDERS = ['relevance', 'title', 'price_asc', 'price_desc', 'newest'] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];

export interface CursorPosition {
  sort: SortOrder;
  /** The sort key of the last item, as text (a title, an amount, an ISO timestamp, a rank). */
  key: string;
  /** The id of the last item: the tie-breaker. */
  id: string;
}

export class CursorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CursorError';
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** Whether a key is a value of the sort's SQL type that PostgreSQL will accept. */
const keyIsValid: Record<SortOrder, (key: string) => boolean> = {
  relevance: (k) => /^\d{1,6}(\.\d{1,6})?$/.test(k),
  title: (k) => k.length >= 1 && k.length <= 300 && !k.includes('\u0000'),
  price_asc: (k) => /^\d{1,9}$/.test(k),
  price_desc: (k) => /^\d{1,9}$/.test(k),
  newest: (k) => {
    if (!ISO_MICROS.test(k)) return false;
    const ms = new Date(`${k.slice(0, 23)}Z`);
    // Date rolls 2024-02-30 over to March: a round trip catches impossible dates.
    return !Number.isNaN(ms.getTime()) && ms.toISOString().slice(0, 19) === k.slice(0, 19);
  },
};

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify({ s: position.sort, k: position.key, i: position.id })).toString('base64url');
}

/** The position a cursor names; a CursorError when it is not one this listing (with this sort) handed out. */
export function decodeCursor(raw: string, sort: SortOrder): CursorPosition {
  if (!/^[A-Za-z0-9_-]+$/.test(raw)) throw new CursorError('is not a cursor handed out by this listing');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw new CursorError('is not a cursor handed out by this listing');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CursorError('is not a cursor handed out by this listing');
  const { s, k, i } = value as Record<string, unknown>;
  if (typeof s !== 'string' || typeof k !== 'string' || typeof i !== 'string' || !UUID.test(i) || !(SORT_ORDERS as readonly string[]).includes(s)) {
    throw new CursorError('is not a cursor handed out by this listing');
  }
  if (s !== sort) throw new CursorError(`belongs to a listing sorted by ${s}, not ${sort}: keep the sort while paging`);
  if (!keyIsValid[sort](k)) throw new CursorError('is not a cursor handed out by this listing');
  return { sort, key: k, id: i };
}
