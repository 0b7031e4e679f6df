/**
 * The HTTP server every Folio service runs: Fastify with TypeBox schemas, request and
 * correlation ids carried in the async context, RFC 9457 problem answers for every error,
 * an OpenAPI 3.1 document, liveness/readiness probes and Prometheus metrics.
 *
 *   const app = await createServer({ name: 'catalog', log, readiness: [{ name: 'database', check: () => checkDatabase(pool, url) }] });
 *   await app.register(catalogRoutes);          // routes registered now still land in /openapi.json
 *   closeWithLifecycle(app, lifecycle);          // /ready turns 503 and the server drains on shutdown
 *   await listen(app, config.PORT, '0.0.0.0');
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifySchemaValidationError,
  LogController,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import fp from 'fastify-plugin';
import { Histogram, type Registry } from 'prom-client';
import type { TSchema } from 'typebox';
import { CORRELATION_HEADER, REQUEST_ID_HEADER, runWithContext, sanitizeId } from './context.ts';
import { isTransientDatabaseError } from './db.ts';
import type { Lifecycle } from './lifecycle.ts';
import type { Logger } from './log.ts';
import { createMetrics } from './metrics.ts';
import { type FieldError, PROBLEM_CONTENT_TYPE, type Problem, ProblemError, titleFor } from './problem.ts';

export interface ReadinessCheck {
  name: string;
  /** Resolves when the dependency is usable; throws (with a message saying why) when it is not. */
  check: () => Promise<void>;
}

export interface ServerOptions {
  /** Service name, e.g. 'catalog': in logs, metrics, the OpenAPI title and /health. */
  name: string;
  /** For the OpenAPI info. Default '0.0.0'. */
  version?: string;
  description?: string;
  /** From createLogger; the server logs through a child of it. */
  log: Logger;
  /** Default createMetrics(name). */
  metrics?: Registry;
  /** Run by GET /ready, concurrently, e.g. database, broker. */
  readiness?: ReadinessCheck[];
  /** Per-check timeout of GET /ready. Default 2000 ms. */
  readinessTimeoutMs?: number;
  /** Largest accepted request body, in bytes. Default 64 KiB. */
  bodyLimit?: number;
  /** When false, /docs (Swagger UI) is not mounted; /openapi.json always is. Default true. */
  docs?: boolean;
  /**
   * Whether X-Forwarded-For names the client (request.ip). True for services, which only the edge
   * gateway calls; the gateway itself trusts it only when a load balancer stands in front of it.
   */
  trustProxy?: boolean;
  /** Extra fields for GET /health (the edge gateway reports its upstreams there). Must not throw. */
  healthDetails?: () => Promise<Record<string, unknown>>;
  /**
   * While this returns true, GET /ready answers 503 without running the checks. closeWithLifecycle()
   * and markNotReady() achieve the same without this option.
   */
  isClosing?: () => boolean;
}

/** The Fastify instance a service gets: TypeBox schemas type the handlers' request and reply. */
export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's sane x-correlation-id, or this request's id. Also in currentContext() and on every log line. */
    correlationId: string;
  }
}

export const VALIDATION_PROBLEM_TYPE = 'urn:folio:problem:validation';
const NOT_FOUND_PROBLEM_TYPE = 'urn:folio:problem:not-found';
const DEFAULT_BODY_LIMIT = 64 * 1024;
const UNMATCHED_ROUTE = '<unmatched>';
/** Probe routes: logged at debug, not info, so a probe every few seconds does not drown the logs. */
const PROBE_ROUTES = new Set(['/health', '/ready', '/metrics']);

interface ReadinessState {
  notReadyReason: string | undefined;
  closingProbes: Array<() => boolean>;
}

const kReadiness = Symbol.for('folio.http.readiness');

function readinessState(app: FastifyInstance): ReadinessState {
  const state = (app as unknown as Record<symbol, ReadinessState | undefined>)[kReadiness];
  if (!state) throw new Error('this Fastify instance was not made by createServer()');
  return state;
}

/**
 * Makes GET /ready answer 503 from now on (the load balancer stops sending traffic) while the
 * server keeps serving what it receives. closeWithLifecycle() does this as soon as the lifecycle closes.
 */
