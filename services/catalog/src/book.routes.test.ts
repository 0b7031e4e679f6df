import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Product, ProductPage } from './book.schemas.ts';
import { type Answer, type CatalogFixture, call, startCatalog } from './catalog.fixture.ts';
import type { CategoryTree } from './category.schemas.ts';
import { seedCatalog } from './seed.ts';

const SEEDED = 500;

let f: CatalogFixture;
let tree: CategoryTree['items'];
const categoryId = (slug: string): string => {
  for (const top of tree) {
    if (top.slug === slug) return top.id;
    for (const sub of top.children) if (sub.slug === slug) return sub.id;
  }
  throw new Error(`no category ${slug}`);
};

const get = <T = ProductPage>(path: string) => call<T>(f.url, 'GET', path);
const admin = <T = Product>(method: string, path: string, body?: unknown) => call<T>(f.url, method, path, { token: f.adminToken, body });

/** Every page of a listing, following nextCursor. */
async function pageAll(query: string, limit = 37): Promise<Product[]> {
  const items: Product[] = [];
  let cursor: string | null = null;
  for (let pages = 0; ; pages++) {
    assert.ok(pages < 200, 'paging does not end');
    const res: Answer<ProductPage> = await get(`/api/products?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(res.body.items.length <= limit);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
    if (cursor === null) return items;
    assert.equal(res.body.items.length, limit, 'only the last page may be short');
  }
}

const ids = (items: Product[]) => items.map((p) => p.id);

before(async () => {
  f = await startCatalog('catalog-api');
  const seeded = await seedCatalog(f.pool, { books: SEEDED });
  assert.equal(seeded.inserted, SEEDED);
  tree = (await get<CategoryTree>('/api/categories')).body.items;
});
after(() => f.close());

describe('categories', () => {
  test('the tree: top-level categories with their sub-categories', async () => {
    const res = await get<CategoryTree>('/api/categories');
    assert.equal(res.status, 200);
    assert.ok(res.body.items.length >= 5);
    const fiction = res.body.items.find((c) => c.slug === 'fiction');
    assert.ok(fiction);
    assert.equal(fiction.name, 'Fiction');
    assert.ok(fiction.children.some((c) => c.slug === 'fantasy' && c.name === 'Fantasy' && c.children.length === 0));
    const total = res.body.items.reduce((n, c) => n + 1 + c.children.length, 0);
    assert.ok(total >= 20 && total <= 35, `${total} categories`);
  });
});

describe('search', () => {
  let book: Product;
  before(async () => {
    const res = await admin('POST', '/api/products', {
      title: 'The Zephyrine Atlas of Mirrormere',
      authors: ['Ottoline Quarrington', 'Bartholomew Snell'],
      isbn: '978-0-306-40615-7',
      description: 'A cartographer maps a lake that moves.',
      price: { amount: 1850, currency: 'EUR' },
      categoryId: categoryId('fantasy'),
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    book = res.body;
  });

  const search = async (q: string, extra = '') => {
    const res = await get(`/api/products?q=${encodeURIComponent(q)}${extra}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.items;
  };

  test('finds a book by a word of its title, first by relevance', async () => {
    assert.equal((await search('mirrormere'))[0]?.id, book.id);
    assert.equal((await search('Zephyrine atlas'))[0]?.id, book.id);
  });

  test('finds a seeded book by its whole title', async () => {
    const { rows } = await f.pool.query<{ id: string; title: string }>("SELECT id, title FROM books WHERE title LIKE '% of %' ORDER BY isbn LIMIT 1");
    const seeded = rows[0]!;
    assert.ok(ids(await search(seeded.title, '&limit=100')).includes(seeded.id), seeded.title);
  });

  test('finds a book by an author, by part of the name, and by a misspelt name (trigrams)', async () => {
    for (const q of ['Ottoline Quarrington', 'Quarrington', 'quarr', 'Quarington', 'Otoline Quarington', 'Bartholomew Snel']) {
      assert.equal((await search(q))[0]?.id, book.id, q);
    }
  });

  test('finds a book by its ISBN: 13 digits, hyphenated, or the ISBN-10', async () => {
    for (const q of ['9780306406157', '978-0-306-40615-7', '978 0 306 40615 7', '0-306-40615-2', '0306406152']) {
      const items = await search(q);
      assert.equal(items[0]?.id, book.id, q);
    }
    const { rows } = await f.pool.query<{ id: string; isbn: string }>('SELECT id, isbn FROM books ORDER BY isbn DESC LIMIT 1');
    const seeded = rows[0]!;
    const hyphenated = `${seeded.isbn.slice(0, 3)}-${seeded.isbn.slice(3, 4)}-${seeded.isbn.slice(4, 8)}-${seeded.isbn.slice(8, 12)}-${seeded.isbn.slice(12)}`;
    assert.deepEqual(ids(await search(hyphenated)).slice(0, 1), [seeded.id]);
  });

  test('an unknown word finds nothing', async () => {
    assert.deepEqual(await search('xylophonic quasicrystal'), []);
  });

  test('the category filter includes sub-categories, by slug or id', async () => {
    assert.deepEqual(ids(await search('mirrormere', '&category=fiction')), [book.id]);
    assert.deepEqual(ids(await search('mirrormere', `&category=${categoryId('fiction')}`)), [book.id]);
    assert.deepEqual(ids(await search('mirrormere', '&category=fantasy')), [book.id]);
    assert.deepEqual(await search('mirrormere', '&category=science'), []);
    assert.deepEqual(await search('mirrormere', '&category=thriller'), []);

    const fiction = tree.find((c) => c.slug === 'fiction')!;
    const inFiction = new Set(fiction.children.map((c) => c.id));
    const items = await pageAll('category=fiction', 100);
    assert.ok(items.length > 100, 'the seed puts many books under fiction');
    for (const item of items) assert.ok(item.category && inFiction.has(item.category.id), `${item.title} is in ${item.category?.slug}`);
  });
});

