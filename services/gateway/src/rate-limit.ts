/**
 * Rate limits per client at the edge, counted by @fastify/rate-limit: in Redis when REDIS_URL is set
 * (every gateway instance shares the counts), else in this process's memory (`npm start`).
 *
 * - Every /api request counts in the general bucket (RATE_LIMIT_MAX per RATE_LIMIT_WINDOW_MS);
 *   POST /api/auth/* (sign-in, registration, refresh) counts in a stricter auth bucket as well.
 * - The storefront's files, /health, /ready, /metrics and /docs are not limited, nor CORS preflights
 *   or the payment gateway's signed webhook (a handful of addresses calling in bursts and retrying on
 *   429, which would only delay confirming paid orders).
 * - A client is its address (request.ip: the peer, or X-Forwarded-For only with TRUST_PROXY); an IPv6
 *   client is its /64, the block one subscriber gets.
 * - When the store fails (Redis down or slow), requests pass unlimited and that is logged: the edge
 *   must not go down with its counter.
 */
import { isIPv6 } from 'node:net';
import rateLimit from '@fastify/rate-limit';
import type { App } from '@folio/platform/http';
import type { Lifecycle } from '@folio/platform/lifecycle';
import type { Logger } from '@folio/platform/log';
import { problems } from '@folio/platform/problem';
import type { FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';

export interface RateLimitSettings {
  /** Requests per client per window to /api; 0 turns rate limiting off altogether. */
  max: number;
  windowMs: number;
  /** POST /api/auth/* per client per auth window; 0: only the general bucket applies. */
  authMax: number;
  authWindowMs: number;
  /** Shared counts; without it each instance counts in memory. */
  redisUrl?: string | undefined;
}

/** Not limited although under /api. */
const UNLIMITED_PATHS = new Set(['/api/payments/webhook']);
const REDIS_PREFIX = 'folio:gateway:rate-limit:';
/** A Redis answer slower than this counts as a failure (the request passes) rather than delaying every request. */
const REDIS_COMMAND_TIMEOUT_MS = 250;

interface Count {
  bucket: string;
  max: number;
  remaining: number;
  resetSeconds: number;
  exceeded: boolean;
}

type Counter = (request: FastifyRequest) => Promise<Count>;

/** The rate-limit key of a client address: IPv4 as it is, IPv6 by its /64. */
export function clientKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

const pathOf = (url: string) => {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
};

const isAuthCall = (method: string, path: string) => method === 'POST' && path.startsWith('/api/auth/');

/**
 * One bucket: @fastify/rate-limit registered in a scope of its own (its own store and key prefix),
 * used through its createRateLimit() API so that the edge decides which buckets a request counts in.
 */
async function bucket(app: App, name: string, max: number, windowMs: number, redis: Redis | undefined): Promise<Counter> {
  let limit: ReturnType<App['createRateLimit']> | undefined;
  await app.register(async (scope) => {
    await scope.register(rateLimit, {
      global: false,
      max,
      timeWindow: windowMs,
      keyGenerator: (request) => clientKey(request.ip),
      // Failures reach the hook below, which logs them and lets the request pass.
      skipOnError: false,
      ...(redis ? { redis, nameSpace: `${REDIS_PREFIX}${name}:` } : { cache: 20_000 }),
    });
    limit = scope.createRateLimit();
  });
  const check = limit!;
  return async (request) => {
    const r = await check(request);
    if (r.isAllowed) return { bucket: name, max, remaining: max, resetSeconds: 0, exceeded: false };
    return { bucket: name, max: r.max, remaining: r.remaining, resetSeconds: Math.max(1, r.ttlInSeconds), exceeded: r.isExceeded };
  };
}

function connectRedis(url: string, log: Logger): Redis {
  // host:port only: the URL may carry a password.
  const { hostname, port } = new URL(url);
  const where = `${hostname}:${port || '6379'}`;
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    // Never queue or retry a count while Redis is away: fail at once and let the request pass.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
  });
  let lastError = '';
  redis.on('error', (err: Error) => {
    // ioredis reports every failed reconnect; say it once per kind of failure.
    if (err.message !== lastError) log.warn({ err, redis: where }, 'rate-limit Redis connection error');
    lastError = err.message;
  });
  redis.on('ready', () => {
    if (lastError) log.info({ redis: where }, 'rate-limit Redis connected again');
    lastError = '';
  });
  return redis;
}

/**
 * Registers the rate limit as an onRequest hook. Register it after the hooks that put headers on
 * every answer (request id, security headers, CORS), so a 429 carries them too.
 */
export async function limitRequests(app: App, settings: RateLimitSettings, deps: { log: Logger; lifecycle: Lifecycle }): Promise<void> {
  const { log } = deps;
  if (settings.max === 0) {
    log.warn('rate limiting is off (RATE_LIMIT_MAX=0)');
    return;
  }

  let redis: Redis | undefined;
  if (settings.redisUrl) {
    redis = connectRedis(settings.redisUrl, log);
    const client = redis;
    deps.lifecycle.onClose('rate-limit redis', async () => {
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    });
    // The edge starts without its store: until Redis answers, requests pass (and ioredis keeps reconnecting).
    await redis.connect().catch((err: Error) => log.error({ err }, 'rate-limit Redis unreachable at start-up; requests pass unlimited until it is'));
  }

  const general = await bucket(app, 'api', settings.max, settings.windowMs, redis);
  const auth = settings.authMax > 0 ? await bucket(app, 'auth', settings.authMax, settings.authWindowMs, redis) : undefined;
  log.info(
    { max: settings.max, windowMs: settings.windowMs, authMax: settings.authMax, authWindowMs: settings.authWindowMs, store: redis ? 'redis' : 'memory' },
    'rate limits per client address',
  );

  let storeFailing = false;
  app.addHook('onRequest', async (request, reply) => {
    const path = pathOf(request.url);
    if (!(path === '/api' || path.startsWith('/api/')) || request.method === 'OPTIONS' || UNLIMITED_PATHS.has(path)) return;

    let counts: Count[];
    try {
      counts = await Promise.all([general(request), ...(auth && isAuthCall(request.method, path) ? [auth(request)] : [])]);
    } catch (err) {
      if (!storeFailing) log.error({ err }, 'rate-limit store failed; requests pass unlimited until it answers again');
      storeFailing = true;
      return;
    }
    if (storeFailing) log.info('rate-limit store answers again; limits apply');
    storeFailing = false;

    const exceeded = counts.filter((c) => c.exceeded).sort((a, b) => b.resetSeconds - a.resetSeconds);
    // The bucket that binds: the one exceeded (the longest wait), else the one closest to its limit.
    const shown = exceeded[0] ?? counts.reduce((a, b) => (b.remaining < a.remaining ? b : a));
    reply.header('ratelimit-limit', String(shown.max));
    reply.header('ratelimit-remaining', String(shown.remaining));
    reply.header('ratelimit-reset', String(shown.resetSeconds));
    if (exceeded.length === 0) return;

    const wait = shown.resetSeconds;
    request.log.info({ client: clientKey(request.ip), bucket: shown.bucket, limit: shown.max }, 'rate limit exceeded');
    throw problems.tooManyRequests(`Too many requests from your address; try again in ${wait} second${wait === 1 ? '' : 's'}.`, wait);
  });
}
