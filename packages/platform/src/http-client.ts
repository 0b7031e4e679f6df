/**
 * The client services use to call each other over HTTP: JSON in and out, correlation ids
 * propagated from the async context, a timeout per attempt, retries with jittered backoff for
 * requests that are safe to repeat, and a circuit breaker (opossum) so a dead upstream is
 * failed fast instead of piling up timeouts.
 *
 * - Retried: GET/HEAD/PUT/DELETE, or any method carrying an Idempotency-Key; on connection
 *   errors, timeouts, 502/503/504 and 429 (Retry-After honoured up to 5 s; a longer one ends
 *   the retries). Other answers are final.
 * - A POST without an idempotency key is sent exactly once: after a timeout its outcome is
 *   unknown, and the caller must decide (typically: look the effect up, or give up loudly).
 * - The breaker wraps a single attempt. Timeouts, connection errors and 5xx count as failures;
 *   4xx answers never do (the upstream is healthy, the request was wrong). Once open it lets a
 *   trial through after 1 s, then (by default) 2, 4, 8 and every 10 s while the trials fail.
 * - One keep-alive undici Pool per client; close() releases it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import CircuitBreaker from 'opossum';
import { Counter, Gauge, type Registry } from 'prom-client';
import { Pool } from 'undici';
import { CORRELATION_HEADER, correlationId, currentContext, REQUEST_ID_HEADER } from './context.ts';
import { createLogger, type Logger } from './log.ts';
import { type Problem, ProblemError } from './problem.ts';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface BreakerOptions {
  /** Failure percentage, within the rolling window, above which the breaker opens. Default 50. */
  failureThreshold?: number;
  /** How long the breaker stays open before letting one trial request through (half-open). Default 1000. */
  resetTimeoutMs?: number;
  /** Each failed trial doubles that wait, up to this; a successful trial closes the breaker and resets it. Default 10000. */
  maxResetTimeoutMs?: number;
  /** The minimum number of attempts in the rolling window before the breaker may open. Default 10. */
  volumeThreshold?: number;
  /** The rolling statistics window. Default 10000. */
  rollingWindowMs?: number;
}

export interface HttpClientOptions {
  /** The upstream's name, used in errors, metrics and logs, e.g. 'inventory'. */
  name: string;
  /** e.g. http://inventory:3000 (a path prefix is kept: http://host/api + /items → /api/items). */
  baseUrl: string;
  /** Per attempt, covering connect + headers + body. Default 3000. */
  timeoutMs?: number;
  /** Extra attempts for retryable requests. Default 2. */
  retries?: number;
  /** Base of the exponential backoff (full jitter, capped at 2000 ms). Default 100. */
  backoffMs?: number;
  /** Circuit breaker settings, or false for none. */
  breaker?: BreakerOptions | false;
  /** Maximum concurrent connections to the upstream. Default 64. */
  connections?: number;
  /** Default: a logger named http-client:<name>. */
  log?: Logger;
  /** When given: folio_http_client_requests_total{upstream,method,outcome}, folio_http_client_retries_total{upstream,method} and folio_http_client_breaker_open{upstream}. */
  metrics?: Registry;
}

export interface RequestOptions {
  method?: HttpMethod;
  /** Relative to baseUrl, e.g. /v1/stock/978-0-14-044913-6 */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Sent as Idempotency-Key, and makes the request retryable whatever its method. */
  idempotencyKey?: string;
  /** Per attempt; default the client's timeoutMs. */
  timeoutMs?: number;
  /** The caller giving up: the request is abandoned and the signal's reason rethrown. */
  signal?: AbortSignal;
}

export type CallOptions = Omit<RequestOptions, 'path' | 'method' | 'body'>;

export interface HttpResponse<T> {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Parsed JSON, the text of a non-JSON answer, or undefined for an empty one. */
  body: T;
}

export interface HttpClient {
  readonly name: string;
  request<T = unknown>(opts: RequestOptions): Promise<HttpResponse<T>>;
  get<T = unknown>(path: string, opts?: CallOptions): Promise<HttpResponse<T>>;
  post<T = unknown>(path: string, body?: unknown, opts?: CallOptions): Promise<HttpResponse<T>>;
  put<T = unknown>(path: string, body?: unknown, opts?: CallOptions): Promise<HttpResponse<T>>;
  patch<T = unknown>(path: string, body?: unknown, opts?: CallOptions): Promise<HttpResponse<T>>;
  delete<T = unknown>(path: string, opts?: CallOptions): Promise<HttpResponse<T>>;
  /** True while the breaker is open (or half-open and probing). */
  readonly breakerOpen: boolean;
  close(): Promise<void>;
}

