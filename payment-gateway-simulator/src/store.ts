/**
 * The simulator's whole state, in memory: Checkout Sessions, PaymentIntents, Charges, Refunds, the events
 * with their delivery attempts, and idempotency records. A restart (or POST /_sim/reset) forgets everything.
 *
 * The objects are Stripe's, field for field, for the subset the simulator models; the Conform<> checks below
 * make the compiler compare every field's type with the official SDK's declaration.
 */
import { randomBytes } from 'node:crypto';
import type Stripe from 'stripe';
import type { DECLINES, DeclineReason } from './cards.ts';

export type SessionStatus = 'open' | 'complete' | 'expired';
export type IntentStatus = 'requires_payment_method' | 'succeeded' | 'canceled';

/** Which status may follow which; anything else is a bug (a payment on an expired session, an expiry after payment). */
export const SESSION_TRANSITIONS: { readonly [S in SessionStatus]: readonly SessionStatus[] } = {
  open: ['complete', 'expired'],
  complete: [],
  expired: [],
};

/** A declined attempt leaves the intent in requires_payment_method (the customer may try another card). */
export const INTENT_TRANSITIONS: { readonly [S in IntentStatus]: readonly IntentStatus[] } = {
  requires_payment_method: ['requires_payment_method', 'succeeded', 'canceled'],
  succeeded: [],
  canceled: [],
};

export function assertTransition<S extends string>(table: { readonly [K in S]: readonly S[] }, what: string, from: S, to: S): void {
  if (!table[from].includes(to)) throw new Error(`${what}: no transition from ${from} to ${to}`);
}

export type Metadata = Record<string, string>;

export interface CheckoutSession {
  id: string;
  object: 'checkout.session';
  amount_subtotal: number;
  amount_total: number;
  cancel_url: string | null;
  client_reference_id: string | null;
  created: number;
  currency: string;
  expires_at: number;
  livemode: false;
  metadata: Metadata;
  mode: 'payment';
  payment_intent: string;
  payment_method_types: string[];
  payment_status: 'paid' | 'unpaid';
  status: SessionStatus;
  success_url: string;
  /** The hosted page, while the session is open; null afterwards, as on Stripe. */
  url: string | null;
}

type DeclineCode = (typeof DECLINES)[DeclineReason]['code'];

export interface LastPaymentError {
  type: 'card_error';
  code: DeclineCode;
  decline_code: string;
  message: string;
  charge: string;
  doc_url: string;
}

export interface PaymentIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_capturable: number;
  amount_received: number;
  canceled_at: number | null;
  cancellation_reason: 'abandoned' | null;
  created: number;
  currency: string;
  last_payment_error: LastPaymentError | null;
  latest_charge: string | null;
  livemode: false;
  metadata: Metadata;
  payment_method_types: string[];
  status: IntentStatus;
}

export interface CardDetails {
  brand: string;
  last4: string;
  exp_month: number;
  exp_year: number;
}

export interface Charge {
  id: string;
  object: 'charge';
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  captured: boolean;
  created: number;
  currency: string;
  failure_code: string | null;
  failure_message: string | null;
  livemode: false;
  metadata: Metadata;
  paid: boolean;
  payment_intent: string;
  /** Not compared with the SDK: Stripe's card details carry dozens of fields the simulator has no value for. */
  payment_method_details: { type: 'card'; card: CardDetails };
  refunded: boolean;
  status: 'succeeded' | 'failed';
}

export interface Refund {
  id: string;
  object: 'refund';
  amount: number;
  charge: string;
  created: number;
  currency: string;
  metadata: Metadata;
  payment_intent: string;
  reason: 'duplicate' | 'fraudulent' | 'requested_by_customer' | null;
  status: 'succeeded';
}

export type EventType =
  | 'checkout.session.completed'
  | 'checkout.session.expired'
  | 'payment_intent.succeeded'
  | 'payment_intent.payment_failed'
  | 'charge.refunded'
  | 'refund.created';

export interface StripeEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: CheckoutSession | PaymentIntent | Charge | Refund };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: EventType;
}

/** Compiles only if every field of T exists on the SDK's type S with an assignable type. */
type Conform<T extends Pick<S, keyof T & keyof S> & { [K in Exclude<keyof T, keyof S>]: never }, S> = T;
export type ConformingObjects = [
  Conform<CheckoutSession, Stripe.Checkout.Session>,
  Conform<PaymentIntent, Stripe.PaymentIntent>,
  Conform<LastPaymentError, Stripe.PaymentIntent.LastPaymentError>,
  Conform<Omit<Charge, 'payment_method_details'>, Stripe.Charge>,
  Conform<Refund, Stripe.Refund>,
  Conform<Omit<StripeEvent, 'data' | 'type'>, Stripe.Event>,
  Conform<{ type: EventType }, { type: Stripe.Event.Type }>,
];

// ---------------------------------------------------------------------------------------------
// Webhook deliveries

export interface DeliveryAttempt {
  attempt: number;
  at: string;
  /** dropped: not sent, by the dropWebhooks fault; retried like a failure. */
  outcome: 'succeeded' | 'failed' | 'dropped';
  status?: number;
  error?: string;
  durationMs?: number;
}

/** One delivery of an event to the endpoint (two when the duplicateWebhooks fault is on). */
export interface Delivery {
  /** held: waiting for its reorder batch; failed: gave up after the last attempt. */
  status: 'held' | 'scheduled' | 'sending' | 'succeeded' | 'failed';
  attempts: DeliveryAttempt[];
  nextAttemptAt: string | null;
}

export interface EventRecord {
  event: StripeEvent;
  /** The exact bytes signed and sent, the same for every attempt. */
  payload: string;
  deliveries: Delivery[];
}

// ---------------------------------------------------------------------------------------------
// Idempotency

export interface IdempotencyRecord {
  /** "POST /v1/refunds" */
  endpoint: string;
  /** The request's parameters, canonically serialized. */
  fingerprint: string;
  status: number;
  body: string;
  createdAtMs: number;
}

export interface LineItem {
  name: string;
  currency: string;
  unit_amount: number;
  quantity: number;
  amount_total: number;
}

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A Stripe-looking id: the prefix and random base62 characters (cs_test_ ids are long, as Stripe's are). */
export function newId(prefix: string, length = 24): string {
  const bytes = randomBytes(length);
  let out = prefix;
  for (const b of bytes) out += ALPHABET[b % 62];
  return out;
}

/** Stripe keeps idempotency keys for 24 hours. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export class Store {
  readonly sessions = new Map<string, CheckoutSession>();
  readonly lineItems = new Map<string, LineItem[]>();
  readonly intents = new Map<string, PaymentIntent>();
  readonly charges = new Map<string, Charge>();
  readonly refunds = new Map<string, Refund>();
  readonly events: EventRecord[] = [];
  readonly idempotency = new Map<string, IdempotencyRecord>();

  /** Forgets idempotency keys past their 24 hours (the SDK sends a fresh key with every POST, so they pile up). */
  pruneIdempotency(nowMs: number): void {
    for (const [key, record] of this.idempotency) if (nowMs - record.createdAtMs >= IDEMPOTENCY_TTL_MS) this.idempotency.delete(key);
  }

  clear(): void {
    this.sessions.clear();
    this.lineItems.clear();
    this.intents.clear();
    this.charges.clear();
    this.refunds.clear();
    this.events.length = 0;
    this.idempotency.clear();
  }
}
