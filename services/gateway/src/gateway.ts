import type { Readable } from 'node:stream';
import proxy from '@fastify/http-proxy';
import { type Env, env, loadConfig, type VarSpec } from '@folio/platform/config';
import { CORRELATION_HEADER, REQUEST_ID_HEADER } from '@folio/platform/context';
import { closeWithLifecycle, createServer, listen } from '@folio/platform/http';
import { Lifecycle } from '@folio/platform/lifecycle';
import { createLogger } from '@folio/platform/log';
import { PROBLEM_CONTENT_TYPE, titleFor } from '@folio/platform/problem';
import { LOG_LEVELS, type RunningService, StartupError } from '@folio/platform/service';
import type { FastifyReply, RawServerBase, RouteGenericInterface } from 'fastify';
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
      // A scope per service: an answer that breaks off after its headers came reaches this error handler
      // (Fastify's stream error path), not onError, and must be that service's 502 rather than a 500.
      await app.register(async (scope) => {
        scope.setErrorHandler((error, _request, reply) => {
          // The edge's own errors on these routes (a 429, a body too large) go to the shared problem handler.
          if (!(error instanceof Error) || !brokenAnswers.has(error)) throw error;
          upstreamFailed(reply, u.service, error, brokenAnswers.get(error));
        });
        for (const prefix of u.prefixes) {
          await scope.register(proxy, {
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
              // What breaks in the body from here on is the service's broken answer, for the error handler above.
              // A 204 or 304 leaves without a body or content-length whatever the service said: createServer's guard
              // drops both and drains the stream, so undici failing it for a stray length (a 304 "null") harms no one.
              onResponse: (_request, reply, res) => {
                const answer = res as unknown as UpstreamAnswer;
                answer.stream.on('error', (err: Error) => brokenAnswers.set(err, Object.keys(answer.headers)));
                return reply.send(answer.stream);
              },
              onError: (reply, { error }) => upstreamFailed(reply, u.service, error),
            },
          });
        }
      });
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

/** What @fastify/reply-from hands onResponse over undici (its types say a ServerResponse). */
interface UpstreamAnswer {
  headers: Record<string, unknown>;
  stream: Readable;
}

/** Errors of answer bodies under way, with the names of the headers the service had sent. */
const brokenAnswers = new WeakMap<Error, string[]>();

/** Failures that mean the service could not be reached at all, before it answered anything. */
const UNREACHABLE =
  /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE|UND_ERR_SOCKET|UND_ERR_CLOSED|FST_REPLY_FROM_SERVICE_UNAVAILABLE)$/;

/**
 * What the reader gets when the edge could not get a whole answer from a service: 504 when it did not answer
 * in time, 503 when it could not be reached, 502 when its answer was broken (it broke off mid-way, or was not
 * valid HTTP). Never a 500: the edge did nothing wrong. `sentHeaders` are the service's headers when its answer
 * had begun; they describe what never arrived, so the problem does not carry them.
 */
function upstreamFailed(reply: FastifyReply<RouteGenericInterface, RawServerBase>, service: string, error: Error, sentHeaders?: string[]): void {
  const codes = [(error as { code?: unknown }).code, (error.cause as { code?: unknown } | undefined)?.code].filter((c): c is string => typeof c === 'string');
  const status = codes.some((c) => /TIMEOUT|ETIMEDOUT/.test(c)) ? 504 : !sentHeaders && codes.some((c) => UNREACHABLE.test(c)) ? 503 : 502;
  reply.log.error({ err: error, upstream: service, status }, 'upstream call failed');
  if (reply.raw.headersSent) {
    // Part of the answer is already on its way: all that is left is to hang up, so the client sees it broken off.
    reply.raw.destroy();
    return;
  }
  for (const name of sentHeaders ?? []) if (name !== REQUEST_ID_HEADER && name !== CORRELATION_HEADER) reply.removeHeader(name);
  const detail =
    status === 504
      ? `The ${service} service did not answer in time; try again shortly.`
      : status === 503
        ? `The ${service} service is unavailable; try again shortly.`
        : `The ${service} service sent a broken answer; try again shortly.`;
  void reply
    .code(status)
    .type(PROBLEM_CONTENT_TYPE)
    .send({ type: 'urn:folio:problem:unavailable', title: titleFor(status), status, detail, instance: reply.request.url.split('?')[0] });
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
