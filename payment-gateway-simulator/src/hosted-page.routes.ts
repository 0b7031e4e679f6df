/**
 * The hosted payment page at <PUBLIC_URL>/pay/<session id>, where Folio sends the reader's browser: a form
 * posting the card; a redirect (303) to Folio's success_url or cancel_url; the form again on a malformed
 * card (400) or a decline (402); 410 once the session cannot be paid. Like Stripe's page, a decline or a
 * cancel leaves the session open: only payment or expiry closes it.
 */
import type { App } from '@folio/platform/http';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { checkCard, type OutcomeMode } from './cards.ts';
import { type Gateway, successUrlOf } from './gateway.ts';
import { closedPage, type FormState, messagePage, type PageSession, paymentPage } from './hosted-page.html.ts';
import type { CheckoutSession, Store } from './store.ts';

export interface HostedPageDeps {
  gateway: Gateway;
  store: Store;
  outcomeMode: OutcomeMode;
}

const TAGS = ['Hosted payment page'];
const SessionParams = Type.Object({ sessionId: Type.String({ maxLength: 100 }) });
const PayForm = Type.Object(
  {
    cardNumber: Type.Optional(Type.String({ maxLength: 64 })),
    expiry: Type.Optional(Type.String({ maxLength: 16 })),
    cvc: Type.Optional(Type.String({ maxLength: 16 })),
    action: Type.Optional(Type.Union([Type.Literal('pay'), Type.Literal('cancel')])),
  },
  // Browsers and extensions add fields of their own; they are ignored rather than refused.
  { additionalProperties: true },
);

function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
    .send(body);
}

export async function hostedPageRoutes(app: App, deps: HostedPageDeps): Promise<void> {
  const { gateway, store } = deps;

  // A form post; only its flat fields matter, the first value of each.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    const fields: Record<string, string> = {};
    for (const [key, value] of new URLSearchParams(body as string)) if (!(key in fields)) fields[key] = value;
    done(null, fields);
  });

  app.setErrorHandler((error, request, reply) => {
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'unexpected error on the hosted page');
      return html(reply, 500, messagePage('Something went wrong', 'The payment page failed; nothing was charged. Try again in a moment.'));
    }
    request.log.info({ status, err: (error as Error).message }, 'hosted page request refused');
    return html(reply, status, messagePage('This request cannot be handled', 'Go back to the payment page and submit the form again.'));
  });

  app.setNotFoundHandler((_request, reply) =>
    html(reply, 404, messagePage('Payment page not found', 'There is no payment page at this address. Go back to Folio and start the payment again.')),
  );

  const pageOf = (session: CheckoutSession): PageSession => ({
    id: session.id,
    amountTotal: session.amount_total,
    currency: session.currency,
    clientReferenceId: session.client_reference_id,
    lineItems: store.lineItems.get(session.id) ?? [],
    cancelUrl: session.cancel_url,
  });

  const closed = (reply: FastifyReply, session: CheckoutSession) =>
    session.status === 'complete'
      ? html(reply, 410, closedPage(pageOf(session), 'paid', successUrlOf(session)))
      : html(reply, 410, closedPage(pageOf(session), 'expired', session.cancel_url));

  const notFound = (reply: FastifyReply) =>
    html(reply, 404, messagePage('Payment page not found', 'There is no payment for this address. Go back to Folio and start the payment again.'));

  const randomMode = deps.outcomeMode === 'random';

  app.get(
    '/:sessionId',
    { schema: { tags: TAGS, summary: 'The payment page of a Checkout Session (HTML)', params: SessionParams } },
    async (request, reply) => {
      const session = gateway.findSession(request.params.sessionId);
      if (!session) return notFound(reply);
      if (session.status !== 'open') return closed(reply, session);
      return html(reply, 200, paymentPage(pageOf(session), { randomMode }));
    },
  );

  app.post(
    '/:sessionId',
    {
      schema: {
        tags: TAGS,
        summary: 'Submit the payment form (application/x-www-form-urlencoded): pay with a card, or cancel',
        consumes: ['application/x-www-form-urlencoded'],
        params: SessionParams,
        body: PayForm,
      },
    },
    async (request, reply) => {
      const session = gateway.findSession(request.params.sessionId);
      if (!session) return notFound(reply);
      if (session.status !== 'open') return closed(reply, session);
      const form = request.body;

      if (form.action === 'cancel') {
        // As on Stripe: back to the merchant, no event; the session stays open until it expires.
        if (!session.cancel_url) return html(reply, 400, paymentPage(pageOf(session), { randomMode, decline: 'This payment cannot be cancelled here.' }));
        request.log.info({ sessionId: session.id }, 'payment cancelled on the hosted page');
        return reply.code(303).header('location', session.cancel_url).header('cache-control', 'no-store').send();
      }

      const check = checkCard(form);
      const state: FormState = { randomMode, ...(form.expiry ? { expiry: form.expiry } : {}) };
      if (!check.ok) return html(reply, 400, paymentPage(pageOf(session), { ...state, errors: check.errors }));

      const result = gateway.pay(session.id, check.card);
      switch (result.kind) {
        case 'succeeded':
          return reply.code(303).header('location', result.redirectTo).header('cache-control', 'no-store').send();
        case 'declined':
          return html(reply, 402, paymentPage(pageOf(result.session), { ...state, decline: result.message }));
        case 'closed':
          return closed(reply, result.session);
      }
    },
  );
}
