import proxy from '@fastify/http-proxy';
import { type Env, env, loadConfig, type VarSpec } from '@folio/platform/config';
import { REQUEST_ID_HEADER } from '@folio/platform/context';
import { closeWithLifecycle, createServer, listen } from '@folio/platform/http';
import { Lifecycle } from '@folio/platform/lifecycle';
import { createLogger } from '@folio/platform/log';
import { PROBLEM_CONTENT_TYPE, titleFor } from '@folio/platform/problem';
import { LOG_LEVELS, type RunningService, StartupError } from '@folio/platform/service';
import { limitRequests } from './rate-limit.ts';
import { upstreams } from './routes.ts';
import { fromUpstream, originsVariable, secureEdge } from './security.ts';
import { DEFAULT_STOREFRONT_DIR, serveStorefront } from './storefront.ts';

const urlOf = (description: string) => env.optional(env.url({ description, protocols: ['http:', 'https:'] }));

export const gatewayConfig = {
  PORT: env.port({ description: 'Public port of the edge gateway', default: 8080 }),
  HOST: env.string({ description: 'Interface the gateway listens on', default: '127.0.0.1' }),
  LOG_LEVEL: env.oneOf(LOG_LEVELS, { description: 'Log level', default: 'info' }),
  TRUST_PROXY: env.bool({ description: "Trust clients' X-Forwarded-For (only when a load balancer in front of the gateway sets it)", default: false }),
  UPSTREAM_TIMEOUT_MS: env.int({ description: 'How long the gateway waits for a service to answer', default: 15_000, min: 100, max: 120_000 }),
  STOREFRONT_DIR: env.optional(
    env.string({ description: "Folder of the built storefront served at / (default: the repository's storefront/dist, built by `npm run build`)" }),
  ),
  STOREFRONT_ORIGIN: originsVariable(
    'Origins allowed to call the API from a browser (CORS), comma-separated, e.g. https://shop.example.org; unset: only pages the gateway serves itself (same origin)',
  ),
  HSTS_MAX_AGE_SECONDS: env.int({
    description: 'Strict-Transport-Security max-age; set it (e.g. 31536000) only when browsers reach the gateway over HTTPS. 0 sends no HSTS',
    default: 0,
    min: 0,
    max: 63_072_000,
  }),
  RATE_LIMIT_MAX: env.int({
    description:
      'Requests to /api per client address per window (storefront files, probes and the payment webhook are not counted); 0 turns all rate limiting off, for benchmarks and tests that send everything from one address',
    default: 300,
    min: 0,
    max: 1_000_000,
  }),
  RATE_LIMIT_WINDOW_MS: env.int({ description: 'Window of RATE_LIMIT_MAX, in milliseconds', default: 10_000, min: 100, max: 3_600_000 }),
  RATE_LIMIT_AUTH_MAX: env.int({
    description: 'POST /api/auth/* (sign-in, registration, refresh) per client address per auth window, on top of the general limit; 0: no separate limit',
    default: 20,
    min: 0,
    max: 1_000_000,
  }),
  RATE_LIMIT_AUTH_WINDOW_MS: env.int({ description: 'Window of RATE_LIMIT_AUTH_MAX, in milliseconds', default: 60_000, min: 100, max: 3_600_000 }),
  REDIS_URL: env.optional(
    env.url({
      protocols: ['redis:', 'rediss:'],
      description: 'Redis where all gateway instances count rate limits together (distributed mode); without it each counts in its own memory',
    }),
  ),
  ...Object.fromEntries(upstreams.map((u) => [u.urlVariable, urlOf(`Base URL of the ${u.service} service`)])),
} as Record<string, VarSpec<unknown>>;

interface UpstreamHealth {
  status: 'up' | 'down';
  url: string;
  detail?: string;
}

