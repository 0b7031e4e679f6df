import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunningService } from '@folio/platform/service';
import { NOT_BUILT_DETAIL } from './storefront.ts';
import { type Backend, gateway, INDEX_HTML, routesTo, type Storefront, startBackend, storefront } from './test-helpers.ts';

const page = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
const problemType = /^application\/problem\+json/;

describe('the storefront at /', () => {
  let backend: Backend;
  let site: Storefront;
  let edge: RunningService;

  before(async () => {
    backend = await startBackend();
    site = await storefront({ files: { '.env': 'SECRET=1' } });
    // A file next to the app's folder, which no URL may reach.
    await writeFile(join(dirname(site.dir), 'outside.txt'), 'not yours');
    edge = await gateway({ ...routesTo(backend.url), STOREFRONT_DIR: site.dir });
  });
  after(async () => {
    await edge.close();
    await backend.close();
    await site.remove();
  });

  test('/ is the app: index.html, revalidated on each use', async () => {
    const res = await fetch(`${edge.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.ok(res.headers.get('etag'), 'an ETag makes the revalidation cheap');
    assert.ok(res.headers.get('x-request-id'));
    assert.equal(await res.text(), INDEX_HTML);
    const head = await fetch(`${edge.url}/`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });

  test('hashed assets are cached for a year; other files are revalidated', async () => {
    const js = await fetch(`${edge.url}/assets/app-1a2b3c.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.match(await js.text(), /dataset\.ready/);
    const css = await fetch(`${edge.url}/assets/app-9f8e7d.css`);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
    assert.equal(css.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const icon = await fetch(`${edge.url}/favicon.svg`);
    assert.equal(icon.status, 200);
    assert.match(icon.headers.get('content-type') ?? '', /^image\/svg\+xml/);
    assert.equal(icon.headers.get('cache-control'), 'no-cache');
  });

  test('a deep link a browser opens (the return from the payment page) gets the app', async () => {
    for (const path of ['/orders/0b6c9d2e?payment=succeeded', '/books/b-42', '/account/addresses/']) {
      const res = await fetch(`${edge.url}${path}`, { headers: page });
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/, path);
      assert.equal(res.headers.get('cache-control'), 'no-cache', path);
      assert.equal(await res.text(), INDEX_HTML, path);
    }
  });

  test('no HTML where data, a script or the API is asked for: those are 404 problems', async () => {
    const cases: Array<[string, Record<string, string>]> = [
      ['/orders/abc', { accept: 'application/json' }], // not a page load
      ['/assets/app-000000.js', page], // an asset of an older build
      ['/api/nothing-here', page], // the API never falls back
      ['/api', page],
      ['/docs/nothing-here', page],
      ['/health/deep', page],
    ];
    for (const [path, headers] of cases) {
      const res = await fetch(`${edge.url}${path}`, { headers });
      assert.equal(res.status, 404, path);
      assert.match(res.headers.get('content-type') ?? '', problemType, path);
      assert.equal(((await res.json()) as { status: number }).status, 404, path);
    }
    const post = await fetch(`${edge.url}/orders/abc`, { method: 'POST', headers: page });
    assert.equal(post.status, 404, 'only GET falls back to the app');
  });

  test("the gateway's own paths and the API keep answering as before", async () => {
    const health = await fetch(`${edge.url}/health`, { headers: page });
    assert.equal(((await health.json()) as { service: string }).service, 'gateway');
    const openapi = await fetch(`${edge.url}/openapi.json`, { headers: page });
    assert.equal(((await openapi.json()) as { openapi: string }).openapi, '3.1.0');
    const docs = await fetch(`${edge.url}/docs`, { headers: page });
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger-ui/i);
    const api = await fetch(`${edge.url}/api/products?q=x`, { headers: page });
    assert.deepEqual(await api.json(), { method: 'GET', url: '/api/products?q=x' });
  });

  test('nothing outside the folder and no dotfile is served', async () => {
    // Sent byte for byte (fetch would resolve the dot segments before sending).
    const raw = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        request(`${edge.url}${path}`, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => {
            body += chunk.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
          .on('error', reject)
          .end();
      });
    assert.equal((await raw('/assets/app-1a2b3c.js')).status, 200, 'the helper reaches files');
    const paths = ['/../outside.txt', '/assets/../../outside.txt', '/..%2Foutside.txt', '/%2e%2e/outside.txt', '/assets/..%2F..%2Foutside.txt'];
    for (const path of [...paths, '/.env', '/%2Eenv', '/assets/%00.js', '/assets/%E0%A4%A.js']) {
      const res = await raw(path);
      assert.ok([400, 403, 404].includes(res.status), `${path}: ${res.status}`);
      assert.doesNotMatch(res.body, /not yours|SECRET/, path);
    }
    // A browser asking for such a path as a page gets the app, never the file.
    const asPage = await fetch(`${edge.url}/.env`, { headers: page });
    assert.equal(await asPage.text(), INDEX_HTML);
  });
});

describe('a storefront that is not built', () => {
  let site: Storefront;
  let edge: RunningService;

  before(async () => {
    site = await storefront({ built: false });
    edge = await gateway({ STOREFRONT_DIR: site.dir });
  });
  after(async () => {
    await edge.close();
    await site.remove();
  });

  test('the gateway starts, / says how to build it, and a build is picked up without a restart', async () => {
    assert.equal((await fetch(`${edge.url}/health`)).status, 200);
    for (const headers of [{}, page]) {
      const res = await fetch(`${edge.url}/`, { headers });
      assert.equal(res.status, 503);
      assert.match(res.headers.get('content-type') ?? '', problemType);
      const body = (await res.json()) as { status: number; title: string; detail: string; type: string };
      assert.equal(body.status, 503);
      assert.equal(body.title, 'Service Unavailable');
      assert.equal(body.detail, NOT_BUILT_DETAIL);
      assert.match(body.detail, /npm run build/);
    }
    const deep = await fetch(`${edge.url}/orders/abc`, { headers: page });
    assert.equal(deep.status, 503);

    await site.write('index.html', INDEX_HTML);
    const built = await fetch(`${edge.url}/orders/abc`, { headers: page });
    assert.equal(built.status, 200);
    assert.equal(await built.text(), INDEX_HTML);
  });

  test('a folder that does not exist at all is the same', async () => {
    const missing = await gateway({ STOREFRONT_DIR: join(site.dir, 'no-such-folder') });
    try {
      const res = await fetch(`${missing.url}/`);
      assert.equal(res.status, 503);
      assert.equal(((await res.json()) as { detail: string }).detail, NOT_BUILT_DETAIL);
    } finally {
      await missing.close();
    }
  });
});
