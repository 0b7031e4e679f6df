import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Address } from '@folio/contracts/address';
import { EmbeddedTransport } from '@folio/platform/messaging/embedded-transport';
import { type RunningService, startService } from '@folio/platform/service';
import { createTestDatabase, type TestDatabase } from '@folio/platform/testing';
import { Value } from 'typebox/value';
import { postalCodeFormats } from './postal-codes.ts';
import module from './service.ts';

interface Money {
  amount: number;
  currency: string;
}
interface Option {
  id: string;
  name: string;
  price: Money;
  estimatedDays: { min: number; max: number };
}
interface FieldError {
  field: string;
  message: string;
}
interface Answer {
  status: number;
  type: string;
  // biome-ignore lint/suspicious/noExplicitAny: test answers are inspected field by field
  body: any;
}

let db: TestDatabase;
let service: RunningService;

before(async () => {
  db = await createTestDatabase('shipping');
  service = await startService(module, { env: { DATABASE_URL: db.url, PORT: '0', LOG_LEVEL: 'warn' }, transport: new EmbeddedTransport() });
});
after(async () => {
  await service?.close();
  await db?.drop();
});

async function answer(res: Response): Promise<Answer> {
  const type = res.headers.get('content-type') ?? '';
  const text = await res.text();
  return { status: res.status, type, body: text && type.includes('json') ? JSON.parse(text) : text };
}
const get = async (path: string) => answer(await fetch(`${service.url}${path}`));
const post = async (path: string, body: unknown, contentType = 'application/json') =>
  answer(
    await fetch(`${service.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
const options = async (query: string): Promise<Option[]> => {
  const res = await get(`/api/shipping/options?${query}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.options;
};
const byId = (list: Option[], id: string): Option => {
  const found = list.find((o) => o.id === id);
  assert.ok(found, `no ${id} option in ${JSON.stringify(list)}`);
  return found;
};

/** A 4xx problem whose errors name `field`. */
function assertProblem(res: Answer, status: number, field: string | RegExp) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(res.type, /application\/problem\+json/);
  const fields = ((res.body.errors ?? []) as FieldError[]).map((e) => e.field);
  assert.ok(
    fields.some((f) => (typeof field === 'string' ? f === field : field.test(f))),
    `expected an error naming ${field}, got ${JSON.stringify(res.body)}`,
  );
}

