/**
 * The Stripe API subset under /v1, as the official SDK calls it: form-encoded bodies in bracket notation,
 * `Authorization: Bearer <secret key>`, `Idempotency-Key` on POSTs, Stripe's JSON errors and headers
 * (Request-Id, Stripe-Version, Idempotent-Replayed).
 *
 * Registered as an encapsulated plugin: its error handler, not-found handler and body parser apply to /v1
 * only, so the rest of the server (probes, /_sim) keeps the platform's problem+json answers while a Stripe
 * client always gets `{ error: { type, message, … } }`.
 */
import type { App } from '@folio/platform/http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Faults, Hangs } from './faults.ts';
import type { Gateway, RequestRef } from './gateway.ts';
import { IDEMPOTENCY_TTL_MS, newId, type Store } from './store.ts';
import { StripeApiError, stripeErrors } from './stripe-errors.ts';
import { fingerprint, type Params, parseCreateSession, parseForm, parseNone, parseRefund } from './stripe-params.ts';

export interface StripeApiDeps {
  gateway: Gateway;
  store: Store;
  faults: Faults;
  hangs: Hangs;
  apiKey: string;
  apiVersion: string;
  minExpiresInSeconds: number;
}

const TAGS = ['Stripe API (subset)'];
/** The secret key as a bearer token (the OpenAPI document's bearerAuth scheme). */
const SECURITY = [{ bearerAuth: [] }];
const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });

