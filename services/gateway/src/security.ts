/**
 * The browser-facing protections of the edge: security headers (helmet) on every answer — files,
 * proxied API answers and problems alike — and CORS that lets only the storefront's own origin(s)
 * call the API from a browser.
 */
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import type { VarSpec } from '@folio/platform/config';
import type { App } from '@folio/platform/http';

export interface SecuritySettings {
  /** Origins (scheme://host[:port]) allowed to call the API cross-origin; empty: same-origin only. */
  allowedOrigins: string[];
  /** Strict-Transport-Security max-age in seconds; 0 sends no HSTS (the gateway is reached over plain HTTP). */
  hstsMaxAgeSeconds: number;
}

/**
 * What the built storefront (Vite + React) needs and nothing more: its own scripts and styles (React
 * sets `style` attributes, hence 'unsafe-inline' for styles only), images incl. data: URIs, API calls to
 * this origin. Paying is a top-level navigation (location.assign) to the payment gateway's hosted page,
 * which CSP does not restrict, so no third-party origin appears here. Swagger UI at /docs fits it too:
 * it loads only its own scripts and styles from /docs.
 */
export function contentSecurityPolicy(opts: { upgradeInsecureRequests: boolean }): Record<string, string[]> {
  return {
    'default-src': ["'self'"],
    'base-uri': ["'self'"],
    'script-src': ["'self'"],
    'script-src-attr': ["'none'"],
    'style-src': ["'self'", "'unsafe-inline'"],
    'img-src': ["'self'", 'data:'],
    'font-src': ["'self'", 'data:'],
    'connect-src': ["'self'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
    'object-src': ["'none'"],
    // Only behind TLS: on http://localhost it would send the page's own requests to https.
    ...(opts.upgradeInsecureRequests ? { 'upgrade-insecure-requests': [] } : {}),
  };
}

/** Request headers a browser may send cross-origin; the API's own ones besides the CORS-safelisted. */
export const CORS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Cart-Token', 'X-Request-Id', 'X-Correlation-Id'];
/** Answer headers cross-origin scripts may read. */
export const CORS_EXPOSED_HEADERS = [
  'X-Request-Id',
  'X-Correlation-Id',
  'X-Cart-Token',
  'Retry-After',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
  'Location',
];

/**
 * Registers helmet and CORS as onRequest hooks. Call it before anything that may answer early (the rate
 * limit) and before the routes, so 429s, 404s, files and proxied answers all carry the headers.
 */
export async function secureEdge(app: App, settings: SecuritySettings): Promise<void> {
  const tls = settings.hstsMaxAgeSeconds > 0;
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: contentSecurityPolicy({ upgradeInsecureRequests: tls }) },
    strictTransportSecurity: tls ? { maxAge: settings.hstsMaxAgeSeconds, includeSubDomains: false } : false,
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    xFrameOptions: { action: 'deny' },
  });
  await app.register(cors, {
    // Always a list: a single string would be sent as Access-Control-Allow-Origin to every caller.
    origin: settings.allowedOrigins,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    // Bearer tokens, no cookies: browsers need not send credentials.
    credentials: false,
    maxAge: 600,
    // An OPTIONS request without Origin is not a preflight; answer it plainly instead of with a text/plain 400.
    strictPreflight: false,
  });
}

/**
 * The STOREFRONT_ORIGIN variable: comma-separated origins such as https://shop.example.org, each without
 * a path. Parsed to their canonical form (lower-case host, default port dropped) as browsers send them.
 */
export function originsVariable(description: string): VarSpec<string[] | undefined> {
  return {
    description,
    parse(raw) {
      const origins = raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (origins.length === 0) throw new Error('must list at least one origin like https://shop.example.org');
      return origins.map((item) => {
        let url: URL;
        try {
          url = new URL(item);
        } catch {
          throw new Error(`"${item}" is not an origin like https://shop.example.org`);
        }
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`"${item}" must use http: or https:`);
        if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username) {
          throw new Error(`"${item}" must be an origin only (scheme://host[:port]), without a path`);
        }
        return url.origin;
      });
    },
    // Absent: same-origin only (shown as "—" in the README table).
    fallback: () => undefined,
  };
}

/**
 * A service's answer headers as the edge passes them on: CORS is the edge's alone (a service cannot
 * widen it), and a service's Vary keeps the Origin the edge's CORS answer depends on.
 */
export function fromUpstream(headers: Record<string, string | string[] | undefined>): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.toLowerCase().startsWith('access-control-')) out[name] = value;
  }
  const vary = out.vary;
  if (vary !== undefined) {
    const fields = (Array.isArray(vary) ? vary.join(',') : vary).split(',').map((f) => f.trim());
    if (!fields.some((f) => f === '*' || f.toLowerCase() === 'origin')) out.vary = [...fields.filter(Boolean), 'Origin'].join(', ');
  }
  return out;
}
