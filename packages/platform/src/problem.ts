/**
 * RFC 9457 problem details. Services throw a ProblemError; the server's error handler
 * turns it into an application/problem+json answer. Anything else that escapes is a bug
 * and is answered as an opaque 500 (and logged), never with internals.
 */

import { Type } from 'typebox';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

/** One invalid input, named by its JSON pointer-ish path (e.g. "/quantity", "query.limit"). */
export interface FieldError {
  field: string;
  message: string;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function titleFor(status: number): string {
  return TITLES[status] ?? 'Error';
}

export class ProblemError extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  readonly extensions: Record<string, unknown>;
  /** Extra response headers, e.g. Retry-After or WWW-Authenticate. */
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    detail: string,
    opts: { type?: string; title?: string; extensions?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail, { cause: opts.cause });
    this.name = 'ProblemError';
    this.status = status;
    this.detail = detail;
    this.title = opts.title ?? titleFor(status);
    // A short slug per kind of problem lets clients branch on it without parsing text.
    this.type = opts.type ?? 'about:blank';
    this.extensions = opts.extensions ?? {};
    this.headers = opts.headers ?? {};
  }

  toProblem(instance?: string): Problem {
    return {
      ...this.extensions,
      type: this.type,
      title: this.title,
      status: this.status,
      detail: this.detail,
      ...(instance ? { instance } : {}),
    };
  }
}

export const problems = {
  badRequest: (detail: string, errors?: FieldError[]) =>
    new ProblemError(400, detail, { type: 'urn:folio:problem:validation', extensions: errors ? { errors } : {} }),
  unauthorized: (detail = 'Sign in first: this needs a valid access token.') =>
    new ProblemError(401, detail, { type: 'urn:folio:problem:unauthorized', headers: { 'www-authenticate': 'Bearer' } }),
  forbidden: (detail = 'Your account is not allowed to do this.') => new ProblemError(403, detail, { type: 'urn:folio:problem:forbidden' }),
  notFound: (detail: string) => new ProblemError(404, detail, { type: 'urn:folio:problem:not-found' }),
  conflict: (detail: string, extensions?: Record<string, unknown>) =>
    new ProblemError(409, detail, { type: 'urn:folio:problem:conflict', ...(extensions ? { extensions } : {}) }),
  unprocessable: (detail: string, extensions?: Record<string, unknown>) =>
    new ProblemError(422, detail, { type: 'urn:folio:problem:unprocessable', ...(extensions ? { extensions } : {}) }),
  tooManyRequests: (detail: string, retryAfterSeconds: number) =>
    new ProblemError(429, detail, { type: 'urn:folio:problem:rate-limited', headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) } }),
  unavailable: (detail: string, retryAfterSeconds?: number) =>
    new ProblemError(503, detail, {
      type: 'urn:folio:problem:unavailable',
      ...(retryAfterSeconds ? { headers: { 'retry-after': String(Math.ceil(retryAfterSeconds)) } } : {}),
    }),
};

/**
 * The problem body as a schema, for routes' `response` in the OpenAPI document. Documentation only:
 * the server serialises problems itself, so extension members (e.g. `checks`, `bookId`) are kept.
 */
export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(
      Type.Array(Type.Object({ field: Type.String({ description: 'The input at fault, e.g. body/quantity or /address/postalCode' }), message: Type.String() })),
    ),
  },
  { description: 'application/problem+json (RFC 9457)' },
);

/** Problem answers for the given statuses, to spread into a route's `response`. */
export function problemResponses<const S extends number>(...statuses: S[]): Record<S, typeof ProblemSchema> {
  return Object.fromEntries(statuses.map((s) => [s, ProblemSchema])) as Record<S, typeof ProblemSchema>;
}
