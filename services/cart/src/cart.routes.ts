/**
 * The cart API (the edge forwards /api/cart here unchanged). Thin handlers: who is asking, the
 * service call, the answer. The access token is checked in onRequest, before the body is read or
 * validated, so a bad token is a 401 whatever else is wrong with the request.
 */
import { authenticate, optionalAuthenticate, principalOf, type TokenVerifier } from '@folio/platform/auth';
import type { App } from '@folio/platform/http';
import { ProblemSchema, problems } from '@folio/platform/problem';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AddItemBody, CART_TOKEN_HEADER, CartView, GuestHeaders, ItemParams, MergedCartView, MergeHeaders, SetQuantityBody } from './cart.schemas.ts';
import type { Caller, CartService } from './cart.service.ts';

const TAGS = ['cart'];
/** A guest or a signed-in reader: the bearer token is optional. */
const OPTIONAL_BEARER: Array<Record<string, string[]>> = [{ bearerAuth: [] }, {}];
const BEARER: Array<Record<string, string[]>> = [{ bearerAuth: [] }];

const problemsFor = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, ProblemSchema]));

function callerOf(request: FastifyRequest): Caller {
  if (request.principal) return { kind: 'user', userId: request.principal.userId };
  const token = request.headers[CART_TOKEN_HEADER];
  return { kind: 'guest', cartToken: typeof token === 'string' ? token : undefined };
}

/** Carts are personal: never cached; a guest's token is echoed in a header as well as in the body. */
function sendCart<T extends { cartToken?: string }>(reply: FastifyReply, view: T): T {
  reply.header('cache-control', 'no-store');
  if (view.cartToken) reply.header(CART_TOKEN_HEADER, view.cartToken);
  return view;
}

/** For requests that take no body: anything but nothing (or {}) is refused rather than ignored. */
async function noBody(request: FastifyRequest): Promise<void> {
  const body = request.body;
  if (body === undefined || body === null) return;
  if (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0) return;
  throw problems.badRequest('This request takes no body.', [{ field: 'body', message: 'must be empty' }]);
}

export function registerCartRoutes(app: App, deps: { service: CartService; verifier: TokenVerifier }): void {
  const { service } = deps;
  const guestOrReader = optionalAuthenticate(deps.verifier);
  const reader = authenticate(deps.verifier);

  app.get(
    '/api/cart',
    {
      onRequest: [guestOrReader],
      schema: {
        tags: TAGS,
        summary: 'The cart, with recorded and current prices',
        description: 'A signed-in reader gets their cart; a guest the cart of their X-Cart-Token. No cart yet is an empty cart (id null).',
        security: OPTIONAL_BEARER,
        headers: GuestHeaders,
        response: { 200: CartView, ...problemsFor(400, 401, 502, 503) },
      },
    },
    async (request, reply) => sendCart(reply, await service.view(callerOf(request))),
  );

  app.post(
    '/api/cart/add',
    {
      onRequest: [guestOrReader],
      schema: {
        tags: TAGS,
        summary: 'Add copies of a book',
        description:
          'Records the catalogue price of the book now. Adding a book already in the cart adds to its quantity (at most 99); at most 50 different books. ' +
          'A guest without a cart gets one: keep the cartToken of the answer and send it as X-Cart-Token.',
        security: OPTIONAL_BEARER,
        headers: GuestHeaders,
        body: AddItemBody,
        response: { 200: CartView, ...problemsFor(400, 401, 404, 422, 502, 503) },
      },
    },
    async (request, reply) => sendCart(reply, await service.add(callerOf(request), request.body)),
  );

  app.patch(
    '/api/cart/items/:productId',
    {
      onRequest: [guestOrReader],
      schema: {
        tags: TAGS,
        summary: 'Set the quantity of a book in the cart',
        security: OPTIONAL_BEARER,
        headers: GuestHeaders,
        params: ItemParams,
        body: SetQuantityBody,
        response: { 200: CartView, ...problemsFor(400, 401, 404, 502, 503) },
      },
    },
    async (request, reply) => sendCart(reply, await service.setQuantity(callerOf(request), request.params.productId, request.body.quantity)),
  );

  app.delete(
    '/api/cart/items/:productId',
    {
      onRequest: [guestOrReader],
      preValidation: [noBody],
      schema: {
        tags: TAGS,
        summary: 'Remove a book from the cart',
        security: OPTIONAL_BEARER,
        headers: GuestHeaders,
        params: ItemParams,
        response: { 200: CartView, ...problemsFor(400, 401, 404, 502, 503) },
      },
    },
    async (request, reply) => sendCart(reply, await service.remove(callerOf(request), request.params.productId)),
  );

  app.post(
    '/api/cart/accept-prices',
    {
      onRequest: [guestOrReader],
      preValidation: [noBody],
      schema: {
        tags: TAGS,
        summary: 'Accept the current prices',
        description:
          "Records the catalogue's current price as every line's price, after the reader was shown the change. Checkout refuses a cart with priceChanged.",
        security: OPTIONAL_BEARER,
        headers: GuestHeaders,
        response: { 200: CartView, ...problemsFor(400, 401, 502, 503) },
      },
    },
    async (request, reply) => sendCart(reply, await service.acceptPrices(callerOf(request))),
  );

  app.post(
    '/api/cart/merge',
    {
      onRequest: [reader],
      preValidation: [noBody],
      schema: {
        tags: TAGS,
        summary: "Merge a guest cart into the signed-in reader's cart",
        description:
          'Called right after sign-in with the guest cart token. The same book: quantities summed (at most 99) at the account’s price; other books keep the guest’s price. ' +
          'The guest cart is then closed; merging it again changes nothing.',
        security: BEARER,
        headers: MergeHeaders,
        response: { 200: MergedCartView, ...problemsFor(400, 401, 502, 503) },
      },
    },
    async (request, reply) => sendCart(reply, await service.merge(principalOf(request).userId, request.headers[CART_TOKEN_HEADER])),
  );
}