describe('GET /api/shipping/options', () => {
  for (const country of ['DE', 'FR', 'US']) {
    test(`${country}: standard and express, express dearer, more items cost more, integer euro cents, cheapest first`, async () => {
      const one = await options(`country=${country}&items=1`);
      const five = await options(`country=${country}&items=5`);
      for (const list of [one, five]) {
        const standard = byId(list, 'standard');
        const express = byId(list, 'express');
        assert.equal(standard.name, 'Standard');
        assert.equal(express.name, 'Express');
        assert.ok(express.price.amount > standard.price.amount, 'express is dearer');
        assert.ok(express.estimatedDays.max <= standard.estimatedDays.max, 'express is not slower');
        for (const o of list) {
          assert.ok(Number.isInteger(o.price.amount) && o.price.amount > 0, `${o.id}: ${o.price.amount}`);
          assert.equal(o.price.currency, 'EUR');
          assert.ok(Number.isInteger(o.estimatedDays.min) && o.estimatedDays.min <= o.estimatedDays.max);
        }
        const amounts = list.map((o) => o.price.amount);
        assert.deepEqual(
          amounts,
          [...amounts].sort((a, b) => a - b),
          'ordered by price',
        );
      }
      for (const o of one) assert.ok(byId(five, o.id).price.amount > o.price.amount, `${o.id}: 5 items cost more than 1`);
    });
  }

  test('the price follows the rate table: base, each item after the first, each started kg above 400 g a book', async () => {
    // domestic standard: 395 + 100 per extra item + 100 per started kg over the allowance
    assert.deepEqual(byId(await options('country=DE'), 'standard').price, { amount: 395, currency: 'EUR' });
    assert.equal(byId(await options('country=DE&items=5'), 'standard').price.amount, 395 + 4 * 100);
    assert.equal(byId(await options('country=DE&items=3&weightGrams=1200'), 'standard').price.amount, 395 + 2 * 100, 'average books: no weight surcharge');
    assert.equal(byId(await options('country=DE&items=3&weightGrams=200'), 'standard').price.amount, 395 + 2 * 100, 'light books are not cheaper');
    assert.equal(byId(await options('country=DE&items=3&weightGrams=1201'), 'standard').price.amount, 395 + 2 * 100 + 100, 'a started kg');
    assert.equal(byId(await options('country=DE&items=3&weightGrams=3200'), 'standard').price.amount, 395 + 2 * 100 + 2 * 100);
    const domestic = await options('country=DE');
    assert.deepEqual(
      domestic.map((o) => o.id),
      ['economy', 'standard', 'express'],
    );
    assert.deepEqual(byId(domestic, 'express').estimatedDays, { min: 1, max: 1 });
    // Economy is domestic and EU only.
    assert.deepEqual(
      (await options('country=US')).map((o) => o.id),
      ['standard', 'express'],
    );
  });

  test('standard shipping is free within Germany from €50, and only there and only standard', async () => {
    const free = await options('country=DE&items=3&subtotal=5000');
    assert.deepEqual(byId(free, 'standard').price, { amount: 0, currency: 'EUR' });
    assert.equal(free[0]?.id, 'standard', 'free is the cheapest, listed first');
    assert.ok(byId(free, 'express').price.amount > 0);
    assert.equal(byId(await options('country=DE&items=3&subtotal=4999'), 'standard').price.amount, 595);
    assert.equal(byId(await options('country=DE&items=3'), 'standard').price.amount, 595, 'no subtotal: no free shipping');
    assert.ok(byId(await options('country=FR&subtotal=100000'), 'standard').price.amount > 0, 'not abroad');
  });

  test('the threshold is configuration', async () => {
    const other = await startService(module, {
      env: { DATABASE_URL: db.url, PORT: '0', LOG_LEVEL: 'warn', SHIPPING_FREE_THRESHOLD_MINOR: '2000' },
      transport: new EmbeddedTransport(),
    });
    try {
      const res = await fetch(`${other.url}/api/shipping/options?country=DE&subtotal=2000`);
      assert.equal(byId(((await res.json()) as { options: Option[] }).options, 'standard').price.amount, 0);
    } finally {
      await other.close();
    }
    assert.ok(byId(await options('country=DE&subtotal=2000'), 'standard').price.amount > 0, 'the default is €50');
  });

  test('accepts a lower-case country and answers it in upper case; items default to 1', async () => {
    const res = await get('/api/shipping/options?country=de');
    assert.equal(res.status, 200);
    assert.equal(res.body.country, 'DE');
    assert.deepEqual(res.body.options, await options('country=DE&items=1'));
  });

  test('a country we do not ship to is a 422 naming the country', async () => {
    for (const country of ['RU', 'ZZ', 'kp']) {
      const res = await get(`/api/shipping/options?country=${country}`);
      assertProblem(res, 422, '/country');
      assert.equal(res.body.detail, `We don't ship to ${country.toUpperCase()} yet.`);
      assert.equal(res.body.country, country.toUpperCase());
    }
  });

  test('rates are data: an operator changes a price, adds a country, pauses a method, without a restart', async () => {
    try {
      await db.pool.query("UPDATE shipping_rates SET base_minor = 1234 WHERE zone_id = 'europe' AND method_id = 'standard'");
      assert.equal(byId(await options('country=GB'), 'standard').price.amount, 1234);
      assertProblem(await get('/api/shipping/options?country=MX'), 422, '/country');
      await db.pool.query("INSERT INTO zone_countries (country, zone_id) VALUES ('MX', 'world')");
      assert.deepEqual(await options('country=MX'), await options('country=US'));
      await db.pool.query("UPDATE shipping_rates SET active = false WHERE zone_id = 'europe' AND method_id = 'express'");
      assert.deepEqual(
        (await options('country=GB')).map((o) => o.id),
        ['standard'],
      );
      await db.pool.query("UPDATE shipping_rates SET active = false WHERE zone_id = 'europe'");
      assertProblem(await get('/api/shipping/options?country=GB'), 422, '/country');
    } finally {
      await db.pool.query("UPDATE shipping_rates SET base_minor = 1190, active = true WHERE zone_id = 'europe'");
      await db.pool.query("DELETE FROM zone_countries WHERE country = 'MX'");
    }
  });

  test('every country of the rate table has a postal-code format', async () => {
    const { rows } = await db.pool.query<{ country: string }>('SELECT country FROM zone_countries ORDER BY country');
    assert.ok(rows.length >= 40);
    const missing = rows.map((r) => r.country).filter((c) => !postalCodeFormats[c]);
    assert.deepEqual(missing, []);
  });
});

