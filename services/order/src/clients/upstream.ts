/**
 * What every client of the order service shares: answers are checked before use (an upstream that
 * answers something else is our outage, a 502, never the reader's mistake), an unreachable upstream is
 * a 503 the reader can retry, and the refusals a step expects (a 409, a 422) are handed back as values.
 */
import { type HttpClient, type HttpClientOptions, UpstreamError, UpstreamUnavailableError } from '@folio/platform/http-client';
import type { Logger } from '@folio/platform/log';
import { type Problem, ProblemError } from '@folio/platform/problem';
import type { Registry } from 'prom-client';
import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

export interface ClientDeps {
  baseUrl: string;
  log: Logger;
  metrics?: Registry;
}

export const clientOptions = (name: string, deps: ClientDeps, extra: Partial<HttpClientOptions> = {}): HttpClientOptions => ({
  name,
  baseUrl: deps.baseUrl,
  log: deps.log,
  ...(deps.metrics ? { metrics: deps.metrics } : {}),
  ...extra,
});

/** A refusal the caller expected: the upstream's status and problem body. */
export interface Refusal {
  status: number;
  problem: Problem;
}

export const badGateway = (upstream: string, cause?: unknown) =>
  new ProblemError(502, `The ${upstream} service gave an answer the order service cannot use; try again shortly.`, {
    type: 'urn:folio:problem:bad-gateway',
    cause,
  });

/** A compiled checker of an upstream's answer. */
export function answerOf<S extends TSchema>(schema: S) {
  const compiled = Compile(schema);
  return (upstream: string, log: Logger, body: unknown): Static<S> => {
    if (compiled.Check(body)) return body as Static<S>;
    log.error({ upstream, errors: [...compiled.Errors(body)].slice(0, 5) }, 'an upstream answered in an unexpected form');
    throw badGateway(upstream);
  };
}

/** Runs a call whose every refusal is unexpected: an outage becomes a 503 problem, any other refusal a 502. */
export async function request<T>(http: HttpClient, log: Logger, fn: (http: HttpClient) => Promise<T>): Promise<T> {
  const result = await requestOr(http, log, fn, []);
  if (!result.ok) throw badGateway(http.name);
  return result.value;
}

/**
 * Runs a call; an answer with one of the `expected` statuses comes back as a Refusal. An outage becomes a 503
 * problem whose cause is the UpstreamUnavailableError (so saga steps can tell "try again later" apart).
 */
export async function requestOr<T>(
  http: HttpClient,
  log: Logger,
  fn: (http: HttpClient) => Promise<T>,
  expected: readonly number[],
): Promise<{ ok: true; value: T } | { ok: false; refusal: Refusal }> {
  try {
    return { ok: true, value: await fn(http) };
  } catch (err) {
    if (err instanceof UpstreamUnavailableError) throw err.toProblem();
    if (err instanceof UpstreamError) {
      if (expected.includes(err.status)) {
        const problem = err.problem ?? { type: 'about:blank', title: '', status: err.status };
        return { ok: false, refusal: { status: err.status, problem } };
      }
      log.error({ err, upstream: http.name, status: err.status }, 'an upstream refused a request the order service made');
      throw badGateway(http.name, err);
    }
    throw err;
  }
}

/** True when err is a 503 raised because an upstream could not be reached: worth retrying later. */
export const isUnavailable = (err: unknown): boolean =>
  err instanceof UpstreamUnavailableError || (err instanceof ProblemError && err.cause instanceof UpstreamUnavailableError);
