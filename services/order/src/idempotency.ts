/**
 * Idempotency-Key for placing orders, with Stripe's semantics, per reader:
 * - the same key with the same request answers the first answer again (status and body);
 * - the same key with a different request is a 422 (a key names one request);
 * - the same key while the first request is still running is a 409 (try again shortly).
 *
 * The record is written, in progress and with the order id it will use, before anything happens
 * elsewhere, and it is held by a short lease that the running request keeps renewing (holdKey) rather
 * than by a lock: a request that crashed stops renewing, and a retry a few seconds later takes the
 * record over and continues with the same order id (the reservation and the payment are idempotent by
 * order id). A request that ended in an outage (a 503)
 * before its order existed gives its key back, so that a retry runs afresh; one whose order exists keeps
 * it, so that a retry resumes that order instead of placing a second. Definitive answers (201, 409, 422) are kept.
 */
import { createHash } from 'node:crypto';
import type { Queryable } from '@folio/platform/db';

export type Claim =
  /** This request runs; `resumed` when it takes over the record of a request that did not finish. */
  | { kind: 'owned'; orderId: string; resumed: boolean }
  | { kind: 'replay'; status: number; body: unknown }
  | { kind: 'mismatch' }
  | { kind: 'busy'; retryAfterSeconds: number };

/** The same JSON whatever the order of object keys. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What makes two requests "the same": the operation and its body. */
export const requestHash = (operation: string, body: unknown): string =>
  createHash('sha256').update(operation).update('\n').update(canonicalJson(body)).digest('base64url');

export interface ClaimRequest {
  userId: string;
  key: string;
  requestHash: string;
  /** The order id this request will use if it is the first. */
  orderId: string;
  /** How long a running request holds the key. */
  leaseSeconds: number;
}

export async function claimKey(db: Queryable, r: ClaimRequest): Promise<Claim> {
  // A record can vanish between the statements (its request gave the key back): look again.
  for (let round = 0; round < 3; round++) {
    const inserted = await db.query<{ order_id: string }>(
      `INSERT INTO idempotency_keys (user_id, key, request_hash, state, order_id, locked_until)
       VALUES ($1, $2, $3, 'in-progress', $4, now() + make_interval(secs => $5))
       ON CONFLICT (user_id, key) DO NOTHING
       RETURNING order_id`,
      [r.userId, r.key, r.requestHash, r.orderId, r.leaseSeconds],
    );
    if (inserted.rows[0]) return { kind: 'owned', orderId: inserted.rows[0].order_id, resumed: false };

    const taken = await db.query<{ order_id: string }>(
      `UPDATE idempotency_keys SET locked_until = now() + make_interval(secs => $4)
       WHERE user_id = $1 AND key = $2 AND request_hash = $3 AND state = 'in-progress' AND locked_until < now()
       RETURNING order_id`,
      [r.userId, r.key, r.requestHash, r.leaseSeconds],
    );
    if (taken.rows[0]) return { kind: 'owned', orderId: taken.rows[0].order_id, resumed: true };

    const { rows } = await db.query<{ request_hash: string; state: string; response_status: number | null; response_body: unknown; wait: number }>(
      `SELECT request_hash, state, response_status, response_body, GREATEST(0, EXTRACT(EPOCH FROM locked_until - now()))::float8 AS wait
       FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
      [r.userId, r.key],
    );
    const row = rows[0];
    if (!row) continue;
    if (row.request_hash !== r.requestHash) return { kind: 'mismatch' };
    if (row.state === 'done') return { kind: 'replay', status: row.response_status!, body: row.response_body };
    return { kind: 'busy', retryAfterSeconds: Math.max(1, Math.ceil(Math.min(row.wait, 5))) };
  }
  return { kind: 'busy', retryAfterSeconds: 1 };
}

/** Renews the lease while the request holding the key runs; returns the function that stops renewing. */
export function holdKey(db: Queryable, r: { userId: string; key: string; orderId: string; leaseSeconds: number }, everyMs: number): () => void {
  const timer = setInterval(() => {
    db.query(
      `UPDATE idempotency_keys SET locked_until = now() + make_interval(secs => $4)
       WHERE user_id = $1 AND key = $2 AND order_id = $3 AND state = 'in-progress'`,
      [r.userId, r.key, r.orderId, r.leaseSeconds],
    ).catch(() => {}); // a missed renewal at worst lets a retry run the same (idempotent) checkout alongside
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Keeps the answer for replays. */
export async function completeKey(db: Queryable, userId: string, key: string, status: number, body: unknown): Promise<void> {
  await db.query(
    `UPDATE idempotency_keys SET state = 'done', response_status = $3, response_body = $4, locked_until = NULL
     WHERE user_id = $1 AND key = $2`,
    [userId, key, status, JSON.stringify(body)],
  );
}

/** Gives the key back (the request ended in an outage): a retry runs afresh, with a new order id. */
export async function releaseKey(db: Queryable, userId: string, key: string): Promise<void> {
  await db.query(`DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND state = 'in-progress'`, [userId, key]);
}

/** Ends the lease at once: the order exists, so a retry should resume it now (same order id) rather than wait. */
export async function expireLease(db: Queryable, userId: string, key: string): Promise<void> {
  await db.query(`UPDATE idempotency_keys SET locked_until = now() - interval '1 millisecond' WHERE user_id = $1 AND key = $2 AND state = 'in-progress'`, [
    userId,
    key,
  ]);
}

/** Forgets keys older than maxAgeHours (Stripe keeps them 24 hours), finished or abandoned by a crashed request. */
export async function deleteExpiredKeys(db: Queryable, maxAgeHours: number, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM idempotency_keys WHERE ctid IN (
       SELECT ctid FROM idempotency_keys
       WHERE created_at < now() - make_interval(hours => $1) AND (state = 'done' OR locked_until < now()) LIMIT $2)`,
    [maxAgeHours, limit],
  );
  return rowCount ?? 0;
}
