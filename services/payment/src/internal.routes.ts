/**
 * The internal payment API (contract: @folio/contracts/internal), called by the order service on the
 * internal network; the edge never routes /internal. Every call is idempotent so a saga step can repeat.
 */
import type { App } from '@folio/platform/http';
import { problemResponses } from '@folio/platform/problem';
import { OpenPaymentRequest, PaymentParams, PaymentsQuery, PaymentView, PaymentViews, RefundRequest } from './payment.schemas.ts';
import type { PaymentService } from './payment.service.ts';

const TAGS = ['internal'];

export function registerInternalRoutes(app: App, deps: { service: PaymentService }): void {
  const { service } = deps;

  app.post(
    '/internal/payments',
    {
      schema: {
        tags: TAGS,
        summary: 'Open an attempt to pay an order',
        description:
          'Creates the pending payment and its checkout session at the gateway; other pending attempts of the order are cancelled. ' +
          'Idempotent by (orderId, attempt). paymentUrl is null when the gateway could not be reached: the session follows as soon as it can.',
        body: OpenPaymentRequest,
        response: { 201: PaymentView, ...problemResponses(400, 409, 422) },
      },
    },
    async (request, reply) => reply.code(201).send(await service.open(request.body)),
  );

  app.post(
    '/internal/payments/:id/refund',
    {
      schema: {
        tags: TAGS,
        summary: 'Refund a successful payment',
        description:
          'Asks the gateway to return the money; the payment becomes refunded when the gateway confirms. Idempotent. 409 unless the payment succeeded.',
        params: PaymentParams,
        body: RefundRequest,
        response: { 202: PaymentView, ...problemResponses(400, 404, 409) },
      },
    },
    async (request, reply) => reply.code(202).send(await service.refund(request.params.id, request.body.reason)),
  );

  app.get(
    '/internal/payments',
    {
      schema: {
        tags: TAGS,
        summary: "An order's payment attempts",
        querystring: PaymentsQuery,
        response: { 200: PaymentViews, ...problemResponses(400) },
      },
    },
    async (request) => service.listByOrder(request.query.orderId),
  );
}