describe('paging over the seeded catalogue', () => {
  let activeIds: Set<string>;
  before(async () => {
    // Retire a few books: the listing must leave them out.
    const { rows } = await f.pool.query<{ id: string }>('SELECT id FROM books ORDER BY isbn LIMIT 9');
    for (const r of rows) assert.equal((await admin('POST', `/api/products/${r.id}/retire`)).status, 200);
    // Some equal titles, so the title order needs its tie-breaker too (prices and arrival times tie already).
    await f.pool.query("UPDATE books SET title = 'Twins' WHERE id IN (SELECT id FROM books WHERE status = 'active' ORDER BY isbn DESC LIMIT 5)");
    const active = await f.pool.query<{ id: string }>("SELECT id FROM books WHERE status = 'active'");
    activeIds = new Set(active.rows.map((r) => r.id));
  });

  const expected: Record<string, string> = {
    title: 'title ASC, id ASC',
    price_asc: 'price_amount ASC, id ASC',
    price_desc: 'price_amount DESC, id DESC',
    newest: 'created_at DESC, id DESC',
  };

  for (const [sort, orderBy] of Object.entries(expected)) {
    test(`every active book exactly once, in ${sort} order`, async () => {
      const items = await pageAll(`sort=${sort}`);
      const seen = ids(items);
      assert.equal(new Set(seen).size, seen.length, 'no book twice');
      assert.equal(seen.length, activeIds.size);
      for (const id of seen) assert.ok(activeIds.has(id), 'only active books');
      const { rows } = await f.pool.query<{ id: string }>(`SELECT id FROM books WHERE status = 'active' ORDER BY ${orderBy}`);
      assert.deepEqual(seen, ids(rows as Product[]));
    });

    test(`every active fiction book exactly once, in ${sort} order`, async () => {
      const items = await pageAll(`sort=${sort}&category=fiction`);
      const { rows } = await f.pool.query<{ id: string }>(
        `SELECT b.id FROM books b JOIN categories c ON c.id = b.category_id
         WHERE b.status = 'active' AND (c.slug = 'fiction' OR c.parent_id = (SELECT id FROM categories WHERE slug = 'fiction'))
         ORDER BY ${orderBy.replace(/(\w+) (ASC|DESC)/g, 'b.$1 $2')}`,
      );
      assert.ok(rows.length > 37 * 3);
      assert.deepEqual(ids(items), ids(rows as Product[]));
    });
  }

  test('by relevance: every match exactly once, whatever the page size', async () => {
    const small = await pageAll('q=guide');
    const large = await pageAll('q=guide', 100);
    assert.ok(small.length > 37 * 2, `${small.length} matches`);
    assert.equal(new Set(ids(small)).size, small.length, 'no book twice');
    assert.deepEqual(ids(small), ids(large));
    for (const item of small) assert.equal(item.status, 'active');
  });

  test('the default order is by title without q, by relevance with q', async () => {
    const byTitle = await get('/api/products?limit=50&sort=title');
    assert.deepEqual(ids((await get('/api/products?limit=50')).body.items), ids(byTitle.body.items));
    assert.deepEqual(ids((await get('/api/products?limit=50&q=&sort=relevance')).body.items), ids(byTitle.body.items));
    assert.deepEqual(
      ids((await get('/api/products?q=guide&limit=50')).body.items),
      ids((await get('/api/products?q=guide&sort=relevance&limit=50')).body.items),
    );
  });

  test('pages default to 20 items', async () => {
    const res = await get('/api/products');
    assert.equal(res.body.items.length, 20);
    assert.equal(typeof res.body.nextCursor, 'string');
  });
});

