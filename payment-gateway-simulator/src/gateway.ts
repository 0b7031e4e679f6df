/**
 * The rules of the simulated gateway: what creating, paying, expiring and refunding do to the objects, and
 * the events each emits. The routes (API, hosted page) only parse and shape; everything that changes state
 * is here, synchronously, so two requests can never interleave inside one change.
 */
import type { Logger } from '@folio/platform/log';
import type { Card, Outcomes } from './cards.ts';
import { formatAmount } from './money.ts';
import {
  assertTransition,
  type Charge,
  type CheckoutSession,
  type EventRecord,
  type EventType,
  INTENT_TRANSITIONS,
  newId,
  type PaymentIntent,
  type Refund,
  SESSION_TRANSITIONS,
  type SessionStatus,
  type Store,
  type StripeEvent,
} from './store.ts';
import { StripeApiError, stripeErrors } from './stripe-errors.ts';
import type { CreateSessionParams, RefundParams } from './stripe-params.ts';
import type { WebhookDispatcher } from './webhooks.ts';

/** The API request that caused an event (Stripe puts it in event.request); null ids for automatic ones. */
export interface RequestRef {
  id: string | null;
  idempotencyKey: string | null;
}

export const AUTOMATIC: RequestRef = { id: null, idempotencyKey: null };

export interface GatewayOptions {
  store: Store;
  outcomes: Outcomes;
  dispatcher: WebhookDispatcher;
  /** Base URL of the hosted pages (known once the server listens). */
  publicUrl: () => string;
  apiVersion: string;
  log: Logger;
}

export type PayResult =
  | { kind: 'succeeded'; session: CheckoutSession; redirectTo: string }
  | { kind: 'declined'; session: CheckoutSession; message: string; code: string; declineCode: string }
  | { kind: 'closed'; session: CheckoutSession };

const nowSeconds = () => Math.floor(Date.now() / 1000);

export class Gateway {
  readonly #opts: GatewayOptions;
  readonly #store: Store;

  constructor(opts: GatewayOptions) {
    this.#opts = opts;
    this.#store = opts.store;
  }

