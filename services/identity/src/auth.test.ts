import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createJwksVerifier, createLocalVerifier } from '@folio/platform/auth';
import { withTransaction } from '@folio/platform/db';
import { createLogger } from '@folio/platform/log';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { verifyPassword } from './password.ts';
import { assertProblem, call, GOOD_PASSWORD, type Harness, login, register, signUp, signWithServiceKey, startIdentity, uniqueEmail } from './test-support.ts';
import { createTokenService, retireKey, rotateSigningKey } from './token.service.ts';

let h: Harness;
before(async () => {
  h = await startIdentity('identity_auth');
});
after(() => h?.close());

describe('registration and sign-in', () => {
  test('register → login → /api/me, with the email normalised and the password hashed with argon2id', async () => {
    const reg = await call(h.url, 'POST', '/api/auth/register', { body: { email: '  Ada.Lovelace@Example.COM ', password: GOOD_PASSWORD, name: ' Ada ' } });
    assert.equal(reg.status, 201);
    assert.deepEqual(Object.keys(reg.body).sort(), ['email', 'id', 'name', 'roles']);
    assert.equal(reg.body.email, 'ada.lovelace@example.com');
    assert.equal(reg.body.name, 'Ada');
    assert.deepEqual(reg.body.roles, ['customer']);

    const { rows } = await h.db.pool.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [reg.body.id]);
    assert.match(rows[0]?.password_hash ?? '', /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);

    const res = await login(h.url, 'ADA.lovelace@example.com ', GOOD_PASSWORD);
    assert.equal(res.status, 200);
    assert.equal(res.body.tokenType, 'Bearer');
    assert.equal(res.body.expiresIn, 900);
    assert.match(res.body.refreshToken, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(res.body.user, reg.body);

    const me = await call(h.url, 'GET', '/api/me', { token: res.body.accessToken });
    assert.equal(me.status, 200);
    assert.equal(me.body.id, reg.body.id);
    assert.equal(me.body.email, 'ada.lovelace@example.com');
    assert.deepEqual(me.body.roles, ['customer']);
    assert.ok(!Number.isNaN(Date.parse(me.body.createdAt)));
    assert.equal(me.body.phone, undefined);

    const patched = await call(h.url, 'PATCH', '/api/me', { token: res.body.accessToken, body: { name: 'Ada King', phone: '+44 20 7946 0958' } });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.name, 'Ada King');
    assert.equal(patched.body.phone, '+44 20 7946 0958');
    const cleared = await call(h.url, 'PATCH', '/api/me', { token: res.body.accessToken, body: { phone: null } });
    assert.equal(cleared.status, 200);
    assert.equal(cleared.body.phone, undefined);
    assert.equal(cleared.body.name, 'Ada King');
  });

  test('the same email in another case is a 409 problem', async () => {
    const email = uniqueEmail('dup');
    await register(h.url, { email });
    const again = await call(h.url, 'POST', '/api/auth/register', { body: { email: email.toUpperCase(), password: GOOD_PASSWORD, name: 'Copy' } });
    assertProblem(again, 409);
    assert.match(again.body.detail, /already exists/);
  });

  test('weak passwords are refused with a detail naming password', async () => {
    const email = 'margaret.hamilton@example.com';
    const cases: [string, RegExp][] = [
      ['short1', /at least 10 characters/],
      ['x'.repeat(129), /at most 128 characters/],
      ['Password123', /most commonly used/],
      ['qwertyuiop', /most commonly used/],
      ['abababababab', /too few different characters/],
      ['margaret.hamilton2024', /mostly your email/],
      ['Margaret.Hamilton@example.com', /mostly your email/],
    ];
    for (const [password, why] of cases) {
      const res = await call(h.url, 'POST', '/api/auth/register', { body: { email, password, name: 'Margaret' } });
      assertProblem(res, 422, 'body/password');
      assert.match(res.body.detail, /^password /);
      assert.match(res.body.detail, why, password);
    }
    const { rowCount } = await h.db.pool.query('SELECT 1 FROM users WHERE email = $1', [email]);
    assert.equal(rowCount, 0);
    // A long passphrase that merely contains the name is fine.
    await register(h.url, { email, password: 'margaret wrote the apollo guidance software' });
  });

  test('a wrong password and an unknown email answer the same 401, and both pay for an argon2 verification', async () => {
    const { email } = await register(h.url);
    const wrong = await login(h.url, email, 'not the password at all');
    const unknown = await login(h.url, uniqueEmail('nobody'), 'not the password at all');
    assertProblem(wrong, 401);
    assertProblem(unknown, 401);
    assert.equal(wrong.body.detail, unknown.body.detail);

    // A lower bound only (load makes requests slower, never faster): the fastest of a few local
    // verifications with the service's parameters, against the median sign-in for unknown emails.
    const stored = (await h.db.pool.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE email = $1', [email])).rows[0]?.password_hash;
    const local: number[] = [];
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      await verifyPassword(stored ?? '', 'not the password at all');
      local.push(performance.now() - start);
    }
    const timings: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      assertProblem(await login(h.url, uniqueEmail('nobody'), 'not the password at all'), 401);
      timings.push(performance.now() - start);
    }
    const median = timings.sort((x, y) => x - y)[2] ?? 0;
    assert.ok(median >= 0.8 * Math.min(...local), `unknown-email sign-in ${median.toFixed(1)} ms, argon2 verification ${Math.min(...local).toFixed(1)} ms`);
  });
});

