/**
 * What the simulator's tests share: a real webhook endpoint that verifies every event with the official
 * SDK's `stripe.webhooks.constructEvent`, an SDK client pointed at the simulator, and the hosted page's form.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from '@folio/platform/testing';
import Stripe from 'stripe';
import { type Simulator, type SimulatorOptions, startSimulator } from './simulator.ts';

export interface Received {
  raw: string;
  signature: string;
  /** The verified event, or undefined when constructEvent refused it. */
  event: Stripe.Event | undefined;
  error: string | undefined;
  /** The status the endpoint answered. */
  answered: number;
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Verified events, in arrival order. */
  events(): Stripe.Event[];
  /** What to answer to a verified event; `n` counts the requests since `received` was last emptied (1 for the first). Default 200. */
  respond: (event: Stripe.Event, n: number) => number;
  waitFor(predicate: (events: Stripe.Event[]) => boolean, what?: string, timeoutMs?: number): Promise<Stripe.Event[]>;
  close(): Promise<void>;
}

/** Verifies with a client of its own, as the payment service will: only the secret is shared. */
export async function startReceiver(secret: string): Promise<Receiver> {
  const verifier = new Stripe('sk_test_unused');
  const receiver: Receiver = {
    url: '',
    received: [],
    events: () => receiver.received.flatMap((r) => (r.event ? [r.event] : [])),
    respond: () => 200,
    waitFor: (predicate, what = 'webhook events', timeoutMs = 10_000) =>
      eventually(() => (predicate(receiver.events()) ? receiver.events() : undefined), { what, timeoutMs, intervalMs: 10 }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const signature = String(req.headers['stripe-signature'] ?? '');
      let event: Stripe.Event | undefined;
      let error: string | undefined;
      try {
        event = verifier.webhooks.constructEvent(raw, signature, secret);
      } catch (err) {
        error = (err as Error).message;
      }
      const answered = event ? receiver.respond(event, receiver.received.length + 1) : 400;
      receiver.received.push({ raw, signature, event, error, answered, at: Date.now() });
      res.writeHead(answered, { 'content-type': 'application/json' }).end(JSON.stringify({ received: answered < 300 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;
  return receiver;
}

/** The official SDK, configured as the payment service configures it (no retries unless asked, to keep tests exact). */
export function sdk(sim: Simulator, opts: { apiKey?: string; timeout?: number; maxNetworkRetries?: number } = {}): Stripe {
  const url = new URL(sim.url);
  return new Stripe(opts.apiKey ?? sim.apiKey, {
    host: url.hostname,
    port: Number(url.port),
    protocol: 'http',
    maxNetworkRetries: opts.maxNetworkRetries ?? 0,
    ...(opts.timeout ? { timeout: opts.timeout } : {}),
  });
}

export interface Harness {
  sim: Simulator;
  receiver: Receiver;
  stripe: Stripe;
  close(): Promise<void>;
}

/** A simulator delivering to a verifying receiver, with fast retries. */
export async function startHarness(opts: SimulatorOptions = {}): Promise<Harness> {
  const secret = opts.webhookSecret ?? 'whsec_test_harness';
  const receiver = await startReceiver(secret);
  const sim = await startSimulator({
    webhookUrl: receiver.url,
    webhookSecret: secret,
    webhookBaseDelayMs: 20,
    reorderWindowMs: 100,
    expirySweepMs: 100,
    minExpiresInSeconds: 1,
    logLevel: process.env.LOG_LEVEL ?? 'silent',
    ...opts,
  });
  return {
    sim,
    receiver,
    stripe: sdk(sim),
    async close() {
      await sim.close();
      await receiver.close();
    },
  };
}

export const SUCCESS_URL = 'https://folio.test/payments/return?session_id={CHECKOUT_SESSION_ID}';
export const CANCEL_URL = 'https://folio.test/payments/cancelled?order=ORD-1';

/** A session as the payment service creates one: the order as one line, its reference, metadata for reconciliation. */
export function sessionParams(overrides: Partial<Stripe.Checkout.SessionCreateParams> = {}): Stripe.Checkout.SessionCreateParams {
  return {
    mode: 'payment',
    line_items: [{ price_data: { currency: 'eur', unit_amount: 2599, product_data: { name: 'Folio order ORD-1' } }, quantity: 1 }],
    client_reference_id: 'ORD-1',
    success_url: SUCCESS_URL,
    cancel_url: CANCEL_URL,
    metadata: { orderId: 'ORD-1' },
    payment_intent_data: { metadata: { orderId: 'ORD-1', paymentId: 'pay-1' } },
    ...overrides,
  };
}

export const nextYear = () => String((new Date().getUTCFullYear() + 1) % 100).padStart(2, '0');

/** What a browser does when the reader submits the hosted page's form. */
export async function submitForm(pageUrl: string, fields: Record<string, string>): Promise<{ status: number; location: string | null; html: string }> {
  const res = await fetch(pageUrl, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, location: res.headers.get('location'), html: await res.text() };
}

export const payWith = (pageUrl: string, cardNumber: string) => submitForm(pageUrl, { cardNumber, expiry: `12/${nextYear()}`, cvc: '123' });

/** The data.object of the first event of this type; fails the test when there is none. */
export function objectOf<T>(events: Stripe.Event[], type: Stripe.Event.Type): T {
  const event = events.find((e) => e.type === type);
  assert.ok(event, `no ${type} event among: ${events.map((e) => e.type).join(', ')}`);
  return event.data.object as T;
}