export function markNotReady(app: App, reason = 'the service is shutting down'): void {
  readinessState(app).notReadyReason = reason;
}

/**
 * Hooks the server to the process lifecycle: /ready answers 503 once the lifecycle is closing,
 * and app.close() is registered as a closer. Fastify's close stops accepting connections, closes
 * idle keep-alive ones, answers 503 to new requests on busy ones, and resolves once the requests
 * in flight have been answered. Call it after the closers of what the routes use (the pool), so
 * the server is drained before those close.
 */
export function closeWithLifecycle(app: App, lifecycle: Lifecycle): void {
  readinessState(app).closingProbes.push(() => lifecycle.closing);
  lifecycle.onClose('http server', () => app.close());
}

/** Starts listening; resolves with the base URL (e.g. http://127.0.0.1:41234). Port 0 picks a free port. */
export async function listen(app: App, port: number, host = '127.0.0.1'): Promise<string> {
  await app.listen({ port, host });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error(`unexpected server address ${String(address)}`);
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shownHost}:${address.port}`;
}

/*
 * TypeBox converts query strings and params before validating, but loosely: "1.5" and "true" become the
 * integer 1, "0x10" becomes 16. A value that is not the exact canonical text of its type is left
 * unconvertible instead, so it fails validation ("must be integer") rather than being silently changed.
 */
const CANONICAL: Record<string, RegExp> = {
  integer: /^-?(0|[1-9]\d{0,15})$/,
  number: /^-?(0|[1-9]\d{0,15})(\.\d{1,15})?$/,
  boolean: /^(true|false)$/,
};
const UNCONVERTIBLE = Object.freeze({});

function guardLossyConversion(schema: TSchema, value: unknown): unknown {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties;
  if (!properties || typeof value !== 'object' || value === null) return value;
  let guarded: Record<string, unknown> | undefined;
  for (const [key, raw] of Object.entries(value)) {
    const type = properties[key]?.type;
    const pattern = typeof type === 'string' ? CANONICAL[type] : undefined;
    if (pattern && typeof raw === 'string' && !pattern.test(raw)) {
      guarded ??= { ...(value as Record<string, unknown>) };
      guarded[key] = UNCONVERTIBLE;
    }
  }
  return guarded ?? value;
}

const strictValidatorCompiler: typeof TypeBoxValidatorCompiler = (route) => {
  const validate = TypeBoxValidatorCompiler(route);
  if (route.httpPart === 'body') return validate;
  return (value: unknown) => validate(guardLossyConversion(route.schema, value));
};

export async function createServer(opts: ServerOptions): Promise<App> {
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const metrics = opts.metrics ?? createMetrics(opts.name);

  const app: App = Fastify({
    // Typed as Fastify's base logger so plugins written against FastifyPluginAsyncTypebox register without casts.
    loggerInstance: opts.log.child({ component: 'http' }) as FastifyBaseLogger,
    // Our own one-line-per-request log (onResponse below) carries the correlation id and the route.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: opts.trustProxy ?? true,
    bodyLimit,
    genReqId: (req) => sanitizeId(req.headers[REQUEST_ID_HEADER]) ?? randomUUID(),
    // Errors the router raises before any route runs (a path parameter too long, a badly encoded URL)
    // are problems too, and never echo the path back.
    frameworkErrors: (error, request, reply) => {
      const status = (error as { statusCode?: number }).statusCode ?? 400;
      const detail =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? 'A path parameter is too long.'
          : error.code === 'FST_ERR_BAD_URL'
            ? 'The URL is not validly percent-encoded.'
            : 'The request could not be routed.';
      return sendProblem(reply, { type: 'about:blank', title: titleFor(status), status, detail, instance: request.url.split('?')[0]?.slice(0, 200) });
    },
    // TypeBox validates every schema (querystring, params and headers are converted first, bodies are not);
    // these ajv options only matter if a plugin compiles with ajv itself.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  })
    .setValidatorCompiler(strictValidatorCompiler)
    .withTypeProvider<TypeBoxTypeProvider>();

  app.decorate(kReadiness, { notReadyReason: undefined, closingProbes: opts.isClosing ? [opts.isClosing] : [] } satisfies ReadinessState);
  // JSON only: a text/plain body is answered 415 instead of reaching a handler as a string.
  app.removeContentTypeParser('text/plain');

  await app.register(contextPlugin);
  await app.register(errorsPlugin);
  await app.register(metricsPlugin, { registry: metrics });
  await app.register(openApiPlugin, {
    name: opts.name,
    version: opts.version ?? '0.0.0',
    description: opts.description,
    docs: opts.docs ?? true,
  });
  await app.register(drainPlugin);
  await app.register(bodilessPlugin);
  await app.register(probesPlugin, {
    name: opts.name,
    registry: metrics,
    checks: opts.readiness ?? [],
    timeoutMs: opts.readinessTimeoutMs ?? 2000,
    healthDetails: opts.healthDetails,
  });
  return app;
}

// ---------------------------------------------------------------------------------------------
// Request ids and the async work context

const contextPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorateRequest('correlationId', '');

    app.addHook('onRequest', (request, reply, done) => {
      const correlationId = sanitizeId(request.headers[CORRELATION_HEADER]) ?? request.id;
      request.correlationId = correlationId;
      reply.header(REQUEST_ID_HEADER, request.id);
      reply.header(CORRELATION_HEADER, correlationId);
      // Everything after this hook (body parsing, validation, later hooks, the handler, the reply and
      // its onResponse) runs in this context: Fastify carries it across the body's socket events.
      runWithContext({ correlationId, requestId: request.id }, () => {
        request.log.debug({ method: request.method, url: request.url }, 'request received');
        done();
      });
    });

    app.addHook('onResponse', (request, reply, done) => {
      const route = routeOf(request);
      const line = {
        method: request.method,
        url: request.url,
        route,
        statusCode: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
      };
      if (PROBE_ROUTES.has(route)) request.log.debug(line, 'request completed');
      else request.log.info(line, 'request completed');
      done();
    });
  },
  { name: 'folio-context', fastify: '5.x' },
);

function routeOf(request: FastifyRequest): string {
  return request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
}

function pathOf(request: FastifyRequest): string {
  const url = request.url;
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

// ---------------------------------------------------------------------------------------------
// Errors as RFC 9457 problems

function sendProblem(reply: FastifyReply, problem: Problem, headers: Record<string, string> = {}): FastifyReply {
  // Serialized here so a route's response schema for that status cannot strip the problem's fields.
  return reply.code(problem.status).headers(headers).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
}

/** "body/quantity" from the validation context and the instance path "/quantity". */
function fieldName(context: string | undefined, instancePath: string, property?: string): string {
  return `${context ?? 'request'}${instancePath}${property === undefined ? '' : `/${property}`}`;
}

function asStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * Turns Fastify's validation errors (from TypeBox, or ajv for plain JSON schemas) into field
 * errors named in plain words: "body/quantity must be >= 1", "body/productId is required".
 */
export function fieldErrors(validation: readonly FastifySchemaValidationError[], context: string | undefined): FieldError[] {
  const out: FieldError[] = [];
  const seen = new Set<string>();
  const add = (field: string, message: string) => {
    const key = `${field}\n${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ field, message });
  };
  for (const e of validation) {
    const params = (e.params ?? {}) as Record<string, unknown>;
    if (e.keyword === 'required') {
      // TypeBox: params.requiredProperties (all missing ones); ajv: params.missingProperty.
      const missing = [...asStrings(params.requiredProperties), ...asStrings(params.missingProperty)];
      for (const property of missing) add(fieldName(context, e.instancePath, property), 'is required');
      if (missing.length > 0) continue;
    }
    if (e.keyword === 'additionalProperties') {
      const extra = [...asStrings(params.additionalProperties), ...asStrings(params.additionalProperty)];
      for (const property of extra) add(fieldName(context, e.instancePath, property), 'is not allowed');
      if (extra.length > 0) continue;
    }
    if (e.keyword === 'boolean' && e.schemaPath.endsWith('/additionalProperties')) {
      // TypeBox reports an unexpected property also as "schema is false" at its own path.
      add(fieldName(context, e.instancePath), 'is not allowed');
      continue;
    }
    add(fieldName(context, e.instancePath), e.message ?? `is invalid (${e.keyword})`);
  }
  return out;
}

