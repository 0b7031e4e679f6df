/**
 * Access-token verification (JWT signed by the identity service, keys published as a JWKS)
 * and the Fastify hooks that guard routes with it.
 *
 * Only asymmetric algorithms are accepted (EdDSA, RS256): the allow-list is checked before any
 * key is looked up, so `alg: none` and the "HS256 signed with the public key" trick are refused
 * outright. Token problems are 401s with a detail that says what is wrong; a key set that cannot
 * be fetched is a 503, because that is our outage, not the caller's bad token.
 */

import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { createLocalJWKSet, createRemoteJWKSet, errors, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { env } from './config.ts';
import { ProblemError, problems } from './problem.ts';

export type { JSONWebKeySet } from 'jose';

export type Role = 'customer' | 'admin';
export const ROLES: readonly Role[] = ['customer', 'admin'];

export interface Principal {
  userId: string;
  roles: Role[];
  email?: string;
  /** The raw access token, for calls made on the user's behalf. */
  token: string;
}

export interface VerifierOptions {
  /** e.g. http://identity:3000/.well-known/jwks.json */
  jwksUrl: string;
  issuer: string;
  audience: string;
  /** Allowed clock skew for exp/nbf, default 5 seconds. */
  clockToleranceSeconds?: number;
}

export interface TokenVerifier {
  /** The token's principal, or a ProblemError: 401 for a bad token, 503 when the key set cannot be fetched. */
  verify(token: string): Promise<Principal>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by authenticate/optionalAuthenticate; undefined for a guest. */
    principal?: Principal;
  }
}

const ALGORITHMS = ['EdDSA', 'RS256'];
const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;
const UNAUTHORIZED_TYPE = 'urn:folio:problem:unauthorized';