export async function startGateway(opts: { env?: Env; lifecycle?: Lifecycle } = {}): Promise<RunningService> {
  let config: Record<string, unknown>;
  try {
    config = loadConfig(gatewayConfig, opts.env ?? process.env);
  } catch (err) {
    throw new StartupError('gateway', (err as Error).message, err);
  }
  const log = createLogger({ name: 'gateway', level: config.LOG_LEVEL as string });
  const lifecycle = opts.lifecycle ?? new Lifecycle(log);
  const routed = upstreams.flatMap((u) => (config[u.urlVariable] ? [{ ...u, url: String(config[u.urlVariable]).replace(/\/$/, '') }] : []));

  try {
    const app = await createServer({
      name: 'gateway',
      description: 'The public entry of Folio: serves the storefront at / and routes /api/* to the services.',
      log,
      trustProxy: config.TRUST_PROXY as boolean,
      healthDetails: async () => {
        const services = Object.fromEntries(await Promise.all(routed.map(async (u) => [u.service, await probe(u.url)] as const)));
        const allUp = Object.values(services).every((s) => s.status === 'up');
        return { status: allUp ? 'ok' : 'degraded', services };
      },
    });

    // Order matters: hooks run as registered, after createServer's request-id hook, so every answer —
    // a 429 included — carries the request id, the security headers and CORS.
    await secureEdge(app, {
      allowedOrigins: (config.STOREFRONT_ORIGIN as string[] | undefined) ?? [],
      hstsMaxAgeSeconds: config.HSTS_MAX_AGE_SECONDS as number,
    });
    await limitRequests(
      app,
      {
        max: config.RATE_LIMIT_MAX as number,
        windowMs: config.RATE_LIMIT_WINDOW_MS as number,
        authMax: config.RATE_LIMIT_AUTH_MAX as number,
        authWindowMs: config.RATE_LIMIT_AUTH_WINDOW_MS as number,
        redisUrl: config.REDIS_URL as string | undefined,
      },
      { log, lifecycle },
    );
    await serveStorefront(app, { dir: (config.STOREFRONT_DIR as string | undefined) ?? DEFAULT_STOREFRONT_DIR, log });

    for (const u of routed) {
      for (const prefix of u.prefixes) {
        await app.register(proxy, {
          upstream: u.url,
          prefix,
          rewritePrefix: prefix,
          // undici rather than node's http client: measured with npm run bench, a quarter less CPU at the edge.
          undici: {
            connections: 128,
            headersTimeout: config.UPSTREAM_TIMEOUT_MS as number,
            bodyTimeout: config.UPSTREAM_TIMEOUT_MS as number,
          },
          replyOptions: {
            // The service sees the same ids as the edge, so one grep follows a request end to end, and the
            // client address as the edge saw it: a client's own X-Forwarded-For is replaced, never passed on,
            // so per-address limits (login throttling) cannot be dodged or pinned on the gateway itself.
            rewriteRequestHeaders: (request, headers) => ({
              ...headers,
              [REQUEST_ID_HEADER]: request.id,
              'x-correlation-id': request.correlationId,
              'x-forwarded-for': request.ip,
            }),
            rewriteHeaders: (headers) => fromUpstream(headers),
            onError: (reply, { error }) => {
              const timedOut = /timeout|timed out/i.test(error.message) || (error as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT';
              const status = timedOut ? 504 : 503;
              log.error({ err: error, upstream: u.service }, 'upstream call failed');
              void reply
                .code(status)
                .type(PROBLEM_CONTENT_TYPE)
                .send({
                  type: 'urn:folio:problem:unavailable',
                  title: titleFor(status),
                  status,
                  detail: timedOut
                    ? `The ${u.service} service did not answer in time; try again shortly.`
                    : `The ${u.service} service is unavailable; try again shortly.`,
                  instance: reply.request.url.split('?')[0],
                });
            },
          },
        });
      }
    }

    closeWithLifecycle(app, lifecycle);
    const url = await listen(app, config.PORT as number, config.HOST as string);
    log.info({ url, routes: routed.map((u) => `${u.prefixes.join(',')} → ${u.service} ${u.url}`) }, 'gateway started');
    return { name: 'gateway', url, lifecycle, close: () => lifecycle.close() };
  } catch (err) {
    // What was opened (the Redis connection, the server) must not keep the process alive.
    if (!opts.lifecycle) await lifecycle.close('start-up failed');
    throw err;
  }
}

async function probe(url: string): Promise<UpstreamHealth> {
  try {
    const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2_000) });
    if (res.ok) return { status: 'up', url };
    const body = (await res.json().catch(() => ({}))) as { detail?: string };
    return { status: 'down', url, detail: body.detail ?? `answered ${res.status}` };
  } catch (err) {
    return { status: 'down', url, detail: (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message };
  }
}