/** A client error raised by Fastify or a plugin, as a problem: the message is written for clients. */
function clientProblem(error: FastifyError, status: number, request: FastifyRequest): Problem {
  const base = { title: titleFor(status), status, instance: pathOf(request) };
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { ...base, type: 'about:blank', detail: 'request body is not valid JSON' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { ...base, type: 'about:blank', detail: 'request body is empty although its content type is application/json' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        ...base,
        type: 'about:blank',
        detail: `request body is larger than the ${request.routeOptions.bodyLimit ?? DEFAULT_BODY_LIMIT} bytes accepted here`,
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
      const sent = String(request.headers['content-type'] ?? '').slice(0, 100);
      return { ...base, type: 'about:blank', detail: `content type "${sent}" is not accepted here; send application/json` };
    }
  }
  if (error instanceof SyntaxError) return { ...base, type: 'about:blank', detail: 'request body is not valid JSON' };
  return { ...base, type: 'about:blank', detail: error.message || titleFor(status) };
}

const errorsPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const instance = pathOf(request);
      const log = request.log;
      if (error instanceof ProblemError) {
        if (error.status >= 500) log.warn({ err: error, status: error.status }, 'request answered with a server problem');
        else log.info({ status: error.status, type: error.type, detail: error.detail }, 'request answered with a problem');
        return sendProblem(reply, error.toProblem(instance), error.headers);
      }

      if (Array.isArray(error.validation)) {
        const errors = fieldErrors(error.validation, error.validationContext);
        const detail = errors.map((e) => `${e.field} ${e.message}`).join('; ') || 'the request is not valid';
        log.info({ status: 400, errors }, 'request failed validation');
        return sendProblem(reply, { type: VALIDATION_PROBLEM_TYPE, title: titleFor(400), status: 400, detail, instance, errors });
      }

      const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
      if (status >= 400 && status < 500) {
        const problem = clientProblem(error, status, request);
        log.info({ status, code: error.code, detail: problem.detail }, 'request rejected');
        return sendProblem(reply, problem);
      }

      if (isTransientDatabaseError(error)) {
        log.warn({ err: error }, 'database temporarily unavailable; answered 503');
        return sendProblem(
          reply,
          {
            type: 'urn:folio:problem:unavailable',
            title: titleFor(503),
            status: 503,
            detail: 'The service is busy right now; try again in a moment.',
            instance,
          },
          { 'retry-after': '1' },
        );
      }

      log.error({ err: error }, 'unexpected error while handling a request');
      return sendProblem(reply, {
        type: 'about:blank',
        title: titleFor(500),
        status: 500,
        detail: `An unexpected error occurred; it has been logged (request id ${request.id}).`,
        instance,
      });
    });

    app.setNotFoundHandler((request, reply) => {
      const path = pathOf(request);
      const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
      return sendProblem(reply, {
        type: NOT_FOUND_PROBLEM_TYPE,
        title: titleFor(404),
        status: 404,
        detail: `There is no ${request.method} ${shown} here.`,
        instance: path,
      });
    });
  },
  { name: 'folio-errors', fastify: '5.x', dependencies: ['folio-context'] },
);

