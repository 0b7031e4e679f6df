import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { base64url, type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JSONWebKeySet, type JWTPayload, SignJWT } from 'jose';
import { authenticate, createJwksVerifier, createLocalVerifier, optionalAuthenticate, principalOf, requireRole, type TokenVerifier } from './auth.ts';
import { ProblemError } from './problem.ts';

const ISSUER = 'https://identity.folio.test';
const AUDIENCE = 'folio-api';

interface KeyPair {
  publicKey: CryptoKey;
  privateKey: CryptoKey;
}

let ed: KeyPair;
let rs: KeyPair;
let jwks: JSONWebKeySet;
let jwksServer: Server;
let jwksFetches = 0;
let jwksUrl: string;

async function sign(
  payload: JWTPayload,
  opts: { key?: CryptoKey; alg?: string; kid?: string; exp?: number | string; nbf?: number | string; iss?: string; aud?: string; sub?: string | null } = {},
): Promise<string> {
  const jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: opts.alg ?? 'EdDSA', kid: opts.kid ?? 'ed-1', typ: 'JWT' })
    .setIssuedAt()
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE);
  if (opts.sub !== null) jwt.setSubject(opts.sub ?? 'user-1');
  if (opts.exp !== undefined) jwt.setExpirationTime(opts.exp);
  else jwt.setExpirationTime('5m');
  if (opts.nbf !== undefined) jwt.setNotBefore(opts.nbf);
  return jwt.sign(opts.key ?? ed.privateKey);
}

const now = () => Math.floor(Date.now() / 1000);