  createCheckoutSession(p: CreateSessionParams): CheckoutSession {
    const created = nowSeconds();
    const intent: PaymentIntent = {
      id: newId('pi_'),
      object: 'payment_intent',
      amount: p.amountTotal,
      amount_capturable: 0,
      amount_received: 0,
      canceled_at: null,
      cancellation_reason: null,
      created,
      currency: p.currency,
      last_payment_error: null,
      latest_charge: null,
      livemode: false,
      metadata: p.intentMetadata,
      payment_method_types: ['card'],
      status: 'requires_payment_method',
    };
    const id = newId('cs_test_', 58);
    const session: CheckoutSession = {
      id,
      object: 'checkout.session',
      amount_subtotal: p.amountTotal,
      amount_total: p.amountTotal,
      cancel_url: p.cancelUrl,
      client_reference_id: p.clientReferenceId,
      created,
      currency: p.currency,
      expires_at: p.expiresAt,
      livemode: false,
      metadata: p.metadata,
      mode: 'payment',
      payment_intent: intent.id,
      payment_method_types: ['card'],
      payment_status: 'unpaid',
      status: 'open',
      success_url: p.successUrl,
      url: `${this.#opts.publicUrl()}/pay/${id}`,
    };
    this.#store.intents.set(intent.id, intent);
    this.#store.sessions.set(id, session);
    this.#store.lineItems.set(id, p.lineItems);
    this.#opts.log.info(
      { sessionId: id, paymentIntent: intent.id, amount: p.amountTotal, currency: p.currency, clientReferenceId: p.clientReferenceId },
      'checkout session created',
    );
    return session;
  }

  /** The session, expired first if its time has come (so nobody sees it open past expires_at); undefined if unknown. */
  findSession(id: string): CheckoutSession | undefined {
    const session = this.#store.sessions.get(id);
    if (session && session.status === 'open' && session.expires_at <= nowSeconds()) this.#expire(session, AUTOMATIC);
    return session;
  }

  getSession(id: string): CheckoutSession {
    const session = this.findSession(id);
    if (!session) throw stripeErrors.noSuchObject('checkout.session', id);
    return session;
  }

  getIntent(id: string): PaymentIntent {
    const intent = this.#store.intents.get(id);
    if (!intent) throw stripeErrors.noSuchObject('payment_intent', id);
    return intent;
  }

  getRefund(id: string): Refund {
    const refund = this.#store.refunds.get(id);
    if (!refund) throw stripeErrors.noSuchObject('refund', id);
    return refund;
  }

  getCharge(id: string): Charge {
    const charge = this.#store.charges.get(id);
    if (!charge) throw stripeErrors.noSuchObject('charge', id);
    return charge;
  }

  /** POST /v1/checkout/sessions/:id/expire. */
  expireSession(id: string, request: RequestRef): CheckoutSession {
    const session = this.getSession(id);
    if (session.status !== 'open') {
      throw stripeErrors.invalid(
        `Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of \`${session.status}\`.`,
      );
    }
    this.#expire(session, request);
    return session;
  }

  /** The sweep: every open session past its expires_at expires, with its event. */
  expireDue(): number {
    const now = nowSeconds();
    let expired = 0;
    for (const session of this.#store.sessions.values()) {
      if (session.status === 'open' && session.expires_at <= now) {
        this.#expire(session, AUTOMATIC);
        expired++;
      }
    }
    return expired;
  }

  /** A card submitted on the hosted page. */
  pay(sessionId: string, card: Card): PayResult {
    const session = this.getSession(sessionId);
    if (session.status !== 'open') return { kind: 'closed', session };
    const intent = this.getIntent(session.payment_intent);
    const outcome = this.#opts.outcomes.decide(card);
    const created = nowSeconds();
    const charge: Charge = {
      id: newId('ch_'),
      object: 'charge',
      amount: intent.amount,
      amount_captured: outcome.ok ? intent.amount : 0,
      amount_refunded: 0,
      captured: outcome.ok,
      created,
      currency: intent.currency,
      failure_code: outcome.ok ? null : outcome.decline.code,
      failure_message: outcome.ok ? null : outcome.decline.message,
      livemode: false,
      metadata: { ...intent.metadata },
      paid: outcome.ok,
      payment_intent: intent.id,
      payment_method_details: { type: 'card', card: { brand: card.brand, last4: card.last4, exp_month: card.expMonth, exp_year: card.expYear } },
      refunded: false,
      status: outcome.ok ? 'succeeded' : 'failed',
    };
    this.#store.charges.set(charge.id, charge);
    intent.latest_charge = charge.id;
    const log = this.#opts.log.child({ sessionId, paymentIntent: intent.id, charge: charge.id, last4: card.last4 });

    if (!outcome.ok) {
      const { code, decline_code, message } = outcome.decline;
      this.#setIntentStatus(intent, 'requires_payment_method');
      intent.last_payment_error = {
        type: 'card_error',
        code,
        decline_code,
        message,
        charge: charge.id,
        doc_url: `https://stripe.com/docs/error-codes/${code.replaceAll('_', '-')}`,
      };
      log.info({ code, declineCode: decline_code }, 'payment declined');
      this.#emit('payment_intent.payment_failed', intent, AUTOMATIC);
      return { kind: 'declined', session, message, code, declineCode: decline_code };
    }

    this.#setIntentStatus(intent, 'succeeded');
    intent.amount_received = intent.amount;
    intent.last_payment_error = null;
    this.#setSessionStatus(session, 'complete');
    session.payment_status = 'paid';
    session.url = null;
    log.info({ amount: intent.amount, currency: intent.currency }, 'payment succeeded');
    this.#emit('payment_intent.succeeded', intent, AUTOMATIC);
    this.#emit('checkout.session.completed', session, AUTOMATIC);
    return { kind: 'succeeded', session, redirectTo: successUrlOf(session) };
  }

  /** POST /v1/refunds. */
  refund(p: RefundParams, request: RequestRef): Refund {
    let charge: Charge | undefined;
    if (p.paymentIntent) {
      const intent = this.#store.intents.get(p.paymentIntent);
      if (!intent) throw stripeErrors.noSuchReferenced('payment_intent', p.paymentIntent, 'payment_intent');
      const latest = intent.latest_charge ? this.#store.charges.get(intent.latest_charge) : undefined;
      if (intent.status !== 'succeeded' || latest?.status !== 'succeeded') {
        throw stripeErrors.invalid(`This PaymentIntent (${intent.id}) does not have a successful charge to refund.`, { param: 'payment_intent' });
      }
      charge = latest;
    }
    if (p.charge) {
      const named = this.#store.charges.get(p.charge);
      if (!named) throw stripeErrors.noSuchReferenced('charge', p.charge, 'charge');
      if (charge && charge.id !== named.id)
        throw stripeErrors.invalid(`Charge ${named.id} does not belong to PaymentIntent ${p.paymentIntent}.`, { param: 'charge' });
      if (named.status !== 'succeeded') throw stripeErrors.invalid(`The charge ${named.id} has failed and cannot be refunded.`, { param: 'charge' });
      charge = named;
    }
    if (!charge) throw new StripeApiError(500, 'api_error', 'no charge to refund');

    const remaining = charge.amount - charge.amount_refunded;
    if (remaining <= 0) throw stripeErrors.invalid(`Charge ${charge.id} has already been refunded.`, { code: 'charge_already_refunded' });
    const amount = p.amount ?? remaining;
    if (amount > remaining) {
      throw stripeErrors.invalid(
        `Refund amount (${formatAmount(amount, charge.currency)}) is greater than unrefunded amount on charge (${formatAmount(remaining, charge.currency)})`,
        { param: 'amount' },
      );
    }

    charge.amount_refunded += amount;
    charge.refunded = charge.amount_refunded === charge.amount;
    const refund: Refund = {
      id: newId('re_'),
      object: 'refund',
      amount,
      charge: charge.id,
      created: nowSeconds(),
      currency: charge.currency,
      metadata: p.metadata,
      payment_intent: charge.payment_intent,
      reason: p.reason,
      status: 'succeeded',
    };
    this.#store.refunds.set(refund.id, refund);
    this.#opts.log.info({ refund: refund.id, charge: charge.id, amount, amountRefunded: charge.amount_refunded }, 'refund created');
    this.#emit('charge.refunded', charge, request);
    this.#emit('refund.created', refund, request);
    return refund;
  }

  #expire(session: CheckoutSession, request: RequestRef): void {
    this.#setSessionStatus(session, 'expired');
    session.url = null;
    const intent = this.#store.intents.get(session.payment_intent);
    if (intent && intent.status === 'requires_payment_method') {
      // As on Stripe, the PaymentIntent of an expired session is canceled.
      this.#setIntentStatus(intent, 'canceled');
      intent.canceled_at = nowSeconds();
      intent.cancellation_reason = 'abandoned';
    }
    this.#opts.log.info({ sessionId: session.id, byRequest: request.id !== null }, 'checkout session expired');
    this.#emit('checkout.session.expired', session, request);
  }

  #setSessionStatus(session: CheckoutSession, to: SessionStatus): void {
    assertTransition(SESSION_TRANSITIONS, `checkout session ${session.id}`, session.status, to);
    session.status = to;
  }

  #setIntentStatus(intent: PaymentIntent, to: PaymentIntent['status']): void {
    assertTransition(INTENT_TRANSITIONS, `payment intent ${intent.id}`, intent.status, to);
    intent.status = to;
  }

  /** Records the event with a snapshot of the object as it is now, and hands it to the dispatcher. */
  #emit(type: EventType, object: StripeEvent['data']['object'], request: RequestRef): void {
    const event: StripeEvent = {
      id: newId('evt_'),
      object: 'event',
      api_version: this.#opts.apiVersion,
      created: nowSeconds(),
      data: { object: structuredClone(object) },
      livemode: false,
      pending_webhooks: this.#opts.dispatcher.enabled ? 1 : 0,
      request: { id: request.id, idempotency_key: request.idempotencyKey },
      type,
    };
    // Pretty-printed, as Stripe sends it; these exact bytes are signed.
    const record: EventRecord = { event, payload: JSON.stringify(event, null, 2), deliveries: [] };
    this.#store.events.push(record);
    this.#opts.log.debug({ eventId: event.id, type }, 'event emitted');
    this.#opts.dispatcher.enqueue(record);
  }
}

/** success_url with Stripe's {CHECKOUT_SESSION_ID} placeholder filled in. */
export function successUrlOf(session: CheckoutSession): string {
  return session.success_url.replaceAll('{CHECKOUT_SESSION_ID}', session.id);
}