// ---------------------------------------------------------------------------------------------
// Draining on close

/**
 * app.close() stops accepting connections and closes the idle keep-alive ones, but a connection
 * whose request is in flight would stay open (until the 72 s keep-alive timeout) once answered,
 * and close() would wait for it. Answers sent while closing therefore say `Connection: close`.
 */
const drainPlugin = fp(
  async (app: FastifyInstance) => {
    let closing = false;
    app.addHook('preClose', (done) => {
      closing = true;
      done();
    });
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (closing) reply.header('connection', 'close');
      done(null, payload);
    });
    app.addHook('onResponse', (_request, _reply, done) => {
      // An answer that was already on its way when close() began did not get the header: its connection is idle now.
      if (closing) setImmediate(() => app.server.closeIdleConnections());
      done();
    });
  },
  { name: 'folio-drain', fastify: '5.x' },
);

// ---------------------------------------------------------------------------------------------
// Answers without a body

/**
 * A 204 or 304 has no body (RFC 9110 §15.3.5, §15.4.5), whatever a handler sends: `send(null)` would go out
 * as "null" with content-length 4, Node dropping the body but not the length, and a proxy (undici at the
 * edge) would fail that answer as broken. So the payload goes, and so does any content-length.
 */
const bodilessPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (reply.statusCode !== 204 && reply.statusCode !== 304) return done(null, payload);
      reply.removeHeader('content-length');
      // A stream nobody reads would hold its source (an upstream connection) open.
      if (payload instanceof Readable) payload.on('error', () => {}).resume();
      done(null, null);
    });
  },
  { name: 'folio-bodiless', fastify: '5.x' },
);