async function refused(verifier: TokenVerifier, token: string, detail: RegExp): Promise<ProblemError> {
  const err = await verifier.verify(token).then(
    () => assert.fail('the token was accepted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ProblemError, `expected a ProblemError, got ${String(err)}`);
  assert.equal(err.status, 401);
  assert.match(err.detail, detail);
  assert.match(err.headers['www-authenticate'] ?? '', /^Bearer .*error="invalid_token"/);
  return err;
}

before(async () => {
  ed = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  rs = await generateKeyPair('RS256', { extractable: true });
  jwks = {
    keys: [
      { ...(await exportJWK(ed.publicKey)), kid: 'ed-1', alg: 'EdDSA', use: 'sig' },
      { ...(await exportJWK(rs.publicKey)), kid: 'rs-1', alg: 'RS256', use: 'sig' },
    ],
  };
  jwksServer = createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      jwksFetches++;
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify(jwks));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
});

after(async () => {
  jwksServer.closeAllConnections();
  await new Promise((resolve) => jwksServer.close(resolve));
});

describe('createJwksVerifier', () => {
  let verifier: TokenVerifier;
  before(() => {
    verifier = createJwksVerifier({ jwksUrl, issuer: ISSUER, audience: AUDIENCE });
  });

  test('accepts a valid EdDSA token and parses roles, dropping unknown ones', async () => {
    const token = await sign({ roles: ['customer', 'admin', 'superuser', 42], email: 'ada@example.com' });
    const p = await verifier.verify(token);
    assert.deepEqual(p, { userId: 'user-1', roles: ['customer', 'admin'], email: 'ada@example.com', token });
  });

  test('accepts a valid RS256 token; no roles claim means no roles', async () => {
    const token = await sign({}, { key: rs.privateKey, alg: 'RS256', kid: 'rs-1', sub: 'user-2' });
    assert.deepEqual(await verifier.verify(token), { userId: 'user-2', roles: [], token });
  });

  test('fetches the key set once and caches it', async () => {
    const before = jwksFetches;
    await verifier.verify(await sign({ roles: ['customer'] }));
    await verifier.verify(await sign({ roles: ['customer'] }));
    assert.equal(jwksFetches, before);
    assert.ok(jwksFetches >= 1);
  });

  test('refuses an expired token (beyond the clock tolerance)', async () => {
    await refused(verifier, await sign({}, { exp: now() - 60 }), /^access token expired$/);
  });

  test('tolerates a few seconds of clock skew', async () => {
    await verifier.verify(await sign({}, { exp: now() - 2 }));
  });

  test('refuses a token that is not valid yet', async () => {
    await refused(verifier, await sign({}, { nbf: now() + 60 }), /not valid yet/);
  });

  test('refuses a wrong issuer', async () => {
    await refused(verifier, await sign({}, { iss: 'https://evil.test' }), /issuer/);
  });

  test('refuses a wrong audience', async () => {
    await refused(verifier, await sign({}, { aud: 'another-api' }), /audience/);
  });

  test('refuses tokens without sub or exp', async () => {
    await refused(verifier, await sign({}, { sub: null }), /"sub" claim/);
    const noExp = await new SignJWT({ sub: 'user-1' })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'ed-1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .sign(ed.privateKey);
    await refused(verifier, noExp, /"exp" claim/);
  });

  test('refuses a tampered payload (a flipped character)', async () => {
    const [h, p, s] = (await sign({ roles: ['customer'] })).split('.') as [string, string, string];
    const i = Math.floor(p.length / 2);
    const flipped = p.slice(0, i) + (p[i] === 'A' ? 'B' : 'A') + p.slice(i + 1);
    await refused(verifier, `${h}.${flipped}.${s}`, /signature is invalid|malformed/);
  });

  test('refuses a payload re-encoded with extra privileges under the original signature', async () => {
    const [h, p, s] = (await sign({ roles: ['customer'] })).split('.') as [string, string, string];
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(p)));
    const forged = base64url.encode(JSON.stringify({ ...claims, roles: ['admin'] }));
    await refused(verifier, `${h}.${forged}.${s}`, /^access token signature is invalid$/);
  });

  test('refuses a signature from another key that claims the same kid', async () => {
    const other = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    await refused(verifier, await sign({ roles: ['admin'] }, { key: other.privateKey, kid: 'ed-1' }), /^access token signature is invalid$/);
  });

  test('refuses an unsigned alg:none token', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    const payload = base64url.encode(JSON.stringify({ sub: 'user-1', iss: ISSUER, aud: AUDIENCE, exp: now() + 300, roles: ['admin'] }));
    await refused(verifier, `${header}.${payload}.`, /algorithm/);
  });

  test('refuses an HS256 token signed with the public key as the secret', async () => {
    const fetchesBefore = jwksFetches;
    const pem = await exportSPKI(rs.publicKey);
    const secret = new TextEncoder().encode(pem);
    const token = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256', kid: 'rs-1' })
      .setSubject('user-1')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(secret);
    await refused(verifier, token, /algorithm/);
    const jwkSecret = base64url.decode((jwks.keys[1] as { n: string }).n);
    const token2 = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256', kid: 'rs-1' })
      .setSubject('user-1')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(jwkSecret);
    await refused(verifier, token2, /algorithm/);
    assert.equal(jwksFetches, fetchesBefore, 'a refused algorithm must not even look up keys');
  });

  test('refuses a token whose kid is unknown', async () => {
    const stranger = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    await refused(verifier, await sign({}, { key: stranger.privateKey, kid: 'ghost' }), /unknown key/);
  });

  test('refuses garbage', async () => {
    for (const garbage of ['', 'garbage', 'a.b.c', 'eyJhbGciOiJFZERTQSJ9..', '...', 'x'.repeat(10_000), `${'eyJ'.repeat(3)}.${'e'.repeat(5)}.sig`]) {
      await refused(verifier, garbage, /malformed|algorithm|signature/);
    }
  });

  test('an unreachable key set is a 503, not a 401', async () => {
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const port = (dead.address() as AddressInfo).port;
    await new Promise((resolve) => dead.close(resolve));
    const v = createJwksVerifier({ jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`, issuer: ISSUER, audience: AUDIENCE });
    const err = await v.verify(await sign({})).catch((e: unknown) => e);
    assert.ok(err instanceof ProblemError);
    assert.equal(err.status, 503);
  });
});

describe('createLocalVerifier', () => {
  test('applies the same rules against a key set in hand', async () => {
    const v = createLocalVerifier(jwks, { issuer: ISSUER, audience: AUDIENCE });
    const token = await sign({ roles: ['admin'] }, { key: rs.privateKey, alg: 'RS256', kid: 'rs-1' });
    assert.deepEqual((await v.verify(token)).roles, ['admin']);
    await refused(v, await sign({}, { exp: now() - 60 }), /expired/);
    await refused(v, await sign({}, { aud: 'x' }), /audience/);
    const stranger = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    await refused(v, await sign({}, { key: stranger.privateKey, kid: 'ghost' }), /unknown key/);
  });
});

describe('Fastify hooks', () => {
  let app: FastifyInstance;
  let customer: string;
  let admin: string;

  before(async () => {
    const verifier = createJwksVerifier({ jwksUrl, issuer: ISSUER, audience: AUDIENCE });
    app = Fastify();
    app.setErrorHandler((err, _request, reply) => {
      if (err instanceof ProblemError) return reply.code(err.status).headers(err.headers).type('application/problem+json').send(err.toProblem());
      return reply.code(500).send({ error: String(err) });
    });
    app.get('/me', { preHandler: authenticate(verifier) }, async (request) => {
      const p = principalOf(request);
      return { userId: p.userId, roles: p.roles };
    });
    app.get('/admin', { preHandler: [authenticate(verifier), requireRole('admin')] }, async () => ({ ok: true }));
    app.get('/browse', { preHandler: optionalAuthenticate(verifier) }, async (request) => ({ guest: request.principal === undefined }));
    app.get('/unguarded-admin', { preHandler: requireRole('admin') }, async () => ({ ok: true }));
    await app.ready();
    customer = await sign({ roles: ['customer'] }, { sub: 'cust-1' });
    admin = await sign({ roles: ['customer', 'admin'] }, { key: rs.privateKey, alg: 'RS256', kid: 'rs-1', sub: 'admin-1' });
  });

  after(() => app.close());

  test('401 without an Authorization header', async () => {
    const res = await app.inject({ url: '/me' });
    assert.equal(res.statusCode, 401);
    assert.match(res.headers['content-type'] ?? '', /application\/problem\+json/);
    assert.equal(res.headers['www-authenticate'], 'Bearer');
    assert.equal(res.json().status, 401);
  });

  test('401 with a bad token, and WWW-Authenticate says invalid_token', async () => {
    const res = await app.inject({ url: '/me', headers: { authorization: `Bearer ${customer.slice(0, -4)}AAAA` } });
    assert.equal(res.statusCode, 401);
    assert.match(String(res.headers['www-authenticate']), /^Bearer error="invalid_token"/);
    assert.match(res.json().detail, /signature|malformed/);
  });

  test('401 for another scheme', async () => {
    const res = await app.inject({ url: '/me', headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    assert.equal(res.statusCode, 401);
    assert.match(String(res.headers['www-authenticate']), /invalid_request/);
  });

  test('200 for a customer on a customer route; the scheme is case-insensitive', async () => {
    const res = await app.inject({ url: '/me', headers: { authorization: `bearer ${customer}` } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { userId: 'cust-1', roles: ['customer'] });
  });

  test('403 for a customer on the admin route', async () => {
    const res = await app.inject({ url: '/admin', headers: { authorization: `Bearer ${customer}` } });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().type, 'urn:folio:problem:forbidden');
  });

  test('200 for an admin on the admin route', async () => {
    const res = await app.inject({ url: '/admin', headers: { authorization: `Bearer ${admin}` } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { ok: true });
  });

  test('requireRole without authenticate answers 401, never lets through', async () => {
    const res = await app.inject({ url: '/unguarded-admin', headers: { authorization: `Bearer ${admin}` } });
    assert.equal(res.statusCode, 401);
  });

  test('optionalAuthenticate: guest without a header, principal with one, 401 for a bad token', async () => {
    assert.deepEqual((await app.inject({ url: '/browse' })).json(), { guest: true });
    assert.deepEqual((await app.inject({ url: '/browse', headers: { authorization: `Bearer ${customer}` } })).json(), { guest: false });
    const bad = await app.inject({ url: '/browse', headers: { authorization: 'Bearer not-a-token' } });
    assert.equal(bad.statusCode, 401);
  });
});