export async function stripeApiRoutes(app: App, deps: StripeApiDeps): Promise<void> {
  const { gateway, store, faults, hangs } = deps;
  const requestIds = new WeakMap<FastifyRequest, string>();

  // Stripe's v1 takes form bodies only (the SDK sends nothing else); JSON is refused as Stripe refuses it.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseForm(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  app.addHook('onRequest', async (request, reply) => {
    const id = newId('req_', 14);
    requestIds.set(request, id);
    reply.header('request-id', id);
    reply.header('stripe-version', headerOf(request, 'stripe-version') ?? deps.apiVersion);
    const key = headerOf(request, 'idempotency-key');
    if (key) reply.header('idempotency-key', key);

    // The apiStatus fault: an outage, before anything else is looked at; nothing is done.
    const status = faults.state.apiStatus;
    if (status !== null) throw stripeErrors.apiError(status, `The payment gateway simulator is answering ${status} (fault injected through /_sim/faults).`);

    authenticate(request, deps.apiKey);
  });

  // The apiHangMs fault: the work is done, the answer comes late (the client may have given up by then).
  app.addHook('onSend', async (_request, _reply, payload) => {
    const ms = faults.state.apiHangMs;
    if (ms > 0) await hangs.wait(ms);
    return payload;
  });

  app.setErrorHandler((error, request, reply) => {
    let stripeError: StripeApiError;
    if (error instanceof StripeApiError) {
      stripeError = error;
    } else {
      const status = typeof (error as { statusCode?: unknown }).statusCode === 'number' ? (error as { statusCode: number }).statusCode : 500;
      if (status === 415) {
        stripeError = stripeErrors.invalid(
          'Invalid request: the Stripe API takes form-encoded bodies (Content-Type: application/x-www-form-urlencoded), in bracket notation.',
        );
      } else if (status >= 400 && status < 500) {
        stripeError = new StripeApiError(status, 'invalid_request_error', (error as Error).message);
      } else {
        request.log.error({ err: error }, 'unexpected error in the Stripe API');
        stripeError = stripeErrors.apiError(500);
      }
    }
    if (stripeError.status >= 500) request.log.warn({ status: stripeError.status, message: stripeError.message }, 'Stripe API answered an api_error');
    else request.log.info({ status: stripeError.status, type: stripeError.type, code: stripeError.code, param: stripeError.param }, 'Stripe API error');
    return reply.code(stripeError.status).headers(stripeError.headers).type('application/json').send(JSON.stringify(stripeError.toBody()));
  });

  app.setNotFoundHandler((request) => {
    throw stripeErrors.unrecognizedUrl(request.method, request.url.split('?')[0] ?? '');
  });

  const refOf = (request: FastifyRequest): RequestRef => ({
    id: requestIds.get(request) ?? null,
    idempotencyKey: headerOf(request, 'idempotency-key') ?? null,
  });

  /**
   * A POST under Stripe's idempotency rules: with an Idempotency-Key, the first answer (success or an error
   * of the operation itself) is saved and replayed for the same parameters; other parameters or another
   * endpoint with the same key are an idempotency_error. Parameters that fail validation save nothing, so
   * a corrected retry with the same key runs.
   */
  async function idempotent(request: FastifyRequest, reply: FastifyReply, run: (params: Params) => () => unknown): Promise<FastifyReply> {
    const params = (request.body ?? {}) as Params;
    const key = headerOf(request, 'idempotency-key');
    const endpoint = `${request.method} ${request.url.split('?')[0]}`;
    const print = fingerprint(params);
    if (key !== undefined) {
      if (key.length > 255) throw stripeErrors.invalid('Idempotency-Key must be at most 255 characters long.', { param: 'Idempotency-Key' });
      const prior = store.idempotency.get(key);
      if (prior && Date.now() - prior.createdAtMs < IDEMPOTENCY_TTL_MS) {
        if (prior.endpoint !== endpoint) throw stripeErrors.idempotencyEndpoint(key, prior.endpoint, endpoint);
        if (prior.fingerprint !== print) throw stripeErrors.idempotencyParams(key);
        request.log.info({ idempotencyKey: key, status: prior.status }, 'idempotent replay');
        return reply.code(prior.status).header('idempotent-replayed', 'true').type('application/json').send(prior.body);
      }
    }
    const execute = run(params);
    let status = 200;
    let body: string;
    try {
      body = JSON.stringify(execute());
    } catch (err) {
      if (!(err instanceof StripeApiError)) throw err;
      status = err.status;
      body = JSON.stringify(err.toBody());
      reply.headers(err.headers);
      request.log.info({ status, type: err.type, code: err.code, param: err.param }, 'Stripe API error');
    }
    if (key !== undefined) store.idempotency.set(key, { endpoint, fingerprint: print, status, body, createdAtMs: Date.now() });
    return reply.code(status).type('application/json').send(body);
  }

  /** A GET takes no query parameters here (Stripe's would be expand[], which the simulator does not do). */
  const noQuery = (request: FastifyRequest) => parseNone(parseForm(request.url.split('?')[1] ?? ''));

  app.post(
    '/checkout/sessions',
    { schema: { tags: TAGS, security: SECURITY, summary: 'Create a Checkout Session (mode=payment, price_data line items)' } },
    async (request, reply) =>
      idempotent(request, reply, (params) => {
        const p = parseCreateSession(params, { now: Math.floor(Date.now() / 1000), minExpiresInSeconds: deps.minExpiresInSeconds });
        return () => gateway.createCheckoutSession(p);
      }),
  );

  app.get(
    '/checkout/sessions/:id',
    { schema: { tags: TAGS, security: SECURITY, summary: 'Retrieve a Checkout Session', params: IdParams } },
    async (request) => {
      noQuery(request);
      return gateway.getSession(request.params.id);
    },
  );

  app.post(
    '/checkout/sessions/:id/expire',
    { schema: { tags: TAGS, security: SECURITY, summary: 'Expire an open Checkout Session (emits checkout.session.expired)', params: IdParams } },
    async (request, reply) =>
      idempotent(request, reply, (params) => {
        parseNone(params);
        return () => gateway.expireSession(request.params.id, refOf(request));
      }),
  );

  app.get('/payment_intents/:id', { schema: { tags: TAGS, security: SECURITY, summary: 'Retrieve a PaymentIntent', params: IdParams } }, async (request) => {
    noQuery(request);
    return gateway.getIntent(request.params.id);
  });

  app.get('/charges/:id', { schema: { tags: TAGS, security: SECURITY, summary: 'Retrieve a Charge', params: IdParams } }, async (request) => {
    noQuery(request);
    return gateway.getCharge(request.params.id);
  });

  app.post(
    '/refunds',
    { schema: { tags: TAGS, security: SECURITY, summary: 'Refund a succeeded PaymentIntent, fully or partly (emits charge.refunded, refund.created)' } },
    async (request, reply) =>
      idempotent(request, reply, (params) => {
        const p = parseRefund(params);
        return () => gateway.refund(p, refOf(request));
      }),
  );

  app.get('/refunds/:id', { schema: { tags: TAGS, security: SECURITY, summary: 'Retrieve a Refund', params: IdParams } }, async (request) => {
    noQuery(request);
    return gateway.getRefund(request.params.id);
  });
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? undefined : first;
}

/** Bearer auth as the SDK sends it; Basic auth with the key as user name, as curl -u sends it. */
function authenticate(request: FastifyRequest, apiKey: string): void {
  const header = headerOf(request, 'authorization');
  if (!header) throw stripeErrors.noApiKey();
  let given: string | undefined;
  const [scheme, value] = header.split(/\s+/, 2);
  if (scheme?.toLowerCase() === 'bearer') given = value;
  else if (scheme?.toLowerCase() === 'basic' && value) given = Buffer.from(value, 'base64').toString('utf8').split(':')[0];
  if (!given) throw stripeErrors.noApiKey();
  if (given !== apiKey) throw stripeErrors.badApiKey(given);
}