// ---------------------------------------------------------------------------------------------
// Metrics

const metricsPlugin = fp(
  async (app: FastifyInstance, { registry }: { registry: Registry }) => {
    const name = 'http_request_duration_seconds';
    // Reused when several servers share one registry (re-registering a name throws).
    const histogram =
      (registry.getSingleMetric(name) as Histogram<'method' | 'route' | 'status_code'> | undefined) ??
      new Histogram({
        name,
        help: 'Duration of HTTP requests, by method, route pattern and status code',
        labelNames: ['method', 'route', 'status_code'] as const,
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      });

    app.addHook('onResponse', (request, reply, done) => {
      const route = routeOf(request);
      if (route !== '/metrics') {
        histogram.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
      }
      done();
    });
  },
  { name: 'folio-metrics', fastify: '5.x' },
);

// ---------------------------------------------------------------------------------------------
// OpenAPI

const openApiPlugin = fp(
  async (app: FastifyInstance, opts: { name: string; version: string; description: string | undefined; docs: boolean }) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: `Folio ${opts.name} service`,
          version: opts.version,
          ...(opts.description ? { description: opts.description } : {}),
        },
        components: {
          securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
        },
      },
    });

    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

    if (opts.docs) await app.register(swaggerUi, { routePrefix: '/docs' });
  },
  { name: 'folio-openapi', fastify: '5.x' },
);

// ---------------------------------------------------------------------------------------------
// Health, readiness, metrics endpoints

interface ProbesOptions {
  name: string;
  healthDetails: (() => Promise<Record<string, unknown>>) | undefined;
  registry: Registry;
  checks: ReadinessCheck[];
  timeoutMs: number;
}

/** undefined when the check passed, else why it failed. */
async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`timed out after ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([check.check().then(() => undefined), timeout]);
  } catch (err) {
    return (err as Error)?.message || String(err);
  } finally {
    clearTimeout(timer);
  }
}

const probesPlugin = fp(
  async (app: FastifyInstance, opts: ProbesOptions) => {
    const state = readinessState(app);

    app.get('/health', { schema: { hide: true } }, async () => ({
      status: 'ok',
      service: opts.name,
      uptimeSeconds: Math.floor(process.uptime()),
      ...(await opts.healthDetails?.()),
    }));

    app.get('/ready', { schema: { hide: true } }, async (request, reply) => {
      const closing = state.notReadyReason ?? (state.closingProbes.some((p) => p()) ? 'the service is shutting down' : undefined);
      if (closing) {
        return sendProblem(reply, {
          type: 'urn:folio:problem:unavailable',
          title: titleFor(503),
          status: 503,
          detail: closing,
          instance: '/ready',
          checks: {},
        });
      }
      const results = await Promise.all(opts.checks.map(async (c) => [c.name, await runCheck(c, opts.timeoutMs)] as const));
      const checks: Record<string, string> = {};
      const failed: string[] = [];
      for (const [name, failure] of results) {
        checks[name] = failure === undefined ? 'ok' : `failed: ${failure}`;
        if (failure !== undefined) failed.push(name);
      }
      if (failed.length === 0) return { status: 'ready', checks };
      request.log.warn({ checks }, 'not ready');
      return sendProblem(reply, {
        type: 'urn:folio:problem:unavailable',
        title: titleFor(503),
        status: 503,
        detail: `not ready: ${failed.join(', ')} failed`,
        instance: '/ready',
        checks,
      });
    });

    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      const text = await opts.registry.metrics();
      return reply.type(opts.registry.contentType).send(text);
    });
  },
  { name: 'folio-probes', fastify: '5.x', dependencies: ['folio-errors'] },
);
