/**
 * The gateway's callback. Its signature covers the exact bytes sent, so this route reads the body as a
 * string: it lives in an encapsulated plugin whose own application/json parser keeps the raw text
 * (every other route keeps the platform's JSON parsing). Nothing changes unless the signature verifies
 * with one of the configured secrets within the tolerance, and the answer is 200 only once the change
 * committed, so the gateway retries anything that did not.
 */
import type { App } from '@folio/platform/http';
import { problemResponses, problems } from '@folio/platform/problem';
import { type Gateway, WEBHOOK_TOLERANCE_SECONDS, WebhookSignatureError } from './gateway.ts';
import { WebhookAnswer } from './payment.schemas.ts';
import type { PaymentService } from './payment.service.ts';

const SIGNATURE_HEADER = 'stripe-signature';
/** Gateway events are larger than our own requests. */
const WEBHOOK_BODY_LIMIT = 512 * 1024;

export async function registerWebhookRoutes(app: App, deps: { service: PaymentService; gateway: Gateway }): Promise<void> {
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: WEBHOOK_BODY_LIMIT }, (_request, body, done) => done(null, body));

    scope.post(
      '/api/payments/webhook',
      {
        bodyLimit: WEBHOOK_BODY_LIMIT,
        schema: {
          tags: ['payments'],
          summary: "The payment gateway's event callback (Stripe webhook)",
          description:
            `Signed with Stripe-Signature (t=…,v1=…) by one of the webhook secrets; a signature older than ${WEBHOOK_TOLERANCE_SECONDS} s is refused. ` +
            'Each event is applied once, whatever the number of deliveries; 200 means it was applied (or needs nothing).',
          response: { 200: WebhookAnswer, ...problemResponses(400, 415) },
        },
      },
      async (request) => {
        const raw = typeof request.body === 'string' ? request.body : '';
        const header = request.headers[SIGNATURE_HEADER];
        let event: ReturnType<Gateway['verifyWebhook']>;
        try {
          event = deps.gateway.verifyWebhook(raw, Array.isArray(header) ? header.join(',') : header);
        } catch (err) {
          if (!(err instanceof WebhookSignatureError)) throw err;
          request.log.warn({ reason: err.message }, 'refused a payment callback that does not carry a valid gateway signature');
          throw problems.badRequest(`The callback is not signed by the payment gateway: ${err.message}`);
        }
        await deps.service.applyEvent(event);
        return { received: true };
      },
    );
  });
}
