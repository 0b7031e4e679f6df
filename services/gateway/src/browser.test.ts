/**
 * The edge's headers as a real browser (Chromium) obeys them: the CSP lets an app built like the
 * storefront (module scripts and styles from /assets, React-style inline style attributes, API calls,
 * data: images) and Swagger UI at /docs work, and blocks what it should; CORS lets only the configured
 * origin read the API.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { RunningService } from '@folio/platform/service';
import { skipUnless } from '@folio/platform/testing';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type Backend, gateway, routesTo, type Storefront, startBackend, storefront } from './test-helpers.ts';

const chromiumPath = process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);

// What Vite emits: module script and stylesheet in <head>, content-hashed, with crossorigin.
const indexHtml = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<script type="module" crossorigin src="/assets/index-Bx7q2kLm.js"></script>
<link rel="stylesheet" crossorigin href="/assets/index-D4f9aZ0c.css">
</head><body><div id="root"></div></body></html>`;

const appJs = `
const answer = await fetch('/api/products?q=dune', { headers: { 'x-cart-token': 'guest-1' } }).then((r) => r.json());
const p = document.createElement('p');
p.id = 'answer';
p.setAttribute('style', 'color: rgb(1, 2, 3)'); // as React renders style={{ color }}
p.textContent = answer.url;
const img = document.createElement('img');
img.id = 'pixel';
img.src = 'data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==';
document.getElementById('root').append(p, img);
document.body.dataset.location = location.pathname + location.search;
document.body.dataset.ready = 'yes';
`;

/** An inline script and an eval: what a CSP of 'self' must stop (an injected script would look like this). */
const injectedHtml = `<!doctype html><html><head><meta charset="utf-8"></head><body>
<script>document.body.dataset.inline = 'ran';</script>
<script type="module" src="/assets/evil-1.js"></script></body></html>`;
const evalJs = `try { eval("document.body.dataset.evaluated = 'ran'"); } catch {} document.body.dataset.ready = 'yes';`;

// Page code is given as text: this project's TypeScript knows Node's globals, not the DOM's.
async function openPage(browser: Browser): Promise<Page> {
  const page = await browser.newPage();
  // Before any script of the page: record every CSP violation the browser reports.
  await page.addInitScript({
    content: `window.violations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.violations.push(e.effectiveDirective + ' ' + e.blockedURI));`,
  });
  return page;
}

const violations = (page: Page) => page.evaluate<string[]>('window.violations');
const computed = (page: Page, selector: string, property: string) =>
  page.evaluate<string>(`getComputedStyle(document.querySelector(${JSON.stringify(selector)}))[${JSON.stringify(property)}]`);