/** A final non-2xx answer: a 4xx, or a 5xx other than 502/503/504 (those become UpstreamUnavailableError). */
export class UpstreamError extends Error {
  readonly upstream: string;
  readonly status: number;
  readonly method: string;
  readonly path: string;
  /** The parsed application/problem+json body, when the upstream sent one. */
  readonly problem?: Problem;
  readonly body: unknown;
  readonly headers: Record<string, string>;

  constructor(upstream: string, method: string, path: string, response: RawResponse, problem: Problem | undefined) {
    const why = problem ? `: ${problem.detail ?? problem.title}` : response.invalidJson ? ': the body is not valid JSON' : '';
    super(`${upstream} answered ${response.status} to ${method} ${path}${why}`);
    this.name = 'UpstreamError';
    this.upstream = upstream;
    this.status = response.status;
    this.method = method;
    this.path = path;
    if (problem) this.problem = problem;
    this.body = response.body;
    this.headers = response.headers;
  }
}

export type UnavailableReason = 'timeout' | 'connection' | 'circuit-open' | 'server-error';

/** The upstream could not give an answer: timed out, unreachable, breaker open, or 502/503/504 after the retries. */
export class UpstreamUnavailableError extends Error {
  readonly upstream: string;
  readonly reason: UnavailableReason;
  readonly method: string;
  readonly path: string;
  /** For 'server-error': the last status seen, and its problem body if any. */
  readonly status?: number;
  readonly problem?: Problem;
  /** A hint for our own callers, in seconds. */
  readonly retryAfterSeconds?: number;

  constructor(
    upstream: string,
    reason: UnavailableReason,
    method: string,
    path: string,
    opts: { status?: number; problem?: Problem; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    const what =
      reason === 'server-error'
        ? `answered ${opts.status}`
        : reason === 'circuit-open'
          ? 'is failing (circuit open)'
          : reason === 'timeout'
            ? 'timed out'
            : 'could not be reached';
    super(`${upstream} ${what} for ${method} ${path}`, { cause: opts.cause });
    this.name = 'UpstreamUnavailableError';
    this.upstream = upstream;
    this.reason = reason;
    this.method = method;
    this.path = path;
    if (opts.status !== undefined) this.status = opts.status;
    if (opts.problem) this.problem = opts.problem;
    if (opts.retryAfterSeconds !== undefined) this.retryAfterSeconds = opts.retryAfterSeconds;
  }

  /** The 503 to answer our own caller with. */
  toProblem(): ProblemError {
    return new ProblemError(503, `The ${this.upstream} service is unavailable; try again shortly.`, {
      type: 'urn:folio:problem:unavailable',
      ...(this.retryAfterSeconds ? { headers: { 'retry-after': String(Math.ceil(this.retryAfterSeconds)) } } : {}),
      cause: this,
    });
  }
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  /** Set when the answer claimed JSON but was not. */
  invalidJson?: boolean;
}

interface Attempt {
  method: HttpMethod;
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
  timeoutMs: number;
  signal: AbortSignal | undefined;
}

/** What the breaker counts as a failure: no answer, or a 5xx answer. */
class AttemptFailure extends Error {
  readonly reason: 'timeout' | 'connection' | 'server-error';
  readonly response?: RawResponse;
  constructor(reason: 'timeout' | 'connection' | 'server-error', opts: { response?: RawResponse; cause?: unknown } = {}) {
    super(reason === 'server-error' ? `answered ${opts.response?.status}` : reason, { cause: opts.cause });
    this.name = 'AttemptFailure';
    this.reason = reason;
    if (opts.response) this.response = opts.response;
  }
}

const IDEMPOTENT_METHODS: ReadonlySet<HttpMethod> = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);
const UNAVAILABLE_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);
const BACKOFF_CAP_MS = 2_000;
const MAX_RETRY_AFTER_MS = 5_000;
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function parseBody(status: number, headers: Record<string, string>, text: string): RawResponse {
  if (text.length === 0) return { status, headers, body: undefined };
  const type = headers['content-type'] ?? '';
  if (/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    try {
      return { status, headers, body: JSON.parse(text) };
    } catch {
      return { status, headers, body: text, invalidJson: true };
    }
  }
  return { status, headers, body: text };
}