describe('POST /api/shipping/quote', () => {
  test('quotes the same price, name and estimate as the matching option', async () => {
    for (const country of ['DE', 'FR', 'US', 'GB']) {
      for (const parcel of [{ items: 1 }, { items: 5 }, { items: 3, weightGrams: 4200 }, { items: 2, subtotal: 6000 }]) {
        const query = new URLSearchParams({ country, ...Object.fromEntries(Object.entries(parcel).map(([k, v]) => [k, String(v)])) });
        const list = await options(query.toString());
        for (const option of list) {
          const res = await post('/api/shipping/quote', { country, method: option.id, ...parcel });
          assert.equal(res.status, 200, JSON.stringify(res.body));
          assert.deepEqual(res.body, { country, method: option.id, name: option.name, price: option.price, estimatedDays: option.estimatedDays });
        }
      }
    }
  });

  test('free domestic standard shipping applies to quotes too; a lower-case country is accepted', async () => {
    const res = await post('/api/shipping/quote', { country: 'de', method: 'standard', items: 4, subtotal: 5000 });
    assert.equal(res.status, 200);
    assert.equal(res.body.country, 'DE');
    assert.deepEqual(res.body.price, { amount: 0, currency: 'EUR' });
  });

  test('a method not offered to the destination is a 422 naming the method and what is offered', async () => {
    const economy = await post('/api/shipping/quote', { country: 'US', method: 'economy', items: 1 });
    assertProblem(economy, 422, '/method');
    assert.deepEqual(economy.body.availableMethods, ['standard', 'express']);
    assert.match(economy.body.detail, /economy.*US.*standard or express/);
    const unknown = await post('/api/shipping/quote', { country: 'DE', method: 'teleport', items: 1 });
    assertProblem(unknown, 422, '/method');
    assert.match(unknown.body.detail, /teleport/);
  });

  test('a country we do not ship to is a 422 naming the country', async () => {
    const res = await post('/api/shipping/quote', { country: 'RU', method: 'standard', items: 1 });
    assertProblem(res, 422, '/country');
    assert.equal(res.body.detail, "We don't ship to RU yet.");
  });
});

