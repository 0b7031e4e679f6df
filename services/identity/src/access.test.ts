import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateKeyPair, SignJWT } from 'jose';
import {
  type Account,
  assertProblem,
  call,
  type Harness,
  login,
  signUp,
  signWithServiceKey,
  startIdentity,
  tamperedToken,
  uniqueEmail,
  unsignedToken,
} from './test-support.ts';

const makeAdmin = fileURLToPath(new URL('./make-admin.ts', import.meta.url));

let h: Harness;
before(async () => {
  h = await startIdentity('identity_access');
});
after(() => h?.close());

const address = { name: 'Ada Reader', line1: '12 Book Street', city: 'Berlin', postalCode: '10115', country: 'DE' };

/** Every guarded endpoint, with a body that would be valid. */
const guarded = (addressId: string, userId: string): [string, string, unknown?][] => [
  ['GET', '/api/me'],
  ['PATCH', '/api/me', { name: 'Someone' }],
  ['GET', '/api/me/addresses'],
  ['POST', '/api/me/addresses', address],
  ['PATCH', `/api/me/addresses/${addressId}`, { city: 'Hamburg' }],
  ['DELETE', `/api/me/addresses/${addressId}`],
  ['GET', '/api/users'],
  ['PUT', `/api/users/${userId}/roles`, { roles: ['admin'] }],
];

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [makeAdmin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('authentication of every /api/me* and /api/users* endpoint', () => {
  let a: Account;
  let addressId: string;
  before(async () => {
    a = await signUp(h.url);
    const created = await call(h.url, 'POST', '/api/me/addresses', { token: a.accessToken, body: address });
    assert.equal(created.status, 201);
    addressId = created.body.id;
  });

  test('without a token, with a tampered, an expired, an alg:none or a foreign-key token: 401 and nothing changes', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await signWithServiceKey(h.db, { roles: ['customer', 'admin'], email: a.email }, { sub: a.id, iat: now - 3600, exp: now - 60 });
    const none = unsignedToken({ sub: a.id, roles: ['customer', 'admin'], iss: 'folio-identity', aud: 'folio-api', iat: now, exp: now + 600 });
    // Signed by a key pair of our own that claims the service's kid.
    const { kid } = JSON.parse(Buffer.from(a.accessToken.split('.')[0] ?? '', 'base64url').toString()) as { kid: string };
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const foreign = await new SignJWT({ roles: ['customer', 'admin'] })
      .setProtectedHeader({ alg: 'EdDSA', kid })
      .setSubject(a.id)
      .setIssuer('folio-identity')
      .setAudience('folio-api')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);

    const tokens: [string, string | undefined, RegExp][] = [
      ['no token', undefined, /Sign in/],
      ['tampered', tamperedToken(a.accessToken), /signature is invalid/],
      ['expired', expired, /expired/],
      ['alg none', none, /algorithm|malformed/],
      ['foreign key', foreign, /signature is invalid/],
      ['not a JWT', 'garbage', /malformed/],
    ];
    for (const [method, path, body] of guarded(addressId, a.id)) {
      for (const [what, token, detail] of tokens) {
        const res = await call(h.url, method, path, { ...(token ? { token } : {}), ...(body !== undefined ? { body } : {}) });
        assertProblem(res, 401);
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/, `${what} ${method} ${path}`);
        assert.match(res.body.detail, detail, `${what} ${method} ${path}`);
      }
    }
    const list = await call(h.url, 'GET', '/api/me/addresses', { token: a.accessToken });
    assert.deepEqual(
      list.body.items.map((x: { id: string; city: string }) => [x.id, x.city]),
      [[addressId, 'Berlin']],
    );
    const me = await call(h.url, 'GET', '/api/me', { token: a.accessToken });
    assert.equal(me.body.name, 'Ada Reader');
    assert.deepEqual(me.body.roles, ['customer']);
  });

  test('an Authorization header that is not a bearer token is 401', async () => {
    const res = await call(h.url, 'GET', '/api/me', { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } });
    assertProblem(res, 401);
  });
});

describe("one user's addresses are invisible to another", () => {
  test('user B cannot read, change or delete user A’s address (404), and A’s addresses are unchanged', async () => {
    const a = await signUp(h.url);
    const b = await signUp(h.url);
    const created = await call(h.url, 'POST', '/api/me/addresses', { token: a.accessToken, body: { ...address, label: 'Home' } });
    assert.equal(created.status, 201);
    const id = created.body.id as string;
    const before = await call(h.url, 'GET', '/api/me/addresses', { token: a.accessToken });

    const listB = await call(h.url, 'GET', '/api/me/addresses', { token: b.accessToken });
    assert.deepEqual(listB.body.items, []);
    const patched = await call(h.url, 'PATCH', `/api/me/addresses/${id}`, { token: b.accessToken, body: { city: 'Elsewhere', isDefault: true } });
    assertProblem(patched, 404);
    const deleted = await call(h.url, 'DELETE', `/api/me/addresses/${id}`, { token: b.accessToken });
    assertProblem(deleted, 404);
    // The same answer as for an id that exists nowhere.
    const unknown = await call(h.url, 'DELETE', `/api/me/addresses/${randomUUID()}`, { token: b.accessToken });
    assertProblem(unknown, 404);
    assert.equal(deleted.body.detail.replace(id, 'ID'), unknown.body.detail.replace(/[0-9a-f-]{36}/, 'ID'));

    const afterwards = await call(h.url, 'GET', '/api/me/addresses', { token: a.accessToken });
    assert.deepEqual(afterwards.body, before.body);
    assert.equal(afterwards.body.items[0].city, 'Berlin');
  });
});