describe('access tokens', () => {
  test('verify against the published JWKS over HTTP (EdDSA, kid, issuer, audience) and carry the roles', async () => {
    const account = await signUp(h.url);
    const header = decodeProtectedHeader(account.accessToken);
    assert.equal(header.alg, 'EdDSA');
    assert.ok(header.kid);

    const jwks = await fetch(`${h.url}/.well-known/jwks.json`);
    assert.equal(jwks.status, 200);
    assert.match(jwks.headers.get('cache-control') ?? '', /max-age=\d+/);
    const set = (await jwks.json()) as { keys: Record<string, string>[] };
    assert.ok(set.keys.some((k) => k.kid === header.kid && k.kty === 'OKP' && k.crv === 'Ed25519' && k.alg === 'EdDSA'));
    assert.ok(
      set.keys.every((k) => k.d === undefined),
      'no private part is published',
    );

    const verifier = createJwksVerifier({ jwksUrl: `${h.url}/.well-known/jwks.json`, issuer: 'folio-identity', audience: 'folio-api' });
    const principal = await verifier.verify(account.accessToken);
    assert.equal(principal.userId, account.id);
    assert.equal(principal.email, account.email);
    assert.deepEqual(principal.roles, ['customer']);

    const claims = decodeJwt(account.accessToken);
    assert.equal(claims.iss, 'folio-identity');
    assert.equal(claims.aud, 'folio-api');
    assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 900);

    const otherAudience = createJwksVerifier({ jwksUrl: `${h.url}/.well-known/jwks.json`, issuer: 'folio-identity', audience: 'another-api' });
    await assert.rejects(otherAudience.verify(account.accessToken), /audience/);
  });

  test('a token for another audience, correctly signed, is refused by the service itself', async () => {
    const account = await signUp(h.url);
    const now = Math.floor(Date.now() / 1000);
    const token = await signWithServiceKey(h.db, { roles: ['customer'] }, { sub: account.id, audience: 'somewhere-else', exp: now + 600 });
    assertProblem(await call(h.url, 'GET', '/api/me', { token }), 401);
    const good = await signWithServiceKey(h.db, { roles: ['customer'] }, { sub: account.id, exp: now + 600 });
    assert.equal((await call(h.url, 'GET', '/api/me', { token: good })).status, 200);
  });

  test('key rotation: a new key signs, the old one still verifies until it is retired', async () => {
    // A database of its own: rotating the key of the shared one would pull it from under the other tests.
    const own = await startIdentity('identity_rotation');
    try {
      const log = createLogger({ name: 'test', level: 'silent' });
      const settings = { issuer: 'folio-identity', audience: 'folio-api', accessTokenTtlSeconds: 900, refreshTokenTtlSeconds: 3600 };
      // A second instance on the same database signs with the same key as the running service.
      const tokens = await createTokenService({ pool: own.db.pool, log, settings });
      const account = await signUp(own.url);
      const oldKid = decodeProtectedHeader(account.accessToken).kid ?? '';
      assert.deepEqual(
        tokens.jwks().keys.map((k) => k.kid),
        [oldKid],
      );

      const newKid = await rotateSigningKey(own.db.pool);
      await tokens.reloadKeys();
      assert.deepEqual(
        tokens
          .jwks()
          .keys.map((k) => k.kid)
          .sort(),
        [oldKid, newKid].sort(),
      );
      const fresh = await tokens.signAccessToken({ id: account.id, email: account.email, roles: ['customer'] });
      assert.equal(decodeProtectedHeader(fresh).kid, newKid);
      await tokens.verifier.verify(account.accessToken);
      await tokens.verifier.verify(fresh);

      assert.equal(await retireKey(own.db.pool, oldKid), true);
      await tokens.reloadKeys();
      assert.deepEqual(
        tokens.jwks().keys.map((k) => k.kid),
        [newKid],
      );
      await assert.rejects(tokens.verifier.verify(account.accessToken), /unknown key/);
      const local = createLocalVerifier(tokens.jwks(), { issuer: 'folio-identity', audience: 'folio-api' });
      await local.verify(fresh);
    } finally {
      await own.close();
    }
  });
});

