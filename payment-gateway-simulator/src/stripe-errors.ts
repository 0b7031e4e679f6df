/**
 * Errors of the Stripe API, in Stripe's shape: `{ error: { type, code?, message, param?, decline_code?, doc_url? } }`
 * with Stripe's status codes, so the official SDK turns each into the same error class it would against Stripe
 * (400/404 → StripeInvalidRequestError or StripeIdempotencyError, 401 → StripeAuthenticationError,
 * 402 → StripeCardError, 5xx → StripeAPIError).
 */

export type StripeErrorType = 'invalid_request_error' | 'authentication_error' | 'card_error' | 'idempotency_error' | 'api_error';

export interface StripeErrorBody {
  error: {
    type: StripeErrorType;
    message: string;
    code?: string;
    param?: string;
    decline_code?: string;
    doc_url?: string;
  };
}

export class StripeApiError extends Error {
  readonly status: number;
  readonly type: StripeErrorType;
  readonly code: string | undefined;
  readonly param: string | undefined;
  readonly headers: Record<string, string>;

  constructor(status: number, type: StripeErrorType, message: string, opts: { code?: string; param?: string; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = 'StripeApiError';
    this.status = status;
    this.type = type;
    this.code = opts.code;
    this.param = opts.param;
    this.headers = opts.headers ?? {};
  }

  toBody(): StripeErrorBody {
    return {
      error: {
        type: this.type,
        message: this.message,
        ...(this.code ? { code: this.code, doc_url: `https://stripe.com/docs/error-codes/${this.code.replaceAll('_', '-')}` } : {}),
        ...(this.param ? { param: this.param } : {}),
      },
    };
  }
}

const invalid = (message: string, opts: { code?: string; param?: string } = {}) => new StripeApiError(400, 'invalid_request_error', message, opts);

/** The errors the simulator answers, each worded as Stripe words it. */
export const stripeErrors = {
  invalid,
  missingParam: (param: string) => invalid(`Missing required param: ${param}.`, { code: 'parameter_missing', param }),
  unknownParam: (param: string) =>
    invalid(`Received unknown parameter: ${param}. (The payment gateway simulator models a subset of Stripe's API: see its README.)`, {
      code: 'parameter_unknown',
      param,
    }),
  invalidInteger: (param: string, raw: string) => invalid(`Invalid integer: ${raw}`, { code: 'parameter_invalid_integer', param }),
  invalidString: (param: string) => invalid(`Invalid string: ${param} must be a string.`, { code: 'parameter_invalid_string', param }),
  tooSmall: (param: string, min: number) => invalid(`This value must be greater than or equal to ${min}.`, { code: 'parameter_invalid_integer', param }),
  invalidUrl: (param: string) => invalid('Not a valid URL', { code: 'url_invalid', param }),
  /** A URL path names an object that does not exist: 404. */
  noSuchObject: (kind: string, id: string) =>
    new StripeApiError(404, 'invalid_request_error', `No such ${kind}: '${id}'`, { code: 'resource_missing', param: 'id' }),
  /** A parameter names an object that does not exist: 400. */
  noSuchReferenced: (kind: string, id: string, param: string) => invalid(`No such ${kind}: '${id}'`, { code: 'resource_missing', param }),
  idempotencyParams: (key: string) =>
    new StripeApiError(
      400,
      'idempotency_error',
      `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
    ),
  idempotencyEndpoint: (key: string, first: string, now: string) =>
    new StripeApiError(
      400,
      'idempotency_error',
      `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${first}' vs '${now}'). Try using a key other than '${key}' if you meant to execute a different request.`,
    ),
  noApiKey: () =>
    new StripeApiError(
      401,
      'authentication_error',
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
      { headers: { 'www-authenticate': 'Bearer realm="Stripe"' } },
    ),
  badApiKey: (given: string) =>
    new StripeApiError(401, 'authentication_error', `Invalid API Key provided: ${maskKey(given)}`, {
      code: 'api_key_invalid',
      headers: { 'www-authenticate': 'Bearer realm="Stripe"' },
    }),
  unrecognizedUrl: (method: string, path: string) =>
    new StripeApiError(
      404,
      'invalid_request_error',
      `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    ),
  apiError: (status: number, message = 'An unknown error occurred') => new StripeApiError(status, 'api_error', message),
};

/** As Stripe shows a wrong key: its prefix, stars, and its last four characters. */
export function maskKey(key: string): string {
  if (key.length <= 12) return `${key.slice(0, 3)}${'*'.repeat(Math.max(0, key.length - 3))}`;
  const prefix = /^(sk|rk|pk)_(test|live)_/.exec(key)?.[0] ?? key.slice(0, 3);
  return `${prefix}${'*'.repeat(key.length - prefix.length - 4)}${key.slice(-4)}`;
}