describe('roles', () => {
  let customer: Account;
  let admin: Account;
  before(async () => {
    customer = await signUp(h.url);
    admin = await signUp(h.url, { email: uniqueEmail('admin') });
  });

  test('make-admin promotes an existing account; the next sign-in carries the role', async () => {
    const promoted = await run([admin.email.toUpperCase()], { DATABASE_URL: h.db.url });
    assert.equal(promoted.code, 0, promoted.stderr);
    assert.match(promoted.stdout, new RegExp(`Promoted ${admin.email} \\(${admin.id}\\) to admin`));
    assert.match(promoted.stdout, /Roles: customer, admin/);
    const again = await run([admin.email], { DATABASE_URL: h.db.url });
    assert.equal(again.code, 0);
    assert.match(again.stdout, /already an admin; nothing changed/);

    const signedIn = await login(h.url, admin.email, admin.password);
    assert.deepEqual(signedIn.body.user.roles, ['customer', 'admin']);
    admin.accessToken = signedIn.body.accessToken;
  });

  test('make-admin exits 1 with a clear message for an unknown email, a missing argument or no database', async () => {
    const unknown = await run(['nobody@example.com'], { DATABASE_URL: h.db.url });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /there is no account with the email nobody@example\.com/);
    const usage = await run([], { DATABASE_URL: h.db.url });
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /usage: node services\/identity\/src\/make-admin\.ts <email>/);
    const unreachable = await run(['x@example.com'], { DATABASE_URL: '', FOLIO_EMBEDDED_PG_PORT: '1' });
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /cannot use the identity database at 127\.0\.0\.1:1\/folio_identity/);
  });

  test('a customer gets 403 on /api/users*, an admin 200', async () => {
    assertProblem(await call(h.url, 'GET', '/api/users', { token: customer.accessToken }), 403);
    assertProblem(await call(h.url, 'PUT', `/api/users/${customer.id}/roles`, { token: customer.accessToken, body: { roles: ['customer', 'admin'] } }), 403);

    const list = await call(h.url, 'GET', '/api/users?limit=100', { token: admin.accessToken });
    assert.equal(list.status, 200);
    assert.ok(list.body.items.some((u: { id: string }) => u.id === customer.id));
    assert.ok(list.body.items.every((u: Record<string, unknown>) => u.passwordHash === undefined && u.password_hash === undefined));
  });

  test('the admin list pages with a cursor, without gaps or repeats', async () => {
    for (let i = 0; i < 3; i++) await signUp(h.url);
    const all = await call(h.url, 'GET', '/api/users?limit=100', { token: admin.accessToken });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await call(h.url, 'GET', `/api/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: admin.accessToken });
      assert.equal(page.status, 200);
      assert.ok(page.body.items.length <= 2);
      seen.push(...page.body.items.map((u: { id: string }) => u.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.deepEqual(
      seen,
      all.body.items.map((u: { id: string }) => u.id),
    );
    assertProblem(await call(h.url, 'GET', `/api/users?cursor=${randomUUID()}`, { token: admin.accessToken }), 400, 'cursor');
  });

  test('an admin changes roles; an unknown user is 404; the last admin cannot lose the role', async () => {
    const promoted = await call(h.url, 'PUT', `/api/users/${customer.id}/roles`, { token: admin.accessToken, body: { roles: ['customer', 'admin'] } });
    assert.equal(promoted.status, 200);
    assert.deepEqual(promoted.body.roles, ['customer', 'admin']);
    const demoted = await call(h.url, 'PUT', `/api/users/${customer.id}/roles`, { token: admin.accessToken, body: { roles: ['customer'] } });
    assert.deepEqual(demoted.body.roles, ['customer']);
    // The customer's next token says so.
    const signedIn = await login(h.url, customer.email, customer.password);
    assert.deepEqual(signedIn.body.user.roles, ['customer']);

    assertProblem(await call(h.url, 'PUT', `/api/users/${randomUUID()}/roles`, { token: admin.accessToken, body: { roles: ['customer'] } }), 404);

    const admins = await h.db.pool.query(`SELECT id FROM users WHERE 'admin' = ANY (roles)`);
    assert.equal(admins.rowCount, 1);
    const self = await call(h.url, 'PUT', `/api/users/${admin.id}/roles`, { token: admin.accessToken, body: { roles: ['customer'] } });
    assertProblem(self, 409);
    assert.match(self.body.detail, /last admin/);
  });
});
