/**
 * What the gateway's suites share: a stand-in backend service (a real HTTP server behind the real
 * gateway) and a built storefront in a temporary folder.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type App, createServer, listen } from '@folio/platform/http';
import { createLogger } from '@folio/platform/log';
import type { RunningService } from '@folio/platform/service';
import { startGateway } from './gateway.ts';

const log = createLogger({ name: 'gateway-test', level: 'warn' });

export interface Backend {
  url: string;
  /** Requests the backend received, in order. */
  hits: Array<{ method: string; url: string }>;
  close(): Promise<void>;
}

/**
 * One service standing in for any of them: answers every /api path with JSON naming what it got,
 * from whichever upstream variable the gateway was given it as.
 */
export async function startBackend(opts: { headers?: Record<string, string> } = {}): Promise<Backend> {
  const hits: Backend['hits'] = [];
  const app: App = await createServer({ name: 'backend', log, docs: false });
  app.all('/api/*', async (request, reply) => {
    hits.push({ method: request.method, url: request.url });
    return reply.headers(opts.headers ?? {}).send({ method: request.method, url: request.url });
  });
  const url = await listen(app, 0);
  return { url, hits, close: () => app.close() };
}

/** Every upstream variable the gateway knows, pointing at one backend. */
export function routesTo(url: string): Record<string, string> {
  return Object.fromEntries(
    ['IDENTITY_URL', 'CATALOG_URL', 'CART_URL', 'INVENTORY_URL', 'ORDER_URL', 'PAYMENT_URL', 'SHIPPING_URL', 'NOTIFICATION_URL'].map((v) => [v, url]),
  );
}

export function gateway(env: Record<string, string | undefined>): Promise<RunningService> {
  return startGateway({ env: { PORT: '0', LOG_LEVEL: 'error', ...env } });
}

export interface Storefront {
  dir: string;
  /** A file of the built app, e.g. write('assets/app-1a2b.js', '…'). */
  write(path: string, content: string): Promise<void>;
  remove(): Promise<void>;
}

export const INDEX_HTML =
  '<!doctype html><html><head><link rel="stylesheet" href="/assets/app-9f8e7d.css"></head>' +
  '<body><div id="root">the storefront</div><script type="module" src="/assets/app-1a2b3c.js"></script></body></html>';

/** A folder shaped like Vite's output (index.html, hashed assets/, public files); empty when built is false. */
export async function storefront(opts: { built?: boolean; files?: Record<string, string> } = {}): Promise<Storefront> {
  const parent = await mkdtemp(join(tmpdir(), 'folio-gateway-'));
  const dir = join(parent, `dist-${randomBytes(3).toString('hex')}`);
  await mkdir(dir);
  const write = async (path: string, content: string) => {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  };
  if (opts.built !== false) {
    await write('index.html', INDEX_HTML);
    await write('assets/app-1a2b3c.js', 'document.body.dataset.ready = "yes";\n');
    await write('assets/app-9f8e7d.css', 'body { margin: 0 }\n');
    await write('favicon.svg', '<svg xmlns="http://www.w3.org/2000/svg"/>');
  }
  for (const [path, content] of Object.entries(opts.files ?? {})) await write(path, content);
  return { dir, write, remove: () => rm(parent, { recursive: true, force: true }) };
}
