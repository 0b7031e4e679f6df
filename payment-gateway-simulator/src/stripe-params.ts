/**
 * The parameters of the modelled endpoints, read from the form body (`qs` turns `line_items[0][quantity]=1`
 * into nested objects) and checked as Stripe checks them, with Stripe's messages and the `param` named in
 * bracket notation. Parameters the simulator does not model are refused rather than ignored, so no test
 * passes here on a behaviour the simulator cannot show — except a few that change nothing it models.
 */
import qs from 'qs';
import type { LineItem, Metadata, Refund } from './store.ts';
import { stripeErrors } from './stripe-errors.ts';

export type Params = Record<string, unknown>;

/** Bounded, so a hostile body cannot build a huge or deep object. */
export const QS_OPTIONS: qs.IParseOptions = { depth: 6, arrayLimit: 100, parameterLimit: 2000, allowDots: false };

export function parseForm(body: string): Params {
  return qs.parse(body, QS_OPTIONS) as Params;
}

/** The parameters in a canonical form (keys sorted), to compare two requests made with one idempotency key. */
export function fingerprint(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(fingerprint).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${fingerprint(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

const isObject = (v: unknown): v is Params => v !== null && typeof v === 'object' && !Array.isArray(v);

function refuseExpand(params: Params): void {
  if ('expand' in params) {
    throw stripeErrors.invalid('The payment gateway simulator does not expand objects: leave `expand` out and retrieve the related object by its id.', {
      param: 'expand',
    });
  }
}

function onlyKnown(params: Params, known: readonly string[], path: (key: string) => string): void {
  for (const key of Object.keys(params)) if (!known.includes(key)) throw stripeErrors.unknownParam(path(key));
}

function hashOf(value: unknown, param: string): Params {
  if (!isObject(value)) throw stripeErrors.invalid('Invalid hash', { code: 'parameter_invalid_hash', param });
  return value;
}

function stringOf(value: unknown, param: string, max = 5000): string {
  if (typeof value !== 'string') throw stripeErrors.invalidString(param);
  if (value.length > max)
    throw stripeErrors.invalid(`Invalid string: ${param} must be at most ${max} characters.`, { code: 'parameter_invalid_string', param });
  return value;
}

function integerOf(value: unknown, param: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = stringOf(value, param, 32);
  if (!/^-?\d+$/.test(raw)) throw stripeErrors.invalidInteger(param, raw);
  const n = Number(raw);
  if (n < min) throw stripeErrors.tooSmall(param, min);
  if (n > max) throw stripeErrors.invalid(`This value must be less than or equal to ${max}.`, { code: 'parameter_invalid_integer', param });
  return n;
}

function urlOf(value: unknown, param: string): string {
  const raw = stringOf(value, param);
  try {
    const url = new URL(raw);
    if (url.protocol === 'http:' || url.protocol === 'https:') return raw;
  } catch {}
  throw stripeErrors.invalidUrl(param);
}

/** Stripe's limits: 50 keys, keys up to 40 characters, values up to 500; an empty value means "no such key". */
export function metadataOf(value: unknown, param: string): Metadata {
  if (value === undefined || value === '') return {};
  const hash = hashOf(value, param);
  const out: Metadata = {};
  for (const [key, v] of Object.entries(hash)) {
    if (key.length > 40)
      throw stripeErrors.invalid(`Metadata keys can have up to 40 characters; "${key.slice(0, 40)}…" has ${key.length}.`, { param: `${param}[${key}]` });
    const text = stringOf(v, `${param}[${key}]`, 500);
    if (text !== '') out[key] = text;
  }
  if (Object.keys(out).length > 50) throw stripeErrors.invalid('Metadata can have up to 50 keys.', { param });
  return out;
}

/** line_items as qs gives them: an array, or an object keyed by index when there are many. */
function listOf(value: unknown, param: string): unknown[] {
  if (Array.isArray(value)) return value;
  if (isObject(value) && Object.keys(value).every((k) => /^\d+$/.test(k))) {
    return Object.entries(value)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, v]) => v);
  }
  throw stripeErrors.invalid('Invalid array', { code: 'parameter_invalid_array', param });
}

