/**
 * Opaque keyset cursors for "newest first" listings: base64url of JSON { c: created_at with
 * microseconds, i: id }. The position after the last row handed out, so paging never skips or repeats
 * a row while rows are added. A cursor that is not one of ours is a 400 naming the parameter.
 */
import { problems } from './problem.ts';

export interface NewestFirstPosition {
  /** created_at with microseconds, UTC (`to_char(... 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`). */
  createdKey: string;
  id: string;
}

const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const encodeCursor = (row: NewestFirstPosition): string => Buffer.from(JSON.stringify({ c: row.createdKey, i: row.id })).toString('base64url');

export function decodeCursor(raw: string): NewestFirstPosition {
  const bad = () =>
    problems.badRequest('querystring/cursor is not a cursor handed out by this listing', [
      { field: 'querystring/cursor', message: 'is not a cursor handed out by this listing' },
    ]);
  if (!/^[A-Za-z0-9_-]+$/.test(raw)) throw bad();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  const { c, i } = (value ?? {}) as { c?: unknown; i?: unknown };
  if (typeof c !== 'string' || typeof i !== 'string' || !CURSOR_TIME.test(c) || !UUID.test(i) || Number.isNaN(Date.parse(c))) throw bad();
  return { createdKey: c, id: i };
}
