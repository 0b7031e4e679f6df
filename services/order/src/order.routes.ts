/**
 * The order API (the edge forwards /api/orders here unchanged). Thin handlers: who is asking, the
 * service call, the answer. The access token is checked in onRequest, before the body is read or
 * validated, so a missing or bad token is a 401 whatever else is wrong with the request.
 */
import { authenticate, principalOf, requireRole, type TokenVerifier } from '@folio/platform/auth';
import type { App } from '@folio/platform/http';
import { problemResponses, problems } from '@folio/platform/problem';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  AdminOrdersQuery,
  GetOrderHeaders,
  IDEMPOTENCY_HEADER,
  ListOrdersQuery,
  MAX_WAIT_SECONDS,
  OrderIdParams,
  OrderPage,
  OrderView,
  PaymentSummary,
  PlaceOrderBody,
  PlaceOrderHeaders,
} from './order.schemas.ts';
import type { OrderService } from './order.service.ts';

const TAGS = ['orders'];
const BEARER = [{ bearerAuth: [] }];

/** For requests that take no body: anything but nothing (or {}) is refused rather than ignored. */
async function noBody(request: FastifyRequest): Promise<void> {
  const body = request.body;
  if (body === undefined || body === null) return;
  if (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0) return;
  throw problems.badRequest('This request takes no body.', [{ field: 'body', message: 'must be empty' }]);
}

/**
 * A 304 has no body: null in OpenAPI (no content), undefined in code, so handlers call send() — send(null)
 * would be serialised as "null" with content-length 4 and no body to match it, which breaks proxies.
 */
const NotModified = Type.Unsafe<undefined>(Type.Null({ description: 'The order is as you have it (If-None-Match)' }));

export function registerOrderRoutes(app: App, deps: { orders: OrderService; verifier: TokenVerifier }): void {
  const { orders } = deps;
  const reader = authenticate(deps.verifier);

  app.post(
    '/api/orders',
    {
      onRequest: [reader],
      schema: {
        tags: TAGS,
        summary: 'Place an order from the cart',
        description:
          'Checks the address, reads the cart (a changed price or a book no longer sold is a 409: review the cart first), prices the books at the ' +
          "catalogue's current prices, adds the shipping price and the destination's VAT on books, reserves the stock (a 409 names the books " +
          'lacking stock) and opens the payment: pay on `payment.paymentUrl` before `paymentDeadline`. `payment` is null when the payment service ' +
          'could not be reached: it is opened shortly, see GET /api/orders/{id}. Send an Idempotency-Key to make retrying safe.',
        security: BEARER,
        headers: PlaceOrderHeaders,
        body: PlaceOrderBody,
        response: { 201: OrderView, ...problemResponses(400, 401, 409, 422, 502, 503) },
      },
    },
    async (request, reply) => {
      const result = await orders.place(principalOf(request), request.body, {
        authorization: request.headers.authorization ?? '',
        idempotencyKey: request.headers[IDEMPOTENCY_HEADER],
      });
      reply.header('cache-control', 'no-store');
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).header('location', `/api/orders/${result.order.id}`).send(result.order);
    },
  );

  app.get(
    '/api/orders',
    {
      onRequest: [reader],
      schema: {
        tags: TAGS,
        summary: 'Your orders, newest first',
        description: 'Paged by an opaque cursor: pass nextCursor as cursor for the next page.',
        security: BEARER,
        querystring: ListOrdersQuery,
        response: { 200: OrderPage, ...problemResponses(400, 401) },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return orders.list(principalOf(request), request.query);
    },
  );

  app.get(
    '/api/admin/orders',
    {
      onRequest: [reader, requireRole('admin')],
      schema: {
        tags: ['admin'],
        summary: "Every reader's orders, newest first (admins)",
        description: 'For the shop staff: optionally of one status; paged by an opaque cursor like GET /api/orders.',
        security: BEARER,
        querystring: AdminOrdersQuery,
        response: { 200: OrderPage, ...problemResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return orders.listAll(principalOf(request), request.query);
    },
  );

  app.get(
    '/api/orders/:id',
    {
      onRequest: [reader],
      schema: {
        tags: TAGS,
        summary: 'One of your orders',
        description:
          'Its status, lines and totals, every payment attempt, and the timeline of what happened to it. To follow it live (the return page ' +
          'after paying), send its ETag as If-None-Match with `Prefer: wait=10`: the answer comes as soon as the order changes.',
        security: BEARER,
        params: OrderIdParams,
        headers: GetOrderHeaders,
        response: { 200: OrderView, 304: NotModified, ...problemResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const waitSeconds = Number(/(?:^|[\s,;])wait=(\d{1,4})\b/.exec(request.headers.prefer ?? '')?.[1] ?? 0);
      const unlessTag = request.headers['if-none-match'];
      const answer = await orders.get(principalOf(request), request.params.id, {
        unlessTag,
        waitMs: unlessTag ? Math.min(waitSeconds, MAX_WAIT_SECONDS) * 1000 : 0,
      });
      reply.header('cache-control', 'private, no-cache').header('etag', answer.tag);
      if (answer.waitedMs !== undefined) reply.header('preference-applied', `wait=${Math.min(waitSeconds, MAX_WAIT_SECONDS)}`);
      if ('notModified' in answer) return reply.code(304).send();
      return answer.view;
    },
  );

  app.post(
    '/api/orders/:id/payments',
    {
      onRequest: [reader],
      preValidation: [noBody],
      schema: {
        tags: TAGS,
        summary: 'Try paying again',
        description:
          'Opens a new payment attempt (after a declined or abandoned one) while the order awaits payment and its payment window is open; ' +
          'an older attempt still pending is cancelled. 409 once the window has closed or the order is paid.',
        security: BEARER,
        params: OrderIdParams,
        response: { 201: PaymentSummary, ...problemResponses(400, 401, 404, 409, 502, 503) },
      },
    },
    async (request, reply) => reply.code(201).send(await orders.retryPayment(principalOf(request), request.params.id)),
  );

  app.post(
    '/api/orders/:id/refund',
    {
      onRequest: [reader],
      preValidation: [noBody],
      schema: {
        tags: TAGS,
        summary: 'Take back a paid order',
        description:
          'Within the refund window after payment and before the order ships: the money is given back and the books return to stock. ' +
          'Answers 202 with the order at once (timeline: refund requested); it becomes refunded when the payment service confirms. Asking again changes nothing.',
        security: BEARER,
        params: OrderIdParams,
        response: { 202: OrderView, ...problemResponses(400, 401, 404, 409) },
      },
    },
    async (request, reply) => reply.code(202).send(await orders.refund(principalOf(request), request.params.id)),
  );
}