describe('admin changes', () => {
  let created: Product;

  test('create: 201 with Location, normalised ISBN, integer price, out of stock until inventory says otherwise', async () => {
    const res = await admin('POST', '/api/products', {
      title: '  The Lighthouse Keeper  ',
      authors: ['Iris Pembleton '],
      isbn: '0-8044-2957-X',
      price: { amount: 1299, currency: 'EUR' },
      categoryId: categoryId('literary-fiction'),
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    created = res.body;
    assert.equal(res.headers.get('location'), `/api/products/${created.id}`);
    assert.deepEqual(
      { ...created, id: undefined },
      {
        id: undefined,
        title: 'The Lighthouse Keeper',
        authors: ['Iris Pembleton'],
        isbn: '9780804429573',
        description: '',
        price: { amount: 1299, currency: 'EUR' },
        category: { id: categoryId('literary-fiction'), name: 'Literary Fiction', slug: 'literary-fiction' },
        status: 'active',
        availability: 'out_of_stock',
        inStock: false,
      },
    );
    assert.deepEqual((await get<Product>(`/api/products/${created.id}`)).body, created);
  });

  test('a duplicate ISBN is a 409, in any of its forms', async () => {
    const res = await admin('POST', '/api/products', {
      title: 'Another',
      authors: ['Someone'],
      isbn: '978-0-8044-2957-3',
      price: { amount: 999, currency: 'EUR' },
      categoryId: categoryId('romance'),
    });
    assert.equal(res.status, 409);
    assert.match(res.contentType, /application\/problem\+json/);
    assert.equal((res.body as unknown as { bookId: string }).bookId, created.id);
  });

  test('update: only the given fields change, with the same rules', async () => {
    const res = await admin('PATCH', `/api/products/${created.id}`, { title: 'The Lighthouse Keeper (Revised)', price: { amount: 1450, currency: 'EUR' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.title, 'The Lighthouse Keeper (Revised)');
    assert.deepEqual(res.body.price, { amount: 1450, currency: 'EUR' });
    assert.deepEqual(res.body.authors, ['Iris Pembleton']);
    assert.equal(res.body.isbn, '9780804429573');

    const moved = await admin('PATCH', `/api/products/${created.id}`, { categoryId: categoryId('horror'), authors: ['Iris Pembleton', 'Hugo Marsh'] });
    assert.equal(moved.status, 200);
    assert.equal(moved.body.category?.slug, 'horror');
    assert.deepEqual(moved.body.authors, ['Iris Pembleton', 'Hugo Marsh']);

    // Its own ISBN again is no conflict; another book's is.
    assert.equal((await admin('PATCH', `/api/products/${created.id}`, { isbn: '080442957X' })).status, 200);
    const { rows } = await f.pool.query<{ isbn: string }>('SELECT isbn FROM books WHERE id <> $1 LIMIT 1', [created.id]);
    assert.equal((await admin('PATCH', `/api/products/${created.id}`, { isbn: rows[0]!.isbn })).status, 409);
    assert.equal((await admin('PATCH', `/api/products/${crypto.randomUUID()}`, { title: 'Nobody' })).status, 404);
  });

  test('retire: gone from listings and search, still readable by id and by ids=, idempotent; reactivate brings it back', async () => {
    const listed = async () => ids((await get(`/api/products?q=${encodeURIComponent('lighthouse keeper')}`)).body.items).includes(created.id);
    assert.ok(await listed());

    const retired = await admin('POST', `/api/products/${created.id}/retire`);
    assert.equal(retired.status, 200);
    assert.equal(retired.body.status, 'unavailable');
    assert.equal(await listed(), false);
    assert.ok(!ids(await pageAll('sort=newest&category=horror', 100)).includes(created.id));

    const byId = await get<Product>(`/api/products/${created.id}`);
    assert.equal(byId.status, 200);
    assert.equal(byId.body.status, 'unavailable');
    const other = (await get('/api/products?limit=1')).body.items[0]!;
    const batch = await get(`/api/products?ids=${created.id},${other.id},${crypto.randomUUID()}`);
    assert.equal(batch.status, 200);
    assert.deepEqual(new Set(ids(batch.body.items)), new Set([created.id, other.id]));
    assert.equal(batch.body.items.find((p) => p.id === created.id)?.status, 'unavailable');
    assert.equal(batch.body.nextCursor, null);

    const again = await admin('POST', `/api/products/${created.id}/retire`);
    assert.equal(again.status, 200);
    assert.equal(again.body.status, 'unavailable');

    const back = await admin('POST', `/api/products/${created.id}/reactivate`);
    assert.equal(back.status, 200);
    assert.equal(back.body.status, 'active');
    assert.ok(await listed());
    assert.equal((await admin('POST', `/api/products/${created.id}/reactivate`)).body.status, 'active');
    assert.equal((await admin('POST', `/api/products/${crypto.randomUUID()}/retire`)).status, 404);
  });
});

describe('access to admin routes', () => {
  const body = { title: 'Denied', authors: ['Nobody'], isbn: '9780306406157', price: { amount: 100, currency: 'EUR' }, categoryId: crypto.randomUUID() };
  const routes = (id: string): Array<[string, string, unknown]> => [
    ['POST', '/api/products', body],
    ['PATCH', `/api/products/${id}`, { title: 'Denied' }],
    ['POST', `/api/products/${id}/retire`, undefined],
    ['POST', `/api/products/${id}/reactivate`, undefined],
  ];
  let id: string;
  before(async () => {
    id = (await get('/api/products?limit=1')).body.items[0]!.id;
  });

  test('a customer gets 403', async () => {
    for (const [method, path, b] of routes(id)) {
      const res = await call(f.url, method, path, { token: f.customerToken, body: b });
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.match(res.contentType, /application\/problem\+json/);
    }
  });

  test('no token, a tampered token, an expired token or another scheme get 401', async () => {
    const [head, payload, signature] = f.adminToken.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), sub: 'mallory' })).toString('base64url');
    const expired = await f.identity.token('admin-1', { roles: ['admin'], expiresIn: Math.floor(Date.now() / 1000) - 60 });
    const flipped = `${signature!.slice(0, -2)}${signature!.endsWith('AA') ? 'BB' : 'AA'}`;
    const cases: Array<[string, Record<string, string>]> = [
      ['none', {}],
      ['tampered payload', { authorization: `Bearer ${head}.${forgedPayload}.${signature}` }],
      ['tampered signature', { authorization: `Bearer ${head}.${payload}.${flipped}` }],
      ['expired', { authorization: `Bearer ${expired}` }],
      ['basic', { authorization: 'Basic YWRtaW46YWRtaW4=' }],
    ];
    for (const [what, headers] of cases) {
      for (const [method, path, b] of routes(id)) {
        const res = await call(f.url, method, path, { headers, body: b });
        assert.equal(res.status, 401, `${what}: ${method} ${path}`);
        assert.match(res.contentType, /application\/problem\+json/);
      }
    }
    assert.equal((await get<Product>(`/api/products/${id}`)).body.status, 'active', 'nothing changed');
  });
});