describe('refresh tokens', () => {
  const refresh = (refreshToken: string) => call(h.url, 'POST', '/api/auth/refresh', { body: { refreshToken } });

  test('rotation answers working tokens; reusing a rotated token is refused and revokes the whole family', async () => {
    const account = await signUp(h.url);
    const first = await refresh(account.refreshToken);
    assert.equal(first.status, 200);
    assert.notEqual(first.body.refreshToken, account.refreshToken);
    assert.equal((await call(h.url, 'GET', '/api/me', { token: first.body.accessToken })).status, 200);
    const second = await refresh(first.body.refreshToken);
    assert.equal(second.status, 200);

    // The first token again: reuse.
    assertProblem(await refresh(account.refreshToken), 401);
    // The newest token of the family is dead too.
    assertProblem(await refresh(second.body.refreshToken), 401);
    const { rows } = await h.db.pool.query<{ revoked_reason: string }>('SELECT revoked_reason FROM refresh_families WHERE user_id = $1', [account.id]);
    assert.deepEqual(
      rows.map((r) => r.revoked_reason),
      ['reuse'],
    );
    // A new sign-in is a new family and works.
    const again = await login(h.url, account.email, account.password);
    assert.equal((await refresh(again.body.refreshToken)).status, 200);
  });

  test('refresh tokens are stored only as SHA-256 hashes', async () => {
    const account = await signUp(h.url);
    const { rows } = await h.db.pool.query<{ token_hash: Buffer }>(
      'SELECT t.token_hash FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE f.user_id = $1',
      [account.id],
    );
    assert.equal(rows.length, 1);
    const { createHash } = await import('node:crypto');
    assert.deepEqual(rows[0]?.token_hash, createHash('sha256').update(account.refreshToken).digest());
  });

  test('the new access token carries roles changed since the sign-in', async () => {
    const account = await signUp(h.url);
    await h.db.pool.query(`UPDATE users SET roles = '{customer,admin}' WHERE id = $1`, [account.id]);
    const res = await refresh(account.refreshToken);
    assert.equal(res.status, 200);
    assert.deepEqual(decodeJwt(res.body.accessToken).roles, ['customer', 'admin']);
    assert.deepEqual(res.body.user.roles, ['customer', 'admin']);
  });

  test('logout revokes the family, is idempotent, and answers 204 for an unknown token', async () => {
    const account = await signUp(h.url);
    const rotated = await refresh(account.refreshToken);
    const out = await call(h.url, 'POST', '/api/auth/logout', { body: { refreshToken: rotated.body.refreshToken } });
    assert.equal(out.status, 204);
    assertProblem(await refresh(rotated.body.refreshToken), 401);
    assert.equal((await call(h.url, 'POST', '/api/auth/logout', { body: { refreshToken: rotated.body.refreshToken } })).status, 204);
    assert.equal((await call(h.url, 'POST', '/api/auth/logout', { body: { refreshToken: 'never-issued' } })).status, 204);
  });

  test('expired and unknown refresh tokens are 401', async () => {
    const account = await signUp(h.url);
    await h.db.pool.query(
      `UPDATE refresh_tokens SET expires_at = now() - interval '1 second'
        WHERE family_id IN (SELECT id FROM refresh_families WHERE user_id = $1)`,
      [account.id],
    );
    assertProblem(await refresh(account.refreshToken), 401);
    assertProblem(await refresh('A'.repeat(43)), 401);
  });

  test('two concurrent refreshes with one token: exactly one succeeds', async () => {
    for (let round = 0; round < 5; round++) {
      const account = await signUp(h.url);
      const answers = await Promise.all([refresh(account.refreshToken), refresh(account.refreshToken), refresh(account.refreshToken)]);
      const statuses = answers.map((a) => a.status).sort();
      assert.deepEqual(statuses, [200, 401, 401], `round ${round}`);
    }
  });

  test('the sweeper deletes expired tokens and empty families, and nothing else', async () => {
    const log = createLogger({ name: 'test', level: 'silent' });
    const tokens = await createTokenService({
      pool: h.db.pool,
      log,
      settings: { issuer: 'folio-identity', audience: 'folio-api', accessTokenTtlSeconds: 900, refreshTokenTtlSeconds: 3600 },
    });
    const stale = await signUp(h.url);
    const live = await signUp(h.url);
    await withTransaction(h.db.pool, async (tx) => {
      await tx.query(
        `UPDATE refresh_tokens SET expires_at = now() - interval '2 days' WHERE family_id IN (SELECT id FROM refresh_families WHERE user_id = $1)`,
        [stale.id],
      );
      await tx.query(`UPDATE refresh_families SET created_at = now() - interval '40 days' WHERE user_id = $1`, [stale.id]);
    });
    while ((await tokens.deleteExpired(1000)) > 0) {}
    const count = async (userId: string) =>
      (await h.db.pool.query('SELECT 1 FROM refresh_families f JOIN refresh_tokens t ON t.family_id = f.id WHERE f.user_id = $1', [userId])).rowCount;
    assert.equal(await count(stale.id), 0);
    assert.equal((await h.db.pool.query('SELECT 1 FROM refresh_families WHERE user_id = $1', [stale.id])).rowCount, 0);
    assert.equal(await count(live.id), 1);
    assert.equal((await refresh(live.refreshToken)).status, 200);
  });
});
