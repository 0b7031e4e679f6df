/**
 * Tokens: the Ed25519 signing keys (kept in this service's database so every instance signs with
 * the same key), access tokens (JWT, EdDSA), the verifier for this service's own guarded routes,
 * and refresh tokens (opaque, single use, grouped in families that are revoked as a whole).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createLocalVerifier, type Role, type TokenVerifier } from '@folio/platform/auth';
import { type Pool, type Queryable, withTransaction } from '@folio/platform/db';
import type { Logger } from '@folio/platform/log';
import { type CryptoKey, calculateJwkThumbprint, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import {
  activeSigningKeys,
  deleteExpiredRefreshTokens,
  insertFamily,
  insertRefreshToken,
  insertSigningKey,
  lockRefreshToken,
  lockSigningKeys,
  markRefreshTokenUsed,
  retireSigningKey,
  revokeFamily,
  revokeFamilyOfToken,
} from './token.repository.ts';

const ALG = 'EdDSA';
/** How often an instance rereads the key table (another instance may have rotated). */
export const KEY_RELOAD_INTERVAL_MS = 60_000;
/** A token naming a key we do not know triggers a reload, at most this often. */
const UNKNOWN_KID_RELOAD_COOLDOWN_MS = 10_000;

export interface TokenSettings {
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
}

/** A public key as the JWKS publishes it. */
export interface PublishedKey {
  kty: string;
  crv: string;
  x: string;
  kid: string;
  alg: string;
  use: 'sig';
}

interface LoadedKeys {
  signing: { kid: string; key: CryptoKey };
  jwks: { keys: PublishedKey[] };
  verifier: TokenVerifier;
  loadedAt: number;
}

export type RotationOutcome =
  | { kind: 'rotated'; userId: string; refreshToken: string }
  /** A token that was already used: the family is now revoked (a stolen token, or a client bug). */
  | { kind: 'reused'; userId: string; familyId: string }
  | { kind: 'invalid' };