function problemOf(response: RawResponse): Problem | undefined {
  const b = response.body as Record<string, unknown> | undefined;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) return undefined;
  const isProblemType = /^application\/problem\+json\b/i.test(response.headers['content-type'] ?? '');
  if (!isProblemType && !(typeof b.title === 'string' && typeof b.status === 'number')) return undefined;
  return {
    ...b,
    type: typeof b.type === 'string' ? b.type : 'about:blank',
    title: typeof b.title === 'string' ? b.title : '',
    status: typeof b.status === 'number' ? b.status : response.status,
  } as Problem;
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

type Outcome = 'success' | 'client-error' | 'server-error' | 'timeout' | 'connection' | 'circuit-open' | 'aborted';

interface Metrics {
  requests: Counter<'upstream' | 'method' | 'outcome'>;
  retries: Counter<'upstream' | 'method'>;
  breakerOpen: Gauge<'upstream'>;
}

function metricsIn(registry: Registry): Metrics {
  // Several clients share one registry, so each metric is registered once and reused.
  const existing = <M>(name: string) => registry.getSingleMetric(name) as M | undefined;
  return {
    requests:
      existing<Counter<'upstream' | 'method' | 'outcome'>>('folio_http_client_requests_total') ??
      new Counter({
        name: 'folio_http_client_requests_total',
        help: 'Calls to upstream services, by final outcome (retries included in one call).',
        labelNames: ['upstream', 'method', 'outcome'],
        registers: [registry],
      }),
    retries:
      existing<Counter<'upstream' | 'method'>>('folio_http_client_retries_total') ??
      new Counter({
        name: 'folio_http_client_retries_total',
        help: 'Retried attempts to upstream services.',
        labelNames: ['upstream', 'method'],
        registers: [registry],
      }),
    breakerOpen:
      existing<Gauge<'upstream'>>('folio_http_client_breaker_open') ??
      new Gauge({
        name: 'folio_http_client_breaker_open',
        help: '1 while the circuit breaker to the upstream is open.',
        labelNames: ['upstream'],
        registers: [registry],
      }),
  };
}

