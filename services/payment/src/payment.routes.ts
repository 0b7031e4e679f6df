/**
 * The reader-facing payment API (the edge forwards /api/payments here unchanged): the payment view for
 * its reader, and the two URLs the gateway sends the reader back to. Those carry no token (the browser
 * arrives from the gateway); the unguessable payment id in them is the capability.
 */
import { authenticate, principalOf, type TokenVerifier } from '@folio/platform/auth';
import type { App } from '@folio/platform/http';
import { problemResponses } from '@folio/platform/problem';
import { Type } from 'typebox';
import { PaymentParams, PaymentView, ReturnQuery } from './payment.schemas.ts';
import type { PaymentService } from './payment.service.ts';

const TAGS = ['payments'];
const Redirect = Type.Null({ description: '303 See Other to the storefront page of the order' });

export function registerPaymentRoutes(app: App, deps: { service: PaymentService; verifier: TokenVerifier }): void {
  const { service } = deps;

  app.get(
    '/api/payments/:id',
    {
      onRequest: [authenticate(deps.verifier)],
      schema: {
        tags: TAGS,
        summary: 'A payment of the signed-in reader',
        security: [{ bearerAuth: [] }],
        params: PaymentParams,
        response: { 200: PaymentView, ...problemResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return service.readerView(principalOf(request).userId, request.params.id);
    },
  );

  app.get(
    '/api/payments/:id/return',
    {
      schema: {
        tags: TAGS,
        summary: 'Where the gateway sends the reader after paying',
        description: 'Reads the checkout session at once (the order need not wait for the callback), then redirects to the storefront.',
        params: PaymentParams,
        querystring: ReturnQuery,
        response: { 303: Redirect, ...problemResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const location = await service.returned(request.params.id, request.query.session_id);
      return reply.header('cache-control', 'no-store').redirect(location, 303);
    },
  );

  app.get(
    '/api/payments/:id/cancel',
    {
      schema: {
        tags: TAGS,
        summary: 'Where the gateway sends the reader who cancels',
        description: 'A pending payment is cancelled and its session expired at the gateway; then a redirect to the storefront.',
        params: PaymentParams,
        response: { 303: Redirect, ...problemResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const location = await service.cancelled(request.params.id);
      return reply.header('cache-control', 'no-store').redirect(location, 303);
    },
  );
}