describe('in a browser', () => {
  let browser: Browser | undefined;
  let backend: Backend;
  let site: Storefront;
  let edge: RunningService;
  let otherSite: Server;
  let otherOrigin: string;
  let foreignSite: Server;
  let foreignOrigin: string;

  const servePage = async (): Promise<[Server, string]> => {
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>elsewhere</title>'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return [server, `http://127.0.0.1:${(server.address() as { port: number }).port}`];
  };

  before(async () => {
    if (!chromiumPath) return;
    backend = await startBackend();
    site = await storefront({
      built: false,
      files: {
        'index.html': indexHtml,
        'assets/index-Bx7q2kLm.js': appJs,
        'assets/index-D4f9aZ0c.css': 'body { font-family: sans-serif }',
        'injected.html': injectedHtml,
        'assets/evil-1.js': evalJs,
      },
    });
    [otherSite, otherOrigin] = await servePage();
    [foreignSite, foreignOrigin] = await servePage();
    edge = await gateway({ ...routesTo(backend.url), STOREFRONT_DIR: site.dir, STOREFRONT_ORIGIN: otherOrigin });
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  });
  after(async () => {
    if (!chromiumPath) return;
    await browser?.close();
    await edge.close();
    await backend.close();
    await site.remove();
    otherSite.close();
    foreignSite.close();
  });

  test('the storefront runs under the CSP, opened at a deep link', async (t) => {
    if (!skipUnless(t, chromiumPath, 'Chromium')) return;
    const page = await openPage(browser!);
    try {
      const res = await page.goto(`${edge.url}/orders/0b6c9d2e?payment=succeeded`);
      assert.equal(res?.status(), 200);
      await page.waitForSelector('body[data-ready="yes"]', { state: 'attached', timeout: 15_000 });
      assert.equal(await page.getAttribute('body', 'data-location'), '/orders/0b6c9d2e?payment=succeeded');
      assert.equal(await page.textContent('#answer'), '/api/products?q=dune');
      assert.equal(await computed(page, '#answer', 'color'), 'rgb(1, 2, 3)', 'inline style attributes apply');
      assert.equal(await page.evaluate<number>("document.querySelector('#pixel').naturalWidth"), 1, 'data: images load');
      assert.equal(await computed(page, 'body', 'fontFamily'), 'sans-serif', 'the stylesheet applies');
      assert.deepEqual(await violations(page), []);
    } finally {
      await page.close();
    }
  });

  test('an inline script and eval are blocked (and reported)', async (t) => {
    if (!skipUnless(t, chromiumPath, 'Chromium')) return;
    const page = await openPage(browser!);
    try {
      await page.goto(`${edge.url}/injected.html`);
      await page.waitForSelector('body[data-ready="yes"]', { state: 'attached', timeout: 15_000 });
      assert.equal(await page.getAttribute('body', 'data-inline'), null, 'the inline script must not run');
      assert.equal(await page.getAttribute('body', 'data-evaluated'), null, 'eval must not run');
      const seen = await violations(page);
      assert.ok(
        seen.some((v) => v.startsWith('script-src-elem inline')),
        JSON.stringify(seen),
      );
      assert.ok(
        seen.some((v) => v.startsWith('script-src eval')),
        JSON.stringify(seen),
      );
    } finally {
      await page.close();
    }
  });

  test('Swagger UI at /docs works under the CSP', async (t) => {
    if (!skipUnless(t, chromiumPath, 'Chromium')) return;
    const page = await openPage(browser!);
    try {
      await page.goto(`${edge.url}/docs`);
      await page.waitForSelector('.swagger-ui .info .title', { timeout: 20_000 });
      assert.match((await page.textContent('.swagger-ui .info .title')) ?? '', /Folio gateway service/);
      assert.deepEqual(await violations(page), []);
    } finally {
      await page.close();
    }
  });

  test("CORS: the configured origin's scripts can call the API and read its headers; another origin's cannot", async (t) => {
    if (!skipUnless(t, chromiumPath, 'Chromium')) return;
    const page = await browser!.newPage();
    const callApi = (api: string) =>
      page.evaluate(async (url) => {
        try {
          const res = await fetch(`${url}/api/orders`, {
            method: 'POST',
            headers: { authorization: 'Bearer t', 'content-type': 'application/json', 'idempotency-key': 'k-1' },
            body: '{}',
          });
          return { status: res.status, requestId: res.headers.get('x-request-id'), remaining: res.headers.get('ratelimit-remaining') };
        } catch (err) {
          return { error: String(err) };
        }
      }, api);
    try {
      await page.goto(otherOrigin);
      const allowed = await callApi(edge.url);
      assert.equal(allowed.status, 200, JSON.stringify(allowed));
      assert.match(allowed.requestId ?? '', /^[0-9a-f-]{36}$/, 'X-Request-Id is exposed');
      assert.match(allowed.remaining ?? '', /^\d+$/, 'RateLimit-Remaining is exposed');

      await page.goto(foreignOrigin);
      const denied = await callApi(edge.url);
      assert.match(denied.error ?? '', /Failed to fetch/, JSON.stringify(denied));
    } finally {
      await page.close();
    }
  });
});
