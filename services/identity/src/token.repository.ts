/** All SQL about signing keys and refresh-token families. */
import type { Queryable, Tx } from '@folio/platform/db';
import type { JWK } from 'jose';

export interface SigningKeyRow {
  kid: string;
  alg: string;
  publicJwk: JWK;
  privateJwk: JWK;
  createdAt: Date;
}

// Any fixed number: it only has to be the same for every instance creating the first key.
const SIGNING_KEY_LOCK = 7_314_101;

/** Serialises "create the first key" across instances starting together (released at commit). */
export async function lockSigningKeys(tx: Tx): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [SIGNING_KEY_LOCK]);
}

/** Keys that are not retired, newest first: the first signs, all are published. */
export async function activeSigningKeys(q: Queryable): Promise<SigningKeyRow[]> {
  const { rows } = await q.query<SigningKeyRow>(
    `SELECT kid, alg, public_jwk AS "publicJwk", private_jwk AS "privateJwk", created_at AS "createdAt"
       FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC, kid DESC`,
  );
  return rows;
}

export async function insertSigningKey(q: Queryable, key: { kid: string; alg: string; publicJwk: JWK; privateJwk: JWK }): Promise<void> {
  await q.query('INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk, created_at) VALUES ($1, $2, $3, $4, clock_timestamp())', [
    key.kid,
    key.alg,
    JSON.stringify(key.publicJwk),
    JSON.stringify(key.privateJwk),
  ]);
}

export async function retireSigningKey(q: Queryable, kid: string): Promise<boolean> {
  const { rowCount } = await q.query('UPDATE signing_keys SET retired_at = now() WHERE kid = $1 AND retired_at IS NULL', [kid]);
  return rowCount === 1;
}

export async function insertFamily(q: Queryable, familyId: string, userId: string): Promise<void> {
  await q.query('INSERT INTO refresh_families (id, user_id) VALUES ($1, $2)', [familyId, userId]);
}

export async function insertRefreshToken(q: Queryable, token: { hash: Buffer; familyId: string; ttlSeconds: number }): Promise<void> {
  await q.query('INSERT INTO refresh_tokens (token_hash, family_id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))', [
    token.hash,
    token.familyId,
    token.ttlSeconds,
  ]);
}

export interface LockedRefreshToken {
  familyId: string;
  userId: string;
  used: boolean;
  expired: boolean;
  revoked: boolean;
}

/**
 * The token and its family, both locked until the transaction ends: a second refresh with the same
 * token waits here and then sees it used, so two concurrent refreshes cannot both rotate it.
 */
export async function lockRefreshToken(tx: Tx, hash: Buffer): Promise<LockedRefreshToken | undefined> {
  const { rows } = await tx.query<LockedRefreshToken>(
    `SELECT t.family_id AS "familyId", f.user_id AS "userId", t.used_at IS NOT NULL AS used,
            t.expires_at <= now() AS expired, f.revoked_at IS NOT NULL AS revoked
       FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
      WHERE t.token_hash = $1
        FOR UPDATE OF t, f`,
    [hash],
  );
  return rows[0];
}

export async function markRefreshTokenUsed(q: Queryable, hash: Buffer): Promise<void> {
  await q.query('UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1', [hash]);
}

export async function revokeFamily(q: Queryable, familyId: string, reason: string): Promise<void> {
  await q.query('UPDATE refresh_families SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL', [familyId, reason]);
}

/** Revokes the family the token belongs to; false when the token is unknown or its family already revoked. */
export async function revokeFamilyOfToken(q: Queryable, hash: Buffer, reason: string): Promise<boolean> {
  const { rowCount } = await q.query(
    `UPDATE refresh_families f SET revoked_at = now(), revoked_reason = $2
       FROM refresh_tokens t WHERE t.token_hash = $1 AND f.id = t.family_id AND f.revoked_at IS NULL`,
    [hash, reason],
  );
  return rowCount === 1;
}

/**
 * Deletes a batch of tokens expired for a day (a reused token is only detectable until it expires
 * anyway), then families left without tokens. Returns the larger of the two counts (a full batch runs again).
 */
export async function deleteExpiredRefreshTokens(q: Queryable, batchSize: number): Promise<number> {
  const { rowCount } = await q.query(
    `DELETE FROM refresh_tokens WHERE token_hash IN (
       SELECT token_hash FROM refresh_tokens WHERE expires_at < now() - interval '1 day' ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)`,
    [batchSize],
  );
  const families = await q.query(
    `DELETE FROM refresh_families WHERE id IN (
       SELECT f.id FROM refresh_families f
        WHERE f.created_at < now() - interval '1 day' AND NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = f.id)
        LIMIT $1 FOR UPDATE SKIP LOCKED)`,
    [batchSize],
  );
  return Math.max(rowCount ?? 0, families.rowCount ?? 0);
}