function currencyOf(value: unknown, param: string): string {
  const raw = stringOf(value, param, 3);
  if (!/^[a-zA-Z]{3}$/.test(raw) || !Intl.supportedValuesOf('currency').includes(raw.toUpperCase())) {
    throw stripeErrors.invalid(`Invalid currency: ${raw.toLowerCase()}.`, { code: 'parameter_invalid_string', param });
  }
  return raw.toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// POST /v1/checkout/sessions

export interface CreateSessionParams {
  lineItems: LineItem[];
  currency: string;
  amountTotal: number;
  clientReferenceId: string | null;
  successUrl: string;
  cancelUrl: string | null;
  expiresAt: number;
  metadata: Metadata;
  intentMetadata: Metadata;
}

const SESSION_PARAMS = ['mode', 'line_items', 'client_reference_id', 'success_url', 'cancel_url', 'expires_at', 'metadata', 'payment_intent_data'];
/** Accepted and ignored: they change nothing the simulator models (the page is English, takes cards, asks no e-mail). */
const IGNORED_SESSION_PARAMS = ['customer_email', 'locale', 'payment_method_types', 'submit_type'];
/** Stripe's largest amount (8 digits of minor units). */
const MAX_AMOUNT = 99_999_999;
const DAY_SECONDS = 24 * 60 * 60;

export interface SessionRules {
  /** Unix seconds now. */
  now: number;
  /** Stripe requires expires_at ≥ 30 minutes ahead; the simulator accepts this (default 5 s) so tests can watch a session expire. */
  minExpiresInSeconds: number;
}

export function parseCreateSession(params: Params, rules: SessionRules): CreateSessionParams {
  refuseExpand(params);
  onlyKnown(params, [...SESSION_PARAMS, ...IGNORED_SESSION_PARAMS], (k) => k);

  if (params.mode === undefined) throw stripeErrors.missingParam('mode');
  const mode = stringOf(params.mode, 'mode');
  if (mode !== 'payment') {
    throw stripeErrors.invalid(`Invalid mode: ${mode}. The payment gateway simulator supports mode=payment only.`, {
      code: 'parameter_invalid_string',
      param: 'mode',
    });
  }

  if (params.success_url === undefined) throw stripeErrors.missingParam('success_url');
  const successUrl = urlOf(params.success_url, 'success_url');
  const cancelUrl = params.cancel_url === undefined || params.cancel_url === '' ? null : urlOf(params.cancel_url, 'cancel_url');

  if (params.line_items === undefined) throw stripeErrors.missingParam('line_items');
  const items = listOf(params.line_items, 'line_items');
  if (items.length === 0) throw stripeErrors.missingParam('line_items');
  if (items.length > 100) throw stripeErrors.invalid('A Checkout Session can have up to 100 line items.', { param: 'line_items' });
  const lineItems = items.map((item, i) => lineItemOf(item, `line_items[${i}]`));
  const currency = lineItems[0]!.currency;
  for (const [i, item] of lineItems.entries()) {
    if (item.currency !== currency) {
      throw stripeErrors.invalid(`All line items must have the same currency: line_items[${i}] is in ${item.currency}, line_items[0] in ${currency}.`, {
        param: `line_items[${i}][price_data][currency]`,
      });
    }
  }
  const amountTotal = lineItems.reduce((sum, item) => sum + item.amount_total, 0);
  if (amountTotal < 1) throw stripeErrors.invalid("The Checkout Session's total amount due must be greater than 0.", { param: 'line_items' });
  if (amountTotal > MAX_AMOUNT) {
    throw stripeErrors.invalid(`The Checkout Session's total amount due must be at most ${MAX_AMOUNT} (in the smallest currency unit).`, {
      code: 'amount_too_large',
      param: 'line_items',
    });
  }

  const clientReferenceId =
    params.client_reference_id === undefined || params.client_reference_id === '' ? null : stringOf(params.client_reference_id, 'client_reference_id', 200);

  let expiresAt = rules.now + DAY_SECONDS;
  if (params.expires_at !== undefined) {
    expiresAt = integerOf(params.expires_at, 'expires_at', 0);
    if (expiresAt < rules.now + rules.minExpiresInSeconds) {
      throw stripeErrors.invalid(
        `The \`expires_at\` timestamp must be at least ${rules.minExpiresInSeconds} seconds after the Checkout Session is created (the simulator's minimum; Stripe's is 30 minutes).`,
        { param: 'expires_at' },
      );
    }
    if (expiresAt > rules.now + DAY_SECONDS) {
      throw stripeErrors.invalid('The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.', { param: 'expires_at' });
    }
  }

  let intentMetadata: Metadata = {};
  if (params.payment_intent_data !== undefined) {
    const data = hashOf(params.payment_intent_data, 'payment_intent_data');
    onlyKnown(data, ['metadata'], (k) => `payment_intent_data[${k}]`);
    intentMetadata = metadataOf(data.metadata, 'payment_intent_data[metadata]');
  }

  return {
    lineItems,
    currency,
    amountTotal,
    clientReferenceId,
    successUrl,
    cancelUrl,
    expiresAt,
    metadata: metadataOf(params.metadata, 'metadata'),
    intentMetadata,
  };
}

function lineItemOf(value: unknown, path: string): LineItem {
  const item = hashOf(value, path);
  onlyKnown(item, ['price_data', 'quantity'], (k) => `${path}[${k}]`);
  if (item.price_data === undefined) {
    throw stripeErrors.invalid(`You must specify either \`price\` or \`price_data\` in ${path}; the payment gateway simulator takes \`price_data\` only.`, {
      code: 'parameter_missing',
      param: `${path}[price_data]`,
    });
  }
  const priceData = hashOf(item.price_data, `${path}[price_data]`);
  onlyKnown(priceData, ['currency', 'unit_amount', 'product_data'], (k) => `${path}[price_data][${k}]`);
  if (priceData.currency === undefined) throw stripeErrors.missingParam(`${path}[price_data][currency]`);
  const currency = currencyOf(priceData.currency, `${path}[price_data][currency]`);
  if (priceData.unit_amount === undefined) throw stripeErrors.missingParam(`${path}[price_data][unit_amount]`);
  const unitAmount = integerOf(priceData.unit_amount, `${path}[price_data][unit_amount]`, 0, MAX_AMOUNT);
  if (priceData.product_data === undefined) throw stripeErrors.missingParam(`${path}[price_data][product_data]`);
  const product = hashOf(priceData.product_data, `${path}[price_data][product_data]`);
  onlyKnown(product, ['name', 'description', 'metadata'], (k) => `${path}[price_data][product_data][${k}]`);
  if (product.name === undefined || product.name === '') throw stripeErrors.missingParam(`${path}[price_data][product_data][name]`);
  const name = stringOf(product.name, `${path}[price_data][product_data][name]`, 250);
  if (product.description !== undefined) stringOf(product.description, `${path}[price_data][product_data][description]`);
  metadataOf(product.metadata, `${path}[price_data][product_data][metadata]`);
  if (item.quantity === undefined) throw stripeErrors.missingParam(`${path}[quantity]`);
  const quantity = integerOf(item.quantity, `${path}[quantity]`, 1, 999_999);
  return { name, currency, unit_amount: unitAmount, quantity, amount_total: unitAmount * quantity };
}

// ---------------------------------------------------------------------------------------------
// POST /v1/refunds, POST /v1/checkout/sessions/:id/expire, GET …

export interface RefundParams {
  paymentIntent: string | null;
  charge: string | null;
  amount: number | null;
  reason: Refund['reason'];
  metadata: Metadata;
}

const REASONS = ['duplicate', 'fraudulent', 'requested_by_customer'] as const;

export function parseRefund(params: Params): RefundParams {
  refuseExpand(params);
  onlyKnown(params, ['payment_intent', 'charge', 'amount', 'reason', 'metadata'], (k) => k);
  const paymentIntent = params.payment_intent === undefined ? null : stringOf(params.payment_intent, 'payment_intent', 255);
  const charge = params.charge === undefined ? null : stringOf(params.charge, 'charge', 255);
  if (!paymentIntent && !charge) {
    throw stripeErrors.invalid('One of the following params should be provided for this request: payment_intent or charge.', {
      code: 'parameter_missing',
      param: 'payment_intent',
    });
  }
  const amount = params.amount === undefined ? null : integerOf(params.amount, 'amount', 1, MAX_AMOUNT);
  let reason: Refund['reason'] = null;
  if (params.reason !== undefined && params.reason !== '') {
    const raw = stringOf(params.reason, 'reason');
    if (!(REASONS as readonly string[]).includes(raw)) {
      throw stripeErrors.invalid(`Invalid reason: must be one of ${REASONS.join(', ')}`, { code: 'parameter_invalid_string', param: 'reason' });
    }
    reason = raw as Refund['reason'];
  }
  return { paymentIntent, charge, amount, reason, metadata: metadataOf(params.metadata, 'metadata') };
}

/** Endpoints that take no parameters (a GET's query, the expire call's body). */
export function parseNone(params: Params): void {
  refuseExpand(params);
  onlyKnown(params, [], (k) => k);
}
