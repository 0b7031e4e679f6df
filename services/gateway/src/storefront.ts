/**
 * The storefront — the React app built into storefront/dist — served by the edge at `/`. Its files are
 * sent as they are; any other page address a browser navigates to gets index.html, so deep links such
 * as /orders/abc?payment=succeeded (where the payment gateway sends readers back) open the app there.
 * The API and the gateway's own paths never fall back: an unknown /api/… stays a 404 problem.
 */
import { stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { App } from '@folio/platform/http';
import type { Logger } from '@folio/platform/log';
import { ProblemError } from '@folio/platform/problem';

/** storefront/dist of this repository, where `npm run build` puts the app. */
export const DEFAULT_STOREFRONT_DIR = fileURLToPath(new URL('../../../storefront/dist', import.meta.url));

/** Vite's output for content-hashed files: a changed file gets a new name, so a copy can be kept for good. */
const HASHED_ASSETS = '/assets/';
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Everything else (index.html, favicon.svg) is revalidated on each use (cheap: ETag / Last-Modified). */
const REVALIDATE = 'no-cache';

/** Paths of the API and of the gateway itself: never answered with the app's index.html. */
const RESERVED_PREFIXES = ['/api', '/docs', '/openapi.json', '/health', '/ready', '/metrics'];

export const isReservedPath = (path: string): boolean => RESERVED_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));

export const NOT_BUILT_DETAIL = 'The storefront is not built: run `npm run build`.';

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

/** Whether the client wants a page (a browser navigating), not data or a script/image/style. */
function wantsPage(accept: string | undefined): boolean {
  return /(^|,)\s*(text\/html|application\/xhtml\+xml)\s*(;|,|$)/i.test(accept ?? '');
}

export async function serveStorefront(app: App, opts: { dir: string; log: Logger }): Promise<void> {
  const root = resolve(opts.dir);
  const index = join(root, 'index.html');
  const assetsDir = join(root, 'assets') + sep;
  if (!(await isFile(index))) {
    opts.log.warn({ dir: root }, 'the storefront is not built (no index.html): / answers 503 until `npm run build` has run');
  }

  await app.register(fastifyStatic, {
    root,
    // Only reply.sendFile(): the route below decides what is a file, a page or a 404.
    serve: false,
    suppressWarning: true,
    index: false,
    dotfiles: 'ignore',
    cacheControl: false,
    setHeaders: (reply, path) => {
      reply.header('cache-control', path.startsWith(assetsDir) ? IMMUTABLE : REVALIDATE);
    },
  });

  /** The file a URL path names inside root, as a root-relative path, or undefined. */
  const fileOf = async (urlPath: string): Promise<string | undefined> => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(urlPath);
    } catch {
      return undefined;
    }
    // No dotfiles, no "..", no NUL: such a path is never a file of the app.
    if (decoded.includes('\0') || decoded.split('/').some((segment) => segment.startsWith('.'))) return undefined;
    const full = resolve(root, `.${decoded}`);
    if (!full.startsWith(root + sep) || !(await isFile(full))) return undefined;
    return `/${relative(root, full).split(sep).join('/')}`;
  };

  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const q = request.url.indexOf('?');
    const path = q === -1 ? request.url : request.url.slice(0, q);
    if (isReservedPath(path)) return reply.callNotFound();

    const file = await fileOf(path);
    if (file) return reply.sendFile(file);

    // A missing script or image must be a 404, not the app's HTML under a .js name.
    if (path.startsWith(HASHED_ASSETS) || (path !== '/' && !wantsPage(request.headers.accept))) return reply.callNotFound();
    if (!(await isFile(index))) throw new ProblemError(503, NOT_BUILT_DETAIL, { type: 'urn:folio:problem:unavailable' });
    return reply.sendFile('/index.html');
  });
}