describe('bad input is a 4xx problem naming the field, never a 500', () => {
  const valid = () => ({
    title: 'Valid',
    authors: ['A. Writer'],
    isbn: '9791090636071',
    price: { amount: 1299, currency: 'EUR' },
    categoryId: categoryId('fantasy'),
  });
  let existing: string;
  before(async () => {
    existing = (await get('/api/products?limit=1')).body.items[0]!.id;
  });

  async function expectProblem(res: { status: number; contentType: string; body: unknown }, status: number, field: string, label: string) {
    assert.equal(res.status, status, `${label}: ${JSON.stringify(res.body)}`);
    assert.match(res.contentType, /application\/problem\+json/, label);
    const problem = res.body as { detail: string; errors?: Array<{ field: string }> };
    assert.ok(problem.detail.includes(field) || problem.errors?.some((e) => e.field.includes(field)), `${label}: ${problem.detail} names ${field}`);
  }

  test('creating a book', async () => {
    const cases: Array<[string, Record<string, unknown>, number, string]> = [
      ['title of the wrong type', { title: 42 }, 400, 'body/title'],
      ['empty title', { title: '' }, 400, 'body/title'],
      ['blank title', { title: '   ' }, 400, 'body/title'],
      ['oversized title', { title: 'x'.repeat(301) }, 400, 'body/title'],
      ['no authors', { authors: [] }, 400, 'body/authors'],
      ['eleven authors', { authors: Array.from({ length: 11 }, (_, i) => `Author ${i}`) }, 400, 'body/authors'],
      ['oversized author', { authors: ['a'.repeat(201)] }, 400, 'body/authors/0'],
      ['empty author', { authors: ['ok', ''] }, 400, 'body/authors/1'],
      ['authors as a string', { authors: 'A. Writer' }, 400, 'body/authors'],
      ['bad ISBN check digit', { isbn: '9791090636072' }, 400, 'body/isbn'],
      ['ISBN of letters', { isbn: 'not-an-isbn-at-all' }, 400, 'body/isbn'],
      ['ISBN-10 with a bad check digit', { isbn: '0-8044-2957-1' }, 400, 'body/isbn'],
      ['negative price', { price: { amount: -100, currency: 'EUR' } }, 400, 'body/price/amount'],
      ['zero price', { price: { amount: 0, currency: 'EUR' } }, 400, 'body/price/amount'],
      ['huge price', { price: { amount: 10_000_001, currency: 'EUR' } }, 400, 'body/price/amount'],
      ['fractional price', { price: { amount: 12.99, currency: 'EUR' } }, 400, 'body/price/amount'],
      ['price as a string', { price: { amount: '1299', currency: 'EUR' } }, 400, 'body/price/amount'],
      ['price as a number', { price: 12.99 }, 400, 'body/price'],
      ['another currency', { price: { amount: 1299, currency: 'USD' } }, 400, 'body/price/currency'],
      ['no currency', { price: { amount: 1299 } }, 400, 'body/price/currency'],
      ['extra price field', { price: { amount: 1299, currency: 'EUR', vat: 7 } }, 400, 'body/price/vat'],
      ['malformed category id', { categoryId: 'fantasy' }, 400, 'body/categoryId'],
      ['unknown category', { categoryId: crypto.randomUUID() }, 422, 'body/categoryId'],
      ['oversized description', { description: 'd'.repeat(10_001) }, 400, 'body/description'],
      ['unknown field', { colour: 'red' }, 400, 'body/colour'],
      ['status is not set by create', { status: 'unavailable' }, 400, 'body/status'],
      ['missing title', { title: undefined }, 400, 'body/title'],
      ['NUL in the title', { title: 'a\u0000b' }, 400, 'body/title'],
      ['NUL in an author', { authors: ['ok', 'x\u0000'] }, 400, 'body/authors/1'],
      ['NUL in the description', { description: '\u0000' }, 400, 'body/description'],
    ];
    for (const [label, change, status, field] of cases) {
      await expectProblem(await admin('POST', '/api/products', { ...valid(), ...change }), status, field, label);
    }
    const notJson = await fetch(`${f.url}/api/products`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${f.adminToken}` },
      body: '{"title": ',
    });
    assert.equal(notJson.status, 400);
    assert.equal((await admin('POST', '/api/products', [valid()])).status, 400);
    const { rows } = await f.pool.query("SELECT 1 FROM books WHERE isbn = '9791090636071'");
    assert.equal(rows.length, 0, 'nothing was created');
  });

  test('changing a book', async () => {
    const cases: Array<[string, string, unknown, number, string]> = [
      ['empty change', existing, {}, 400, 'body'],
      ['negative price', existing, { price: { amount: -1, currency: 'EUR' } }, 400, 'body/price/amount'],
      ['bad ISBN', existing, { isbn: '9780306406158' }, 400, 'body/isbn'],
      ['unknown category', existing, { categoryId: crypto.randomUUID() }, 422, 'body/categoryId'],
      ['oversized title', existing, { title: 't'.repeat(301) }, 400, 'body/title'],
      ['null title', existing, { title: null }, 400, 'body/title'],
      ['NUL in the title', existing, { title: 'x\u0000' }, 400, 'body/title'],
      ['unknown field', existing, { status: 'active' }, 400, 'body/status'],
      ['malformed id', 'not-a-uuid', { title: 'x' }, 400, 'params/id'],
    ];
    for (const [label, id, body, status, field] of cases) await expectProblem(await admin('PATCH', `/api/products/${id}`, body), status, field, label);
    for (const action of ['retire', 'reactivate']) await expectProblem(await admin('POST', `/api/products/1234/${action}`), 400, 'params/id', action);
  });

  test('reading books', async () => {
    const otherSort = (await get('/api/products?sort=title&limit=1')).body.nextCursor!;
    const forge = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const cases: Array<[string, string, number, string]> = [
      ['limit 0', 'limit=0', 400, 'querystring/limit'],
      ['limit 1000', 'limit=1000', 400, 'querystring/limit'],
      ['negative limit', 'limit=-5', 400, 'querystring/limit'],
      ['limit of letters', 'limit=ten', 400, 'querystring/limit'],
      ['oversized q', `q=${'q'.repeat(201)}`, 400, 'querystring/q'],
      ['NUL in q', 'q=a%00b', 400, 'querystring/q'],
      ['unknown sort', 'sort=popularity', 400, 'querystring/sort'],
      ['malformed cursor', 'cursor=not*a*cursor', 400, 'querystring/cursor'],
      ['garbage cursor', 'cursor=abcdef', 400, 'querystring/cursor'],
      ['cursor of another sort', `sort=price_asc&cursor=${otherSort}`, 400, 'querystring/cursor'],
      ['forged cursor key', `sort=price_asc&cursor=${forge({ s: 'price_asc', k: '1 OR 1=1', i: existing })}`, 400, 'querystring/cursor'],
      ['impossible date in a cursor', `sort=newest&cursor=${forge({ s: 'newest', k: '2025-02-30T00:00:00.000000Z', i: existing })}`, 400, 'querystring/cursor'],
      ['oversized cursor', `cursor=${'a'.repeat(2000)}`, 400, 'querystring/cursor'],
      ['NUL in a cursor key', `sort=title&cursor=${forge({ s: 'title', k: 'a\u0000', i: existing })}`, 400, 'querystring/cursor'],
      ['malformed ids', 'ids=1,2,3', 400, 'querystring/ids'],
      ['empty id in ids', `ids=${existing},,${existing}`, 400, 'querystring/ids'],
      ['101 ids', `ids=${Array.from({ length: 101 }, () => crypto.randomUUID()).join(',')}`, 400, 'querystring/ids'],
      ['category with spaces', 'category=no%20such', 400, 'querystring/category'],
      ['unknown category', 'category=no-such-category', 404, 'category'],
      ['unknown parameter', 'colour=red', 400, 'querystring/colour'],
      ['repeated parameter', 'q=a&q=b', 400, 'querystring/q'],
    ];
    for (const [label, query, status, field] of cases) await expectProblem(await get(`/api/products?${query}`), status, field, label);
    await expectProblem(await get('/api/products/not-a-uuid'), 400, 'params/id', 'malformed id');
    await expectProblem(await get(`/api/products/${crypto.randomUUID()}`), 404, 'No book', 'unknown id');
  });

  test('odd but valid searches answer 200', async () => {
    for (const q of ['the', '"unbalanced', 'a & b | !c', "o'sullivan", '<script>', '%_\\', '978', 'ÄÖÜ ß', '-', ':*', '  ']) {
      const res = await get(`/api/products?q=${encodeURIComponent(q)}&sort=relevance`);
      assert.equal(res.status, 200, `${q}: ${JSON.stringify(res.body)}`);
    }
  });
});

test('the OpenAPI document describes every route, with security on admin routes', async () => {
  const doc = (await get<{ paths: Record<string, Record<string, { tags?: string[]; summary?: string; security?: unknown[] }>> }>('/openapi.json')).body;
  const operations = [
    ['/api/products', 'get', false],
    ['/api/products', 'post', true],
    ['/api/products/{id}', 'get', false],
    ['/api/products/{id}', 'patch', true],
    ['/api/products/{id}/retire', 'post', true],
    ['/api/products/{id}/reactivate', 'post', true],
    ['/api/categories', 'get', false],
  ] as const;
  for (const [path, method, secured] of operations) {
    const op = doc.paths[path]?.[method];
    assert.ok(op?.summary && op.tags?.length, `${method} ${path}`);
    assert.equal(Boolean(op.security), secured, `${method} ${path} security`);
  }
});