/** A new Ed25519 key pair as JWKs, its kid being the RFC 7638 thumbprint of the public key. */
async function newKeyPair(): Promise<{ kid: string; publicJwk: JWK; privateJwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair(ALG, { crv: 'Ed25519', extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return { kid, publicJwk: { ...publicJwk, kid, alg: ALG, use: 'sig' }, privateJwk: { ...(await exportJWK(privateKey)), kid, alg: ALG } };
}

export function hashRefreshToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** 256 random bits, base64url (43 characters). */
function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Creates the first signing key unless one exists; safe when several instances start at once. */
export async function ensureSigningKey(pool: Pool): Promise<void> {
  await withTransaction(pool, async (tx) => {
    await lockSigningKeys(tx);
    if ((await activeSigningKeys(tx)).length > 0) return;
    await insertSigningKey(tx, { ...(await newKeyPair()), alg: ALG });
  });
}

/**
 * Adds a new signing key: it signs from the next key reload on, while the older keys stay published
 * (tokens they signed still verify) until they are retired with retireKey. Returns the new kid.
 */
export async function rotateSigningKey(q: Queryable): Promise<string> {
  const pair = await newKeyPair();
  await insertSigningKey(q, { ...pair, alg: ALG });
  return pair.kid;
}

/** Stops publishing a key: tokens it signed no longer verify. Retire only keys older than the access-token TTL. */
export const retireKey = (q: Queryable, kid: string): Promise<boolean> => retireSigningKey(q, kid);

export interface TokenService {
  /** Rereads the keys from the database (a job does it every minute). */
  reloadKeys(): Promise<void>;
  jwks(): { keys: PublishedKey[] };
  /** Verifies access tokens with this service's own published keys (the same rules as every other service). */
  verifier: TokenVerifier;
  signAccessToken(user: { id: string; email: string; roles: Role[] }): Promise<string>;
  /** Starts a family (a sign-in) and returns its first refresh token; runs in the caller's transaction. */
  startFamily(q: Queryable, userId: string): Promise<string>;
  /** Single use: marks the token used and answers a new one of the same family. */
  rotate(token: string): Promise<RotationOutcome>;
  /** Revokes the token's family; false when there was nothing to revoke. */
  revokeFamilyOf(token: string, reason: string): Promise<boolean>;
  /** One batch of the sweeper. */
  deleteExpired(batchSize: number): Promise<number>;
}

export async function createTokenService(opts: { pool: Pool; log: Logger; settings: TokenSettings }): Promise<TokenService> {
  const { pool, log, settings } = opts;
  let loaded: LoadedKeys | undefined;
  let reloading: Promise<LoadedKeys> | undefined;

  async function load(): Promise<LoadedKeys> {
    const rows = await activeSigningKeys(pool);
    const newest = rows[0];
    if (!newest) throw new Error('the identity database has no active signing key');
    const jwks = {
      keys: rows.map(
        (r): PublishedKey => ({ kty: String(r.publicJwk.kty), crv: String(r.publicJwk.crv), x: String(r.publicJwk.x), kid: r.kid, alg: r.alg, use: 'sig' }),
      ),
    };
    const key = (await importJWK(newest.privateJwk, newest.alg)) as CryptoKey;
    const verifier = createLocalVerifier(jwks, { issuer: settings.issuer, audience: settings.audience });
    if (loaded && loaded.signing.kid !== newest.kid) log.info({ kid: newest.kid }, 'signing with a new key');
    return { signing: { kid: newest.kid, key }, jwks, verifier, loadedAt: Date.now() };
  }

  async function reloadKeys(): Promise<void> {
    // Concurrent callers share one reload.
    reloading ??= load().finally(() => {
      reloading = undefined;
    });
    loaded = await reloading;
  }

  await ensureSigningKey(pool);
  await reloadKeys();
  const current = (): LoadedKeys => {
    if (!loaded) throw new Error('signing keys are not loaded');
    return loaded;
  };

  const verifier: TokenVerifier = {
    async verify(token) {
      // A key published by a rotation on another instance: reread the table before refusing the token.
      const keys = current();
      const kid = kidOf(token);
      if (kid !== undefined && !keys.jwks.keys.some((k) => k.kid === kid) && Date.now() - keys.loadedAt > UNKNOWN_KID_RELOAD_COOLDOWN_MS) {
        await reloadKeys();
      }
      return current().verifier.verify(token);
    },
  };

  return {
    reloadKeys,
    jwks: () => current().jwks,
    verifier,

    signAccessToken(user) {
      const { signing } = current();
      return new SignJWT({ email: user.email, roles: user.roles })
        .setProtectedHeader({ alg: ALG, kid: signing.kid, typ: 'JWT' })
        .setSubject(user.id)
        .setIssuer(settings.issuer)
        .setAudience(settings.audience)
        .setIssuedAt()
        .setExpirationTime(`${settings.accessTokenTtlSeconds}s`)
        .setJti(randomUUID())
        .sign(signing.key);
    },

    async startFamily(q, userId) {
      const familyId = randomUUID();
      const token = newRefreshToken();
      await insertFamily(q, familyId, userId);
      await insertRefreshToken(q, { hash: hashRefreshToken(token), familyId, ttlSeconds: settings.refreshTokenTtlSeconds });
      return token;
    },

    rotate(token) {
      const hash = hashRefreshToken(token);
      // The outcome is returned, not thrown, so the family's revocation on reuse is committed.
      return withTransaction(pool, async (tx): Promise<RotationOutcome> => {
        const row = await lockRefreshToken(tx, hash);
        if (!row || row.revoked) return { kind: 'invalid' };
        if (row.used) {
          await revokeFamily(tx, row.familyId, 'reuse');
          return { kind: 'reused', userId: row.userId, familyId: row.familyId };
        }
        if (row.expired) return { kind: 'invalid' };
        await markRefreshTokenUsed(tx, hash);
        const next = newRefreshToken();
        await insertRefreshToken(tx, { hash: hashRefreshToken(next), familyId: row.familyId, ttlSeconds: settings.refreshTokenTtlSeconds });
        return { kind: 'rotated', userId: row.userId, refreshToken: next };
      });
    },

    revokeFamilyOf: (token, reason) => revokeFamilyOfToken(pool, hashRefreshToken(token), reason),
    deleteExpired: (batchSize) => deleteExpiredRefreshTokens(pool, batchSize),
  };
}

function kidOf(token: string): string | undefined {
  try {
    return decodeProtectedHeader(token).kid;
  } catch {
    return undefined;
  }
}