export function createHttpClient(opts: HttpClientOptions): HttpClient {
  const name = opts.name;
  const base = new URL(opts.baseUrl);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error(`http client ${name}: baseUrl must be http(s), got ${opts.baseUrl}`);
  const prefix = base.pathname.replace(/\/+$/, '');
  const defaultTimeoutMs = opts.timeoutMs ?? 3_000;
  const retries = Math.max(0, opts.retries ?? 2);
  const backoffMs = opts.backoffMs ?? 100;
  const log = opts.log ?? createLogger({ name: `http-client:${name}` });
  const metrics = opts.metrics ? metricsIn(opts.metrics) : undefined;

  const pool = new Pool(base.origin, {
    connections: opts.connections ?? 64,
    keepAliveTimeout: 4_000,
    keepAliveMaxTimeout: 60_000,
  });

  async function attemptOnce(a: Attempt): Promise<RawResponse> {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new Error(`timed out after ${a.timeoutMs} ms`)), a.timeoutMs);
    const signal = a.signal ? AbortSignal.any([a.signal, deadline.signal]) : deadline.signal;
    try {
      const res = await pool.request({ path: a.path, method: a.method, headers: a.headers, body: a.body, signal });
      const text = await res.body.text();
      const response = parseBody(res.statusCode, flattenHeaders(res.headers), text);
      if (response.status >= 500) throw new AttemptFailure('server-error', { response });
      return response;
    } catch (err) {
      if (err instanceof AttemptFailure) throw err;
      if (a.signal?.aborted) throw a.signal.reason ?? err;
      if (deadline.signal.aborted || TIMEOUT_CODES.has(errorCode(err) ?? '')) throw new AttemptFailure('timeout', { cause: err });
      throw new AttemptFailure('connection', { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  const breakerOpts = opts.breaker === false ? undefined : (opts.breaker ?? {});
  // Recovery: a dependency that was restarted must be used again as soon as it answers, so the
  // breaker tries again after 1 s rather than a fixed 5 s. A dependency that stays down then costs
  // a trial request per second, so each failed trial doubles the wait (1, 2, 4, 8, 10, 10 … s) and a
  // successful one resets it. opossum has no backoff option, but it reads `options.resetTimeout`
  // each time it opens: setting that before a trial is the whole mechanism (pinned by the tests).
  const baseResetMs = breakerOpts?.resetTimeoutMs ?? 1_000;
  const maxResetMs = Math.max(baseResetMs, breakerOpts?.maxResetTimeoutMs ?? 10_000);
  let breaker: CircuitBreaker<[Attempt], RawResponse> | undefined;
  /** opossum's options (untyped), whose resetTimeout is the wait before the next half-open trial. */
  const settings = (b: CircuitBreaker<[Attempt], RawResponse>) => (b as unknown as { options: { resetTimeout: number } }).options;
  const currentResetMs = (): number => (breaker ? settings(breaker).resetTimeout : baseResetMs);
  if (breakerOpts) {
    breaker = new CircuitBreaker<[Attempt], RawResponse>(attemptOnce, {
      name: `http-client:${name}`,
      timeout: false, // each attempt has its own deadline, which also cancels the request
      resetTimeout: baseResetMs,
      errorThresholdPercentage: breakerOpts.failureThreshold ?? 50,
      volumeThreshold: breakerOpts.volumeThreshold ?? 10,
      rollingCountTimeout: breakerOpts.rollingWindowMs ?? 10_000,
      // Only a missing answer or a 5xx is the upstream's failure; a caller giving up is not.
      errorFilter: (err: unknown) => !(err instanceof AttemptFailure),
    });
    const b = breaker;
    const setResetMs = (ms: number): void => {
      settings(b).resetTimeout = ms;
    };
    b.on('open', () => {
      metrics?.breakerOpen.set({ upstream: name }, 1);
      const s = b.stats;
      const resetTimeoutMs = currentResetMs();
      log.error(
        { upstream: name, failures: s.failures, fires: s.fires, resetTimeoutMs },
        `circuit breaker to ${name} OPENED: calls fail fast for ${resetTimeoutMs} ms before a trial request`,
      );
    });
    b.on('halfOpen', () => {
      log.info({ upstream: name }, `circuit breaker to ${name} half-open: letting a trial request through`);
      // Should this trial fail, the breaker reopens for twice as long.
      setResetMs(Math.min(maxResetMs, currentResetMs() * 2));
    });
    b.on('close', () => {
      setResetMs(baseResetMs);
      metrics?.breakerOpen.set({ upstream: name }, 0);
      log.info({ upstream: name }, `circuit breaker to ${name} closed: ${name} is answering again`);
    });
    metrics?.breakerOpen.set({ upstream: name }, 0);
  }

  const fire = (a: Attempt): Promise<RawResponse> => (breaker ? breaker.fire(a) : attemptOnce(a));

  function fullPath(path: string, query: RequestOptions['query']): string {
    let p = prefix + (path.startsWith('/') ? path : `/${path}`);
    if (query) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.append(k, String(v));
      const s = qs.toString();
      if (s) p += (p.includes('?') ? '&' : '?') + s;
    }
    return p;
  }

  function requestHeaders(o: RequestOptions, body: string | undefined): Record<string, string> {
    const ctx = currentContext();
    const h: Record<string, string> = {
      accept: 'application/json, application/problem+json',
      [CORRELATION_HEADER]: ctx?.correlationId ?? correlationId(),
    };
    if (ctx?.requestId) h[REQUEST_ID_HEADER] = ctx.requestId;
    if (body !== undefined) h['content-type'] = 'application/json';
    if (o.idempotencyKey !== undefined) h['idempotency-key'] = o.idempotencyKey;
    for (const [k, v] of Object.entries(o.headers ?? {})) h[k.toLowerCase()] = v;
    return h;
  }

  function count(method: string, outcome: Outcome): void {
    metrics?.requests.inc({ upstream: name, method, outcome });
  }

  async function request<T = unknown>(o: RequestOptions): Promise<HttpResponse<T>> {
    const method: HttpMethod = o.method ?? 'GET';
    const body = o.body === undefined ? undefined : JSON.stringify(o.body);
    const attempt: Attempt = {
      method,
      path: fullPath(o.path, o.query),
      headers: requestHeaders(o, body),
      body,
      timeoutMs: o.timeoutMs ?? defaultTimeoutMs,
      signal: o.signal,
    };
    const logPath = o.path; // without the query, which may carry personal data
    const maxAttempts = IDEMPOTENT_METHODS.has(method) || o.idempotencyKey !== undefined ? 1 + retries : 1;

    for (let n = 1; ; n++) {
      if (o.signal?.aborted) {
        count(method, 'aborted');
        throw o.signal.reason;
      }
      let response: RawResponse | undefined;
      let failure: AttemptFailure | undefined;
      try {
        response = await fire(attempt);
      } catch (err) {
        if (err instanceof AttemptFailure) {
          failure = err;
          response = err.response;
        } else if (errorCode(err) === 'EOPENBREAKER') {
          count(method, 'circuit-open');
          throw new UpstreamUnavailableError(name, 'circuit-open', method, logPath, { retryAfterSeconds: Math.ceil(currentResetMs() / 1000), cause: err });
        } else if (errorCode(err) === 'ESHUTDOWN') {
          throw new Error(`http client for ${name} is closed`, { cause: err });
        } else {
          if (o.signal?.aborted) count(method, 'aborted');
          throw err;
        }
      }

      if (response && !failure && response.status >= 200 && response.status < 300) {
        if (response.invalidJson) {
          count(method, 'server-error');
          throw new UpstreamError(name, method, logPath, response, undefined);
        }
        count(method, 'success');
        return { status: response.status, headers: response.headers, body: response.body as T };
      }

      const status = response?.status;
      const retryableOutcome = failure?.reason === 'timeout' || failure?.reason === 'connection' || (status !== undefined && RETRYABLE_STATUSES.has(status));
      const hintMs = status === 429 || status === 503 ? retryAfterMs(response?.headers['retry-after']) : undefined;

      if (retryableOutcome && n < maxAttempts && (hintMs === undefined || hintMs <= MAX_RETRY_AFTER_MS)) {
        const delayMs = hintMs ?? Math.round(Math.random() * Math.min(BACKOFF_CAP_MS, backoffMs * 2 ** (n - 1)));
        metrics?.retries.inc({ upstream: name, method });
        log.warn(
          { upstream: name, method, path: logPath, attempt: n, maxAttempts, status, reason: failure?.reason ?? `status ${status}`, delayMs },
          `retrying ${method} ${name}${logPath} in ${delayMs} ms after ${failure && failure.reason !== 'server-error' ? failure.reason : `status ${status}`}`,
        );
        try {
          await sleep(delayMs, undefined, o.signal ? { signal: o.signal } : undefined);
        } catch (err) {
          count(method, 'aborted');
          throw o.signal?.reason ?? err;
        }
        continue;
      }

      // Final.
      if (failure && failure.reason !== 'server-error') {
        count(method, failure.reason);
        throw new UpstreamUnavailableError(name, failure.reason, method, logPath, { cause: failure.cause });
      }
      const final = response as RawResponse;
      const problem = problemOf(final);
      if (UNAVAILABLE_STATUSES.has(final.status)) {
        count(method, 'server-error');
        const hintSeconds = hintMs !== undefined ? Math.ceil(hintMs / 1000) : undefined;
        throw new UpstreamUnavailableError(name, 'server-error', method, logPath, {
          status: final.status,
          ...(problem ? { problem } : {}),
          ...(hintSeconds ? { retryAfterSeconds: hintSeconds } : {}),
        });
      }
      count(method, final.status >= 500 ? 'server-error' : 'client-error');
      throw new UpstreamError(name, method, logPath, final, problem);
    }
  }

  return {
    name,
    request,
    get<T>(path: string, o?: CallOptions) {
      return request<T>({ ...o, path, method: 'GET' });
    },
    post<T>(path: string, body?: unknown, o?: CallOptions) {
      return request<T>({ ...o, path, method: 'POST', body });
    },
    put<T>(path: string, body?: unknown, o?: CallOptions) {
      return request<T>({ ...o, path, method: 'PUT', body });
    },
    patch<T>(path: string, body?: unknown, o?: CallOptions) {
      return request<T>({ ...o, path, method: 'PATCH', body });
    },
    delete<T>(path: string, o?: CallOptions) {
      return request<T>({ ...o, path, method: 'DELETE' });
    },
    get breakerOpen() {
      return breaker ? !breaker.closed : false;
    },
    async close() {
      breaker?.shutdown();
      await pool.close();
    },
  };
}