describe('POST /api/shipping/validate-address', () => {
  // What a customer might type (untidy, lower case) and what must come back.
  const typed: Record<string, [string, string]> = {
    DE: [' 10115 ', '10115'],
    AT: ['1010', '1010'],
    CH: ['8001', '8001'],
    FR: ['75001', '75001'],
    NL: ['1012ab', '1012 AB'],
    BE: ['1000', '1000'],
    IT: ['00184', '00184'],
    ES: ['28013', '28013'],
    PL: ['00950', '00-950'],
    SE: ['11455', '114 55'],
    GB: ['sw1a1aa', 'SW1A 1AA'],
    IE: ['d02x285', 'D02 X285'],
    US: ['20500 0003', '20500-0003'],
    CA: ['k1a0b1', 'K1A 0B1'],
    AU: ['2000', '2000'],
    JP: ['1000001', '100-0001'],
    BR: ['01310100', '01310-100'],
    IN: ['110 001', '110001'],
  };
  const address = (country: string, postalCode: string) => ({
    name: '  Ada   Lovelace ',
    line1: ' 12 Example Street',
    line2: '   ',
    city: 'Somewhere  ',
    postalCode,
    country: country.toLowerCase(),
  });

  for (const country of Object.keys(postalCodeFormats)) {
    test(`${country}: a valid address is answered normalised; a wrong postal code is refused with an example`, async () => {
      const [input, canonical] = typed[country] ?? [postalCodeFormats[country]!.example, postalCodeFormats[country]!.example];
      const ok = await post('/api/shipping/validate-address', { address: address(country, input) });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.deepEqual(ok.body, {
        valid: true,
        address: { name: 'Ada Lovelace', line1: '12 Example Street', city: 'Somewhere', postalCode: canonical, country },
      });
      assert.ok(Value.Check(Address, ok.body.address), 'the answer is a contract Address');

      const bad = await post('/api/shipping/validate-address', { address: address(country, '12 34 56 78') });
      assertProblem(bad, 422, '/address/postalCode');
      const message = (bad.body.errors as FieldError[]).find((e) => e.field === '/address/postalCode')?.message ?? '';
      assert.equal(message, postalCodeFormats[country]!.message);
      assert.ok(message.includes(postalCodeFormats[country]!.example), message);
      assert.equal(bad.body.errors.length, 1, 'only the postal code is wrong');
    });
  }

  test('keeps a second address line; the message for Germany is the one promised', async () => {
    const ok = await post('/api/shipping/validate-address', {
      address: { name: 'Ada', line1: 'Hauptstr. 1', line2: ' Hinterhaus ', city: 'Berlin', postalCode: '10115', country: 'DE' },
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.address.line2, 'Hinterhaus');
    const bad = await post('/api/shipping/validate-address', {
      address: { name: 'Ada', line1: 'Hauptstr. 1', city: 'Berlin', postalCode: '1011', country: 'DE' },
    });
    assert.deepEqual(bad.body.errors, [{ field: '/address/postalCode', message: 'A postal code in Germany has 5 digits, like 10115.' }]);
    assert.match(bad.body.detail, /5 digits/);
  });

  test('names every missing field at once', async () => {
    for (const empty of [{}, { name: '', line1: ' ', city: '\t', postalCode: '', country: '' }]) {
      const res = await post('/api/shipping/validate-address', { address: empty });
      assert.equal(res.status, 422);
      assert.match(res.type, /application\/problem\+json/);
      assert.deepEqual(
        (res.body.errors as FieldError[]).map((e) => e.field),
        ['/address/name', '/address/line1', '/address/city', '/address/postalCode', '/address/country'],
      );
    }
  });

  test('names oversized fields (the contract limits), control characters, and countries it cannot use', async () => {
    const res = await post('/api/shipping/validate-address', {
      address: { name: 'n'.repeat(101), line1: 'l'.repeat(201), line2: 'x'.repeat(201), city: 'c'.repeat(101), postalCode: '10115', country: 'DE' },
    });
    assert.equal(res.status, 422);
    assert.deepEqual(res.body.errors, [
      { field: '/address/name', message: 'Use at most 100 characters (this has 101).' },
      { field: '/address/line1', message: 'Use at most 200 characters (this has 201).' },
      { field: '/address/line2', message: 'Use at most 200 characters (this has 201).' },
      { field: '/address/city', message: 'Use at most 100 characters (this has 101).' },
    ]);
    const atLimit = await post('/api/shipping/validate-address', {
      address: { name: 'n'.repeat(100), line1: 'l'.repeat(200), city: 'c'.repeat(100), postalCode: '10115', country: 'DE' },
    });
    assert.equal(atLimit.status, 200);

    const control = await post('/api/shipping/validate-address', { address: { name: 'Ada\u0000', line1: 'x', city: 'y', postalCode: '10115', country: 'DE' } });
    assertProblem(control, 422, '/address/name');

    const russia = await post('/api/shipping/validate-address', { address: { name: 'A', line1: 'x', city: 'Moscow', postalCode: '101000', country: 'ru' } });
    assert.deepEqual(russia.body.errors, [{ field: '/address/country', message: "We don't ship to RU yet." }]);
    const word = await post('/api/shipping/validate-address', {
      address: { name: 'A', line1: 'x', city: 'Berlin', postalCode: 'p'.repeat(21), country: 'Germany' },
    });
    assert.deepEqual(
      (word.body.errors as FieldError[]).map((e) => e.field),
      ['/address/postalCode', '/address/country'],
    );
  });

  test('refuses unknown fields, wrong types and absurd sizes with a 400 naming the field', async () => {
    const valid = { name: 'Ada', line1: 'Hauptstr. 1', city: 'Berlin', postalCode: '10115', country: 'DE' };
    assertProblem(await post('/api/shipping/validate-address', { address: { ...valid, phone: '123' } }), 400, 'body/address/phone');
    assertProblem(await post('/api/shipping/validate-address', { address: valid, extra: true }), 400, 'body/extra');
    assertProblem(await post('/api/shipping/validate-address', { address: { ...valid, postalCode: 10115 } }), 400, 'body/address/postalCode');
    assertProblem(await post('/api/shipping/validate-address', { address: { ...valid, name: 'n'.repeat(1001) } }), 400, 'body/address/name');
    assertProblem(await post('/api/shipping/validate-address', { address: 'Hauptstr. 1, Berlin' }), 400, 'body/address');
    assertProblem(await post('/api/shipping/validate-address', { address: null }), 400, 'body/address');
    assertProblem(await post('/api/shipping/validate-address', {}), 400, 'body/address');
  });
});

describe('bad input is a 4xx problem naming the field, never a 500', () => {
  const q = (query: string) => `/api/shipping/options?${query}`;
  const quote = { country: 'DE', method: 'standard', items: 1 };
  const cases: Array<[string, () => Promise<Answer>, string | RegExp]> = [
    ['options without country', () => get(q('items=2')), 'querystring/country'],
    ['options with a 3-letter country', () => get(q('country=DEU')), 'querystring/country'],
    ['options with a digit in the country', () => get(q('country=D1')), 'querystring/country'],
    ['options with an oversized country', () => get(q(`country=${'D'.repeat(5000)}`)), 'querystring/country'],
    ['options with two countries', () => get(q('country=DE&country=FR')), 'querystring/country'],
    ['options with 0 items', () => get(q('country=DE&items=0')), 'querystring/items'],
    ['options with 1000 items', () => get(q('country=DE&items=1000')), 'querystring/items'],
    ['options with -1 items', () => get(q('country=DE&items=-1')), 'querystring/items'],
    ['options with 1.5 items', () => get(q('country=DE&items=1.5')), 'querystring/items'],
    ['options with "true" items', () => get(q('country=DE&items=true')), 'querystring/items'],
    ['options with hex items', () => get(q('country=DE&items=0x10')), 'querystring/items'],
    ['options with "abc" items', () => get(q('country=DE&items=abc')), 'querystring/items'],
    ['options with empty items', () => get(q('country=DE&items=')), 'querystring/items'],
    ['options with a huge number of items', () => get(q(`country=DE&items=${'9'.repeat(400)}`)), 'querystring/items'],
    ['options with a weight of 0', () => get(q('country=DE&weightGrams=0')), 'querystring/weightGrams'],
    ['options with a weight of a tonne', () => get(q('country=DE&weightGrams=1000000')), 'querystring/weightGrams'],
    ['options with a negative subtotal', () => get(q('country=DE&subtotal=-1')), 'querystring/subtotal'],
    ['options with a decimal subtotal', () => get(q('country=DE&subtotal=45.99')), 'querystring/subtotal'],
    ['options with an unknown parameter', () => get(q('country=DE&item=3')), 'querystring/item'],
    ['quote without a method', () => post('/api/shipping/quote', { country: 'DE', items: 1 }), 'body/method'],
    ['quote without items', () => post('/api/shipping/quote', { country: 'DE', method: 'standard' }), 'body/items'],
    ['quote with a number as country', () => post('/api/shipping/quote', { ...quote, country: 49 }), 'body/country'],
    ['quote with a malformed country', () => post('/api/shipping/quote', { ...quote, country: 'Germany' }), 'body/country'],
    ['quote with items as a string', () => post('/api/shipping/quote', { ...quote, items: '3' }), 'body/items'],
    ['quote with 0 items', () => post('/api/shipping/quote', { ...quote, items: 0 }), 'body/items'],
    ['quote with 1000 items', () => post('/api/shipping/quote', { ...quote, items: 1000 }), 'body/items'],
    ['quote with 2.5 items', () => post('/api/shipping/quote', { ...quote, items: 2.5 }), 'body/items'],
    ['quote with a malformed method', () => post('/api/shipping/quote', { ...quote, method: 'Express!' }), 'body/method'],
    ['quote with an oversized method', () => post('/api/shipping/quote', { ...quote, method: 'e'.repeat(5000) }), 'body/method'],
    ['quote with an empty method', () => post('/api/shipping/quote', { ...quote, method: '' }), 'body/method'],
    ['quote with a weight as text', () => post('/api/shipping/quote', { ...quote, weightGrams: 'heavy' }), 'body/weightGrams'],
    ['quote with a Money subtotal', () => post('/api/shipping/quote', { ...quote, subtotal: { amount: 5000, currency: 'EUR' } }), 'body/subtotal'],
    ['quote with an unknown field', () => post('/api/shipping/quote', { ...quote, coupon: 'FREE' }), 'body/coupon'],
    ['quote with an array body', () => post('/api/shipping/quote', [quote]), /^body/],
  ];
  for (const [name, send, field] of cases) {
    test(name, async () => assertProblem(await send(), 400, field));
  }

  test('unparseable or non-JSON bodies', async () => {
    for (const path of ['/api/shipping/quote', '/api/shipping/validate-address']) {
      const broken = await post(path, '{"country": "DE",');
      assert.equal(broken.status, 400);
      assert.match(broken.type, /application\/problem\+json/);
      const text = await post(path, 'country=DE', 'text/plain');
      assert.equal(text.status, 415);
      assert.match(text.type, /application\/problem\+json/);
    }
  });
});

test('the OpenAPI document describes the three endpoints', async () => {
  const doc = (await get('/openapi.json')).body;
  for (const [path, method] of [
    ['/api/shipping/options', 'get'],
    ['/api/shipping/quote', 'post'],
    ['/api/shipping/validate-address', 'post'],
  ] as const) {
    const op = doc.paths[path]?.[method];
    assert.ok(op, `${method} ${path}`);
    assert.deepEqual(op.tags, ['shipping']);
    assert.ok(op.summary);
    assert.ok(op.responses['200'] && op.responses['422']);
  }
});