/** A 401 for a token that was presented but is not acceptable (RFC 6750 error="invalid_token"). */
export function invalidToken(detail: string, cause?: unknown): ProblemError {
  const description = detail.replace(/["\\]/g, '');
  return new ProblemError(401, detail, {
    type: UNAUTHORIZED_TYPE,
    headers: { 'www-authenticate': `Bearer error="invalid_token", error_description="${description}"` },
    cause,
  });
}

/** The key set could not be fetched; jose's own errors for that are told apart from token errors. */
class KeySetUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`cannot fetch the JSON Web Key Set: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'KeySetUnavailableError';
  }
}

function detailFor(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'access token expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return `access token lacks the required "${err.claim}" claim`;
    switch (err.claim) {
      case 'nbf':
        return 'access token is not valid yet';
      case 'iss':
        return 'access token was issued by an untrusted issuer';
      case 'aud':
        return 'access token is not meant for this service (audience mismatch)';
      default:
        return `access token has an invalid "${err.claim}" claim`;
    }
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'access token signature is invalid';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'access token uses an algorithm that is not accepted';
  if (err instanceof errors.JWKSNoMatchingKey) return 'access token was signed with an unknown key';
  if (err instanceof errors.JWKSMultipleMatchingKeys) return 'access token does not say which key signed it (kid)';
  return 'access token is malformed';
}

function rolesOf(claim: unknown): Role[] {
  if (!Array.isArray(claim)) return [];
  const out: Role[] = [];
  for (const r of claim) if (typeof r === 'string' && (ROLES as readonly string[]).includes(r) && !out.includes(r as Role)) out.push(r as Role);
  return out;
}

function principalFrom(payload: JWTPayload, token: string): Principal {
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw invalidToken('access token has an empty subject');
  const principal: Principal = { userId: payload.sub, roles: rolesOf(payload.roles), token };
  if (typeof payload.email === 'string') principal.email = payload.email;
  return principal;
}

function verifierWith(getKey: JWTVerifyGetKey, opts: { issuer: string; audience: string; clockToleranceSeconds?: number }): TokenVerifier {
  const options = {
    algorithms: ALGORITHMS,
    issuer: opts.issuer,
    audience: opts.audience,
    clockTolerance: opts.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS,
    requiredClaims: ['sub', 'exp'],
  };
  return {
    async verify(token: string): Promise<Principal> {
      if (typeof token !== 'string' || token.length === 0 || token.length > 8192) throw invalidToken('access token is malformed');
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, options));
      } catch (err) {
        if (err instanceof KeySetUnavailableError) {
          throw problems.unavailable('Access tokens cannot be checked right now; try again shortly.', 5);
        }
        throw invalidToken(detailFor(err), err);
      }
      return principalFrom(payload, token);
    },
  };
}

/**
 * Verifies tokens against the identity service's published keys. The key set is fetched on
 * first use, cached (10 minutes), and refetched at most every 30 s when a token names a key
 * it does not know (a key rotation).
 */
export function createJwksVerifier(opts: VerifierOptions): TokenVerifier {
  const remote = createRemoteJWKSet(new URL(opts.jwksUrl), { timeoutDuration: 3_000, cooldownDuration: 30_000, cacheMaxAge: 600_000 });
  const getKey: JWTVerifyGetKey = async (header, token) => {
    try {
      return await remote(header, token);
    } catch (err) {
      // A key-selection answer is about the token; anything else (network, timeout, non-200, bad JSON) is about the key set.
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys || err instanceof errors.JOSENotSupported) throw err;
      throw new KeySetUnavailableError(err);
    }
  };
  return verifierWith(getKey, opts);
}

/** The same rules against a key set in hand, for the identity service verifying its own tokens. */
export function createLocalVerifier(jwks: JSONWebKeySet, opts: { issuer: string; audience: string; clockToleranceSeconds?: number }): TokenVerifier {
  return verifierWith(createLocalJWKSet(jwks), opts);
}

/** The bearer token of a request: undefined without an Authorization header, a 401 for any other scheme or shape. */
function readBearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined || header === '') return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (!match?.[1]) {
    throw new ProblemError(401, 'The Authorization header must be "Bearer <access token>".', {
      type: UNAUTHORIZED_TYPE,
      headers: { 'www-authenticate': 'Bearer error="invalid_request"' },
    });
  }
  return match[1];
}

/** Requires a valid access token; sets request.principal. */
export function authenticate(verifier: TokenVerifier): preHandlerAsyncHookHandler {
  return async function authenticateHook(request) {
    const token = readBearer(request);
    if (token === undefined) throw problems.unauthorized();
    request.principal = await verifier.verify(token);
  };
}

/** Lets guests through (no principal); a token that is present must still be valid. */
export function optionalAuthenticate(verifier: TokenVerifier): preHandlerAsyncHookHandler {
  return async function optionalAuthenticateHook(request) {
    const token = readBearer(request);
    if (token === undefined) return;
    request.principal = await verifier.verify(token);
  };
}

/** Requires the role; runs after authenticate (without a principal it answers 401). */
export function requireRole(role: Role): preHandlerAsyncHookHandler {
  return async function requireRoleHook(request) {
    const principal = principalOf(request);
    if (!principal.roles.includes(role)) throw problems.forbidden(`This needs the "${role}" role.`);
  };
}

/** For access checks in services: the principal or a 401. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw problems.unauthorized();
  return request.principal;
}

/** True when the principal may act for the user: the user themself or an admin. */
export function canActFor(principal: Principal, userId: string): boolean {
  return principal.userId === userId || principal.roles.includes('admin');
}

/** Variables of every service that verifies access tokens; the identity service publishes the keys. */
export const authConfig = {
  IDENTITY_URL: env.url({ description: 'Base URL of the identity service (its JWKS verifies access tokens)', protocols: ['http:', 'https:'] }),
  JWT_ISSUER: env.string({ description: 'Issuer (iss) of access tokens', default: 'folio-identity' }),
  JWT_AUDIENCE: env.string({ description: 'Audience (aud) of access tokens', default: 'folio-api' }),
};

/** The verifier a service builds from authConfig. */
export function verifierFromConfig(config: { IDENTITY_URL: string; JWT_ISSUER: string; JWT_AUDIENCE: string }): TokenVerifier {
  return createJwksVerifier({
    jwksUrl: `${config.IDENTITY_URL.replace(/\/$/, '')}/.well-known/jwks.json`,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
  });
}
