import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertProblem, type Harness, login, register, startIdentity } from './test-support.ts';

const WRONG = 'definitely not the password';

let h: Harness;
before(async () => {
  h = await startIdentity('identity_throttle');
});
after(() => h?.close());

function retryAfterOf(res: { headers: Headers }): number {
  const value = Number(res.headers.get('retry-after'));
  assert.ok(Number.isInteger(value) && value >= 1, `Retry-After is a number of seconds: ${res.headers.get('retry-after')}`);
  return value;
}

describe('sign-in throttling (defaults: 5 per account, 20 per address, 15 minutes)', () => {
  test('after 5 failures the account answers 429 with Retry-After, even for the right password; other accounts are unaffected', async () => {
    const victim = await register(h.url);
    const other = await register(h.url);
    for (let i = 0; i < 5; i++) {
      // Each failure from another address: the account's count is what blocks.
      assertProblem(await login(h.url, victim.email, WRONG, `10.1.0.${i + 1}`), 401);
    }
    const blocked = await login(h.url, victim.email, WRONG, '10.1.0.99');
    assertProblem(blocked, 429);
    const wait = retryAfterOf(blocked);
    assert.ok(wait > 800 && wait <= 900, `the window (900 s) minus the few seconds since the first failure: ${wait}`);
    assert.match(blocked.body.detail, /try again in \d+ minutes/);
    assertProblem(await login(h.url, victim.email.toUpperCase(), victim.password, '10.1.0.100'), 429);

    const ok = await login(h.url, other.email, other.password, '10.1.1.1');
    assert.equal(ok.status, 200);
  });

  test('an unknown email is throttled like an existing one (no enumeration through the throttle)', async () => {
    const ghost = `ghost-${Date.now()}@example.com`;
    for (let i = 0; i < 5; i++) assertProblem(await login(h.url, ghost, WRONG, `10.2.0.${i + 1}`), 401);
    assertProblem(await login(h.url, ghost, WRONG, '10.2.0.99'), 429);
  });

  test('a successful sign-in resets the account counter', async () => {
    const user = await register(h.url);
    for (let i = 0; i < 4; i++) assertProblem(await login(h.url, user.email, WRONG, '10.3.0.1'), 401);
    assert.equal((await login(h.url, user.email, user.password, '10.3.0.1')).status, 200);
    for (let i = 0; i < 5; i++) assertProblem(await login(h.url, user.email, WRONG, '10.3.0.1'), 401);
    assertProblem(await login(h.url, user.email, WRONG, '10.3.0.1'), 429);
  });

  test('after 20 failures from one address it answers 429 for every account from there; another address still signs in', async () => {
    const address = '10.4.0.1';
    const user = await register(h.url);
    for (let i = 0; i < 20; i++) assertProblem(await login(h.url, `spray-${i}@example.com`, WRONG, address), 401);
    const blocked = await login(h.url, user.email, user.password, address);
    assertProblem(blocked, 429);
    assert.match(blocked.body.detail, /network address/);
    retryAfterOf(blocked);
    // The client address comes from X-Forwarded-For (the gateway's); a chain names the client first.
    assertProblem(await login(h.url, user.email, user.password, `${address}, 10.250.0.1`), 429);
    assert.equal((await login(h.url, user.email, user.password, '10.4.0.2')).status, 200);
  });

  test('a burst of concurrent guesses cannot slip past the limit while passwords are being checked', async () => {
    const user = await register(h.url);
    const answers = await Promise.all(Array.from({ length: 15 }, (_, i) => login(h.url, user.email, WRONG, `10.5.0.${i + 1}`)));
    const statuses = answers.map((a) => a.status);
    const guessed = statuses.filter((s) => s === 401).length;
    // Never more than the limit; under a burst it may be fewer (an attempt counts the charges of those racing it).
    assert.ok(guessed <= 5, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 15 - guessed, statuses.join(','));
    // What the burst left unused can still be spent, one by one, and then no more.
    let more = 0;
    while ((await login(h.url, user.email, WRONG, '10.5.1.1')).status === 401) more++;
    assert.equal(guessed + more, 5);
  });
});

describe('the throttle is shared by instances and ends with its window', () => {
  let short: Harness;
  before(async () => {
    // A second instance on the same database, with a short window and a limit of 2.
    short = await startIdentity(
      'identity_throttle_short',
      { LOGIN_MAX_FAILURES_PER_ACCOUNT: '2', LOGIN_MAX_FAILURES_PER_ADDRESS: '100', LOGIN_FAILURE_WINDOW_SECONDS: '2' },
      h.db,
    );
  });
  after(() => short?.close());

  test('failures counted by one instance block on another, until the window passes', async () => {
    const user = await register(h.url);
    assertProblem(await login(h.url, user.email, WRONG, '10.6.0.1'), 401);
    assertProblem(await login(short.url, user.email, WRONG, '10.6.0.2'), 401);
    const blocked = await login(short.url, user.email, user.password, '10.6.0.3');
    assertProblem(blocked, 429);
    assert.ok(retryAfterOf(blocked) <= 2);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    assert.equal((await login(short.url, user.email, user.password, '10.6.0.3')).status, 200);
  });
});
