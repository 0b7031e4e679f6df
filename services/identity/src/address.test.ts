import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type Account, assertProblem, call, type Harness, signUp, startIdentity } from './test-support.ts';

let h: Harness;
before(async () => {
  h = await startIdentity('identity_addresses');
});
after(() => h?.close());

const home = { name: 'Ada Reader', line1: '12 Book Street', city: 'Berlin', postalCode: '10115', country: 'DE' };
const office = { name: 'Ada Reader', line1: 'Platz 1', line2: '3rd floor', city: 'Hamburg', postalCode: '20095', country: 'DE', label: 'Office' };

describe('saved addresses', () => {
  let a: Account;
  const add = (body: unknown, token = a.accessToken) => call(h.url, 'POST', '/api/me/addresses', { token, body });
  const list = async (token = a.accessToken) => (await call(h.url, 'GET', '/api/me/addresses', { token })).body.items as Record<string, unknown>[];

  before(async () => {
    a = await signUp(h.url);
  });

  test('create, list, change and delete; the first address becomes the default, and there is only ever one', async () => {
    const first = await add(home);
    assert.equal(first.status, 201);
    assert.deepEqual({ ...first.body, id: 'x' }, { id: 'x', ...home, isDefault: true });
    const second = await add(office);
    assert.equal(second.status, 201);
    assert.deepEqual({ ...second.body, id: 'x' }, { id: 'x', ...office, isDefault: false });

    const third = await add({ ...home, line1: '1 New Road', label: 'New', isDefault: true });
    assert.equal(third.body.isDefault, true);
    let items = await list();
    assert.deepEqual(
      items.map((x) => [x.id, x.isDefault]),
      [
        [first.body.id, false],
        [second.body.id, false],
        [third.body.id, true],
      ],
    );

    const patched = await call(h.url, 'PATCH', `/api/me/addresses/${second.body.id}`, {
      token: a.accessToken,
      body: { isDefault: true, line2: null, label: 'Work', city: '  Altona ' },
    });
    assert.equal(patched.status, 200);
    const { line2: _removed, ...officeWithoutLine2 } = office;
    assert.deepEqual(patched.body, { id: second.body.id, ...officeWithoutLine2, label: 'Work', city: 'Altona', isDefault: true });
    items = await list();
    assert.deepEqual(
      items.filter((x) => x.isDefault).map((x) => x.id),
      [second.body.id],
    );
    assert.equal('line2' in (items.find((x) => x.id === second.body.id) ?? {}), false);

    const deleted = await call(h.url, 'DELETE', `/api/me/addresses/${third.body.id}`, { token: a.accessToken });
    assert.equal(deleted.status, 204);
    assertProblem(await call(h.url, 'DELETE', `/api/me/addresses/${third.body.id}`, { token: a.accessToken }), 404);
    assert.deepEqual(
      (await list()).map((x) => x.id),
      [first.body.id, second.body.id],
    );
  });

  test('concurrent "make default" requests still leave exactly one default', async () => {
    const b = await signUp(h.url);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await add({ ...home, line1: `${i} Street` }, b.accessToken)).body.id);
    const answers = await Promise.all(ids.map((id) => call(h.url, 'PATCH', `/api/me/addresses/${id}`, { token: b.accessToken, body: { isDefault: true } })));
    assert.deepEqual(
      answers.map((x) => x.status),
      [200, 200, 200, 200, 200],
    );
    assert.equal((await list(b.accessToken)).filter((x) => x.isDefault).length, 1);
  });

  test('at most 20 addresses per user: the 21st is a 422, also when requested concurrently', async () => {
    const c = await signUp(h.url);
    const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => add({ ...home, line1: `${i} Long Lane` }, c.accessToken)));
    const statuses = answers.map((x) => x.status);
    assert.equal(statuses.filter((s) => s === 201).length, 20, statuses.join(','));
    for (const res of answers.filter((x) => x.status !== 201)) {
      assertProblem(res, 422);
      assert.match(res.body.detail, /at most 20 addresses/);
    }
    assert.equal((await list(c.accessToken)).length, 20);
  });

  test('an unknown id is 404, a malformed one 400 naming the parameter', async () => {
    assertProblem(await call(h.url, 'PATCH', `/api/me/addresses/${randomUUID()}`, { token: a.accessToken, body: { city: 'X' } }), 404);
    assertProblem(await call(h.url, 'DELETE', `/api/me/addresses/${randomUUID()}`, { token: a.accessToken }), 404);
    assertProblem(await call(h.url, 'PATCH', '/api/me/addresses/not-a-uuid', { token: a.accessToken, body: { city: 'X' } }), 400, 'params/id');
    assertProblem(await call(h.url, 'DELETE', '/api/me/addresses/123', { token: a.accessToken }), 400, 'params/id');
  });

  test('blank free-text fields are refused naming the field', async () => {
    assertProblem(await add({ ...home, city: '   ' }), 422, 'body/city');
    const [first] = await list();
    assertProblem(await call(h.url, 'PATCH', `/api/me/addresses/${first?.id}`, { token: a.accessToken, body: { name: ' ' } }), 422, 'body/name');
  });
});
