/**
 * The payment rules. A payment is one attempt to pay an order, with one checkout session at the gateway.
 *
 * - Every change happens in a transaction that first locks all attempts of the order, so "has another
 *   attempt already succeeded?" has one answer; the database refuses a second success regardless.
 * - Every transition goes through the state machine, is recorded in payment_transitions, and publishes its
 *   event through the outbox in the same transaction (aggregate: the order).
 * - The gateway is called outside transactions. Calls that must eventually happen (session creation, a
 *   refund, expiring a session) are recorded first, so the background jobs finish them if the call fails.
 */

import { PaymentCancelled, PaymentFailed, PaymentRefunded, PaymentSucceeded, PaymentTimedOut } from '@folio/contracts/events';
import type { OpenPaymentRequest, PaymentView } from '@folio/contracts/internal';
import { afterCommit, type Pool, type Tx, withTransaction } from '@folio/platform/db';
import type { Logger } from '@folio/platform/log';
import type { Outbox } from '@folio/platform/messaging/outbox';
import { problems } from '@folio/platform/problem';
import type Stripe from 'stripe';
import { type CheckoutSession, type Gateway, GatewayRejectedError, GatewayUnavailableError, idOf } from './gateway.ts';
import type { Payment, PaymentChanges } from './payment.repository.ts';
import * as repo from './payment.repository.ts';
import { assertNever, DUPLICATE_PAYMENT_REASON, isPaid, type PaymentState, type PaymentTrigger, transition } from './payment.state.ts';

export interface PaymentServiceOptions {
  pool: Pool;
  outbox: Outbox;
  gateway: Gateway;
  log: Logger;
  /** The edge, where the gateway sends the reader back (success and cancel URLs). */
  publicUrl: string;
  /** Where the reader lands after paying or cancelling. */
  storefrontUrl: string;
  reconcileAfterSeconds: number;
  /** How long one gateway call may take at most (SDK retries included): the lease of a claimed row. */
  gatewayCallBudgetMs: number;
  /** The pause before a job tries the gateway again after it failed. */
  retryDelayMs: number;
}

/** What a gateway event or read tells about one payment. */
type Outcome =
  | { kind: 'captured'; paymentIntent: string | null; sessionId: string | null }
  | { kind: 'declined'; reason: string }
  | { kind: 'expired'; sessionId: string | null }
  | { kind: 'refunded'; refundId: string | null }
  | { kind: 'refund-failed'; refundId: string; status: string };

interface Interpreted {
  /** How to find the payment: its session, its payment intent, or the payment id in the metadata. */
  ref: { sessionId?: string; paymentIntent?: string; paymentId?: string };
  outcome: Outcome;
}

type Effect = () => Promise<unknown>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const uuidOrUndefined = (v: unknown): string | undefined => (typeof v === 'string' && UUID.test(v) ? v : undefined);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 && v.length <= 255 ? v : undefined);

export function viewOf(p: Payment): PaymentView {
  return {
    id: p.id,
    orderId: p.orderId,
    attempt: p.attempt,
    status: p.status,
    amount: p.amount,
    paymentUrl: p.paymentUrl,
    ...(p.failureReason ? { failureReason: p.failureReason } : {}),
    createdAt: p.createdAt.toISOString(),
  };
}

/** What a verified gateway event says, or undefined for the events we do not act on. */
export function interpret(event: Stripe.Event): Interpreted | undefined {
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded': {
      const s = event.data.object;
      // A completed session with an asynchronous payment method is not paid yet: its own event follows.
      if (s.payment_status !== 'paid' && s.payment_status !== 'no_payment_required') return undefined;
      const paymentIntent = idOf(s.payment_intent);
      return {
        ref: { sessionId: s.id, paymentId: uuidOrUndefined(s.metadata?.paymentId), ...(paymentIntent ? { paymentIntent } : {}) },
        outcome: { kind: 'captured', paymentIntent, sessionId: s.id },
      };
    }
    case 'checkout.session.async_payment_failed': {
      const s = event.data.object;
      return {
        ref: { sessionId: s.id, paymentId: uuidOrUndefined(s.metadata?.paymentId) },
        outcome: { kind: 'declined', reason: 'the payment did not go through' },
      };
    }
    case 'checkout.session.expired': {
      const s = event.data.object;
      return { ref: { sessionId: s.id, paymentId: uuidOrUndefined(s.metadata?.paymentId) }, outcome: { kind: 'expired', sessionId: s.id } };
    }
    case 'payment_intent.succeeded': {
      const pi = event.data.object;
      return {
        ref: { paymentIntent: pi.id, paymentId: uuidOrUndefined(pi.metadata?.paymentId) },
        outcome: { kind: 'captured', paymentIntent: pi.id, sessionId: null },
      };
    }
    case 'payment_intent.payment_failed': {
      const pi = event.data.object;
      const reason = (pi.last_payment_error?.message ?? 'the payment was declined').slice(0, 500);
      return { ref: { paymentIntent: pi.id, paymentId: uuidOrUndefined(pi.metadata?.paymentId) }, outcome: { kind: 'declined', reason } };
    }
    case 'charge.refunded': {
      const charge = event.data.object;
      // Only a full refund makes the payment refunded; Folio never asks for partial ones.
      if (!charge.refunded) return undefined;
      const paymentIntent = idOf(charge.payment_intent);
      return {
        ref: { paymentId: uuidOrUndefined(charge.metadata?.paymentId), ...(paymentIntent ? { paymentIntent } : {}) },
        outcome: { kind: 'refunded', refundId: idOf(charge.refunds?.data?.[0]) },
      };
    }
    case 'refund.created':
    case 'refund.updated':
    case 'refund.failed': {
      const refund = event.data.object;
      const paymentIntent = idOf(refund.payment_intent);
      const ref = { paymentId: uuidOrUndefined(refund.metadata?.paymentId), ...(paymentIntent ? { paymentIntent } : {}) };
      if (refund.status === 'succeeded') return { ref, outcome: { kind: 'refunded', refundId: refund.id } };
      if (refund.status === 'failed' || refund.status === 'canceled')
        return { ref, outcome: { kind: 'refund-failed', refundId: refund.id, status: refund.status } };
      return undefined;
    }
    default:
      return undefined;
  }
}

export type PaymentService = ReturnType<typeof createPaymentService>;

export function createPaymentService(opts: PaymentServiceOptions) {
  const { pool, outbox, gateway, log } = opts;
  const publicUrl = opts.publicUrl.replace(/\/+$/, '');
  const storefrontUrl = opts.storefrontUrl.replace(/\/+$/, '');
  const leaseSeconds = Math.ceil(opts.gatewayCallBudgetMs / 1000) + 5;
  const later = (ms: number) => new Date(Date.now() + ms);

  // Gateway calls started after a commit and not awaited by anyone (expiring replaced sessions, refunding a
  // duplicate capture): tracked so shutdown waits for them. Whatever they do not finish, a job does.
  const inFlight = new Set<Promise<unknown>>();
  function inBackground(what: string, effect: Effect): void {
    const p = effect()
      .catch((err: unknown) => log.warn({ err, what }, 'background gateway call failed; a job will retry'))
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }

  // ---------------------------------------------------------------------------------------------
  // Transitions

  async function publish(tx: Tx, p: Payment, state: PaymentState): Promise<void> {
    const base = { paymentId: p.id, orderId: p.orderId, userId: p.userId, attempt: p.attempt };
    const aggregateId = p.orderId;
    switch (state.status) {
      case 'pending':
        return; // never entered by a transition
      case 'success':
        await outbox.publish(tx, PaymentSucceeded, { aggregateId, payload: { ...base, amount: p.amount } });
        return;
      case 'failed':
        await outbox.publish(tx, PaymentFailed, { aggregateId, payload: { ...base, reason: state.reason } });
        return;
      case 'cancelled':
        await outbox.publish(tx, PaymentCancelled, { aggregateId, payload: { ...base, reason: state.reason } });
        return;
      case 'timeout':
        await outbox.publish(tx, PaymentTimedOut, { aggregateId, payload: base });
        return;
      case 'refunded':
        await outbox.publish(tx, PaymentRefunded, { aggregateId, payload: { ...base, amount: p.amount } });
        return;
      default:
        assertNever(state);
    }
  }

  /**
   * Applies a trigger through the state machine (the caller holds the order's lock). A move is saved with
   * `changes`, recorded in the history and published; a repeat only saves `changes`; an illegal trigger is
   * refused and logged, and changes nothing.
   */
  async function apply(tx: Tx, p: Payment, trigger: PaymentTrigger, why: string, changes: PaymentChanges = {}): Promise<Payment> {
    const t = transition(p.status, trigger);
    switch (t.kind) {
      case 'refuse':
        log.warn(
          { paymentId: p.id, orderId: p.orderId, status: p.status, trigger: t.trigger, why },
          'refused a payment transition that would move it backwards',
        );
        return p;
      case 'same':
        log.debug({ paymentId: p.id, status: p.status, trigger: trigger.kind, why }, 'payment already there; nothing to do');
        return Object.values(changes).some((v) => v !== undefined) ? repo.update(tx, p.id, changes) : p;
      case 'move': {
        const next = t.to;
        const updated = await repo.update(tx, p.id, {
          ...changes,
          status: next.status,
          ...(next.status === 'failed' ? { failureReason: next.reason } : {}),
        });
        await repo.insertTransition(tx, { paymentId: p.id, from: t.from, to: next.status, reason: why });
        await publish(tx, updated, next);
        if (t.lateCapture) {
          log.warn(
            { paymentId: p.id, orderId: p.orderId, from: t.from, why },
            'late capture: the gateway took the money of an attempt given up on; the order service decides',
          );
        } else {
          log.info({ paymentId: p.id, orderId: p.orderId, from: t.from, to: next.status, why }, `payment ${next.status}`);
        }
        return updated;
      }
      default:
        return assertNever(t);
    }
  }

  /** The money of this attempt was captured: success, or a duplicate refunded at once when another attempt already succeeded. */
  async function capture(tx: Tx, attempts: Payment[], p: Payment, paymentIntent: string | null, why: string): Promise<Payment> {
    const other = attempts.find((a) => a.id !== p.id && isPaid(a.status));
    const known = paymentIntent ?? undefined;
    if (isPaid(p.status) || !other) return apply(tx, p, { kind: 'captured' }, why, { paymentIntent: known, expireSession: false });

    if (p.refundRequestedAt) return p; // this duplicate is already being refunded
    log.error(
      { alert: 'double-payment', paymentId: p.id, orderId: p.orderId, succeededPaymentId: other.id, paymentIntent },
      'double payment: an attempt was paid while another attempt of the order had already succeeded; refunding it',
    );
    const updated = await apply(tx, p, { kind: 'duplicate' }, `${why}, while payment ${other.id} had already succeeded`, {
      paymentIntent: known,
      failureReason: DUPLICATE_PAYMENT_REASON,
      expireSession: false,
      refundRequestedAt: new Date(),
      refundReason: 'duplicate payment',
      nextCheckAt: later(opts.gatewayCallBudgetMs),
    });
    afterCommit(tx, () => inBackground('refund a duplicate payment', () => requestRefund(updated)));
    return updated;
  }

  /** The gateway returned the money of this payment. */
  async function refunded(tx: Tx, p: Payment, refundId: string | null, why: string): Promise<Payment> {
    const changes: PaymentChanges = { refundId: p.refundId ?? refundId ?? undefined, refundedAt: p.refundedAt ?? new Date() };
    if (!isPaid(p.status) && p.refundRequestedAt) {
      // A duplicate capture: its money is back, its status stays what it was.
      if (!p.refundedAt) log.info({ paymentId: p.id, orderId: p.orderId, refundId }, 'duplicate payment refunded');
      return p.refundedAt ? p : repo.update(tx, p.id, changes);
    }
    return apply(tx, p, { kind: 'refunded' }, why, changes);
  }

  /** Applies what the gateway says about a payment (an event or a read), in the caller's transaction. */
  async function settle(tx: Tx, attempts: Payment[], p: Payment, outcome: Outcome, why: string): Promise<Payment> {
    switch (outcome.kind) {
      case 'captured': {
        const withSession = !p.sessionId && outcome.sessionId ? await repo.update(tx, p.id, { sessionId: outcome.sessionId }) : p;
        return capture(tx, attempts, withSession, outcome.paymentIntent, why);
      }
      case 'declined':
        return apply(tx, p, { kind: 'declined', reason: outcome.reason }, why);
      case 'expired':
        // The reader's cancel makes an expired session a cancellation; otherwise the window closed.
        return apply(tx, p, p.cancelRequested ? { kind: 'cancelled', reason: 'cancelled by the reader' } : { kind: 'expired' }, why, { expireSession: false });
      case 'refunded':
        return refunded(tx, p, outcome.refundId, why);
      case 'refund-failed':
        log.error(
          { alert: 'refund-failed', paymentId: p.id, orderId: p.orderId, refundId: outcome.refundId, status: outcome.status },
          'the gateway could not refund a payment',
        );
        return p;
      default:
        return assertNever(outcome);
    }
  }

  /** Runs fn on a payment with every attempt of its order locked. */
  async function withOrderLocked<T>(paymentId: string, fn: (tx: Tx, p: Payment, attempts: Payment[]) => Promise<T>): Promise<T | undefined> {
    return withTransaction(pool, async (tx) => {
      const found = await repo.findById(tx, paymentId);
      if (!found) return undefined;
      const attempts = await repo.lockOrder(tx, found.orderId);
      const p = attempts.find((a) => a.id === paymentId);
      return p ? fn(tx, p, attempts) : undefined;
    });
  }

  /** What a session read says about its payment. */
  function outcomeOfSession(s: CheckoutSession): Outcome | undefined {
    if (s.status === 'complete' && (s.paymentStatus === 'paid' || s.paymentStatus === 'no_payment_required')) {
      return { kind: 'captured', paymentIntent: s.paymentIntent, sessionId: s.id };
    }
    if (s.status === 'expired') return { kind: 'expired', sessionId: s.id };
    return undefined;
  }

  async function applySession(paymentId: string, s: CheckoutSession, source: string): Promise<Payment | undefined> {
    const outcome = outcomeOfSession(s);
    return withOrderLocked(paymentId, async (tx, p, attempts) => {
      if (!outcome) return p;
      return settle(tx, attempts, p, outcome, `${source}: session ${s.id} is ${s.status}`);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Gateway calls that must eventually happen

  const successUrl = (id: string) => `${publicUrl}/api/payments/${id}/return?session_id={CHECKOUT_SESSION_ID}`;
  const cancelUrl = (id: string) => `${publicUrl}/api/payments/${id}/cancel`;

  /** Creates the payment's checkout session (idempotent by payment id) and stores it. */
  async function ensureSession(p: Payment, quick: boolean): Promise<Payment> {
    let session: CheckoutSession;
    try {
      session = await gateway.createSession(
        {
          paymentId: p.id,
          orderId: p.orderId,
          attempt: p.attempt,
          amount: p.amount,
          deadline: p.deadline,
          successUrl: successUrl(p.id),
          cancelUrl: cancelUrl(p.id),
        },
        { quick },
      );
    } catch (err) {
      if (err instanceof GatewayUnavailableError) {
        await repo.checkAgainAt(pool, p.id, later(opts.retryDelayMs));
        return p;
      }
      if (err instanceof GatewayRejectedError && err.param === 'expires_at') {
        // Too close to the deadline for the gateway to open a session: the attempt times out at its deadline.
        log.warn({ paymentId: p.id, deadline: p.deadline, reason: err.message }, 'too late to open a checkout session before the deadline');
        await repo.checkAgainAt(pool, p.id, p.deadline);
        return p;
      }
      if (err instanceof GatewayRejectedError) {
        // The gateway will never accept this session (e.g. an amount it does not take): the attempt fails.
        log.error({ err, paymentId: p.id, orderId: p.orderId }, 'the payment gateway refused to open a checkout session');
        const failed = await withOrderLocked(p.id, (tx, fresh) =>
          fresh.sessionId
            ? Promise.resolve(fresh)
            : apply(tx, fresh, { kind: 'declined', reason: 'the payment gateway refused the checkout session' }, err.message),
        );
        return failed ?? p;
      }
      throw err;
    }
    const stored = await withOrderLocked(p.id, async (tx, fresh) => {
      if (fresh.sessionId) return fresh;
      const reconcileAt = new Date(Math.min(fresh.createdAt.getTime() + opts.reconcileAfterSeconds * 1000, fresh.deadline.getTime()));
      return repo.update(tx, fresh.id, {
        sessionId: session.id,
        paymentUrl: session.url,
        paymentIntent: session.paymentIntent ?? undefined,
        nextCheckAt: reconcileAt,
        // Replaced or cancelled while the session was being created: nobody may pay it now.
        expireSession: fresh.status !== 'pending' && session.status === 'open',
      });
    });
    if (stored && stored.status !== 'pending' && stored.expireSession) inBackground('expire a session opened too late', () => expireAndSettle(stored, false));
    return stored ?? p;
  }

  /** Asks the gateway to return the money of a payment whose refund was recorded (idempotent by payment id). */
  async function requestRefund(p: Payment): Promise<Payment> {
    const duplicate = !isPaid(p.status);
    try {
      const paymentIntent = p.paymentIntent ?? (p.sessionId ? (await gateway.retrieveSession(p.sessionId)).paymentIntent : null);
      if (!paymentIntent) {
        log.error({ paymentId: p.id, orderId: p.orderId }, 'cannot refund: the gateway names no payment intent for this payment');
        await repo.checkAgainAt(pool, p.id, later(60_000));
        return p;
      }
      const refund = await gateway.createRefund({
        paymentIntent,
        paymentId: p.id,
        orderId: p.orderId,
        idempotencyKey: duplicate ? `duplicate-${p.id}` : `refund-${p.id}`,
        reason: p.refundReason ?? (duplicate ? 'duplicate payment' : 'requested'),
      });
      const after = await withOrderLocked(p.id, async (tx, fresh, attempts) => {
        const withRefund = await repo.update(tx, fresh.id, { refundId: fresh.refundId ?? refund.id, paymentIntent });
        if (refund.status === 'succeeded') return settle(tx, attempts, withRefund, { kind: 'refunded', refundId: refund.id }, `refund ${refund.id} succeeded`);
        if (refund.status === 'failed' || refund.status === 'canceled') {
          return settle(tx, attempts, withRefund, { kind: 'refund-failed', refundId: refund.id, status: refund.status }, `refund ${refund.id}`);
        }
        return withRefund; // pending: charge.refunded follows
      });
      return after ?? p;
    } catch (err) {
      if (err instanceof GatewayUnavailableError) {
        await repo.checkAgainAt(pool, p.id, later(opts.retryDelayMs));
        return p;
      }
      if (err instanceof GatewayRejectedError) {
        log.error({ err, alert: 'refund-refused', paymentId: p.id, orderId: p.orderId }, 'the payment gateway refused a refund; it needs a look');
        await repo.checkAgainAt(pool, p.id, later(10 * 60_000));
        return p;
      }
      throw err;
    }
  }

  /** Expires the payment's session at the gateway and applies what the session then is (expired, or complete after all). */
  async function expireAndSettle(p: Payment, quick: boolean): Promise<Payment | undefined> {
    if (!p.sessionId) return p;
    let session: CheckoutSession;
    try {
      session = await gateway.expireSession(p.sessionId, { quick });
    } catch (err) {
      if (err instanceof GatewayRejectedError) {
        // Only an open session can be expired: it is complete (paid after all) or already expired. Look.
        try {
          session = await gateway.retrieveSession(p.sessionId, { quick });
        } catch (readErr) {
          if (readErr instanceof GatewayRejectedError) {
            // The gateway does not know the session: there is nothing left to expire.
            log.warn({ paymentId: p.id, sessionId: p.sessionId, reason: readErr.message }, 'the gateway does not know the session to expire');
            return withOrderLocked(p.id, (tx, fresh) => repo.update(tx, fresh.id, { expireSession: false }));
          }
          if (!(readErr instanceof GatewayUnavailableError)) throw readErr;
          await repo.checkAgainAt(pool, p.id, later(opts.retryDelayMs));
          return p;
        }
      } else if (err instanceof GatewayUnavailableError) {
        await repo.checkAgainAt(pool, p.id, later(opts.retryDelayMs));
        return p;
      } else {
        throw err;
      }
    }
    return applySession(p.id, session, 'expired at the gateway');
  }

  // ---------------------------------------------------------------------------------------------
  // The internal API

  async function open(req: OpenPaymentRequest): Promise<PaymentView> {
    const deadline = new Date(req.deadline);
    const { payment, replaced } = await withTransaction(pool, async (tx) => {
      // One open at a time per order: two attempts opened together would not see each other.
      await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [req.orderId]);
      const attempts = await repo.lockOrder(tx, req.orderId);
      const existing = attempts.find((a) => a.attempt === req.attempt);
      if (existing) {
        if (existing.userId !== req.userId || existing.amount.amount !== req.amount.amount || existing.amount.currency !== req.amount.currency) {
          throw problems.conflict(`Attempt ${req.attempt} of order ${req.orderId} was opened with another user or amount.`, { paymentId: existing.id });
        }
        return { payment: existing, replaced: [] as Payment[] };
      }
      const paid = attempts.find((a) => isPaid(a.status));
      if (paid)
        throw problems.conflict(`Order ${req.orderId} is already paid by payment ${paid.id}; another attempt could only be a double payment.`, {
          paymentId: paid.id,
        });
      if (deadline.getTime() <= Date.now()) throw problems.unprocessable('The deadline (deadline) has already passed.');

      const replaced: Payment[] = [];
      for (const other of attempts) {
        if (other.status === 'pending') {
          const cancelled = await apply(tx, other, { kind: 'cancelled', reason: `replaced by attempt ${req.attempt}` }, `replaced by attempt ${req.attempt}`, {
            expireSession: other.sessionId !== null,
            nextCheckAt: later(opts.gatewayCallBudgetMs),
          });
          if (cancelled.expireSession) replaced.push(cancelled);
        } else if (other.status === 'failed' && other.sessionId && !other.expireSession) {
          // A declined attempt's page stays payable at the gateway; with a new attempt open it must not be.
          replaced.push(await repo.update(tx, other.id, { expireSession: true, nextCheckAt: later(opts.gatewayCallBudgetMs) }));
        }
      }
      const inserted = await repo.insertPending(tx, {
        id: crypto.randomUUID(),
        orderId: req.orderId,
        userId: req.userId,
        attempt: req.attempt,
        amount: req.amount,
        deadline,
        // The session is created right after commit; the jobs step in only if that does not finish.
        nextCheckAt: new Date(Math.min(Date.now() + opts.gatewayCallBudgetMs, deadline.getTime())),
      });
      if (!inserted) throw new Error(`attempt ${req.attempt} of order ${req.orderId} appeared while its order was locked`);
      return { payment: inserted, replaced };
    });
    for (const r of replaced) inBackground('expire a replaced attempt', () => expireAndSettle(r, false));
    const current = payment.status === 'pending' && !payment.sessionId ? await ensureSession(payment, true) : payment;
    return viewOf(current);
  }

  async function refund(id: string, reason: string): Promise<PaymentView> {
    const claimed = await withOrderLocked(id, async (tx, p) => {
      if (p.status === 'refunded') return { p, call: false };
      if (p.status === 'success' && p.refundRequestedAt) return { p, call: p.refundId === null };
      if (p.status !== 'success') throw problems.conflict(`Payment ${id} is ${p.status}: only a successful payment can be refunded.`, { status: p.status });
      const updated = await repo.update(tx, p.id, { refundRequestedAt: new Date(), refundReason: reason, nextCheckAt: later(opts.gatewayCallBudgetMs) });
      return { p: updated, call: true };
    });
    if (!claimed) throw problems.notFound(`There is no payment ${id}.`);
    return viewOf(claimed.call ? await requestRefund(claimed.p) : claimed.p);
  }

  async function listByOrder(orderId: string): Promise<PaymentView[]> {
    return (await repo.listByOrder(pool, orderId)).map(viewOf);
  }

  // ---------------------------------------------------------------------------------------------
  // The gateway's callbacks and the reader's redirects

  /** Applies a verified gateway event once: its id is recorded in the same transaction as its effect. */
  async function applyEvent(event: Stripe.Event): Promise<void> {
    const interpreted = interpret(event);
    await withTransaction(pool, async (tx) => {
      if (!(await repo.recordGatewayEvent(tx, event.id, event.type))) {
        log.info({ eventId: event.id, type: event.type }, 'gateway event already applied; ignoring the repeat');
        return;
      }
      if (!interpreted) {
        log.debug({ eventId: event.id, type: event.type }, 'gateway event not acted on');
        return;
      }
      const found = await repo.findOrderOf(tx, interpreted.ref);
      if (!found) {
        log.warn({ eventId: event.id, type: event.type, ref: interpreted.ref }, 'gateway event for an unknown payment; ignoring it');
        return;
      }
      const attempts = await repo.lockOrder(tx, found.orderId);
      const p = attempts.find((a) => a.id === found.id);
      if (!p) return;
      await settle(tx, attempts, p, interpreted.outcome, `gateway event ${event.type} (${event.id})`);
    });
  }

  function storefront(p: Payment, result: 'success' | 'cancelled'): string {
    return `${storefrontUrl}/orders/${encodeURIComponent(p.orderId)}?payment=${encodeURIComponent(p.id)}&result=${result}`;
  }

  /** The reader is back from paying: read the session at once, so the order does not wait for the callback. */
  async function returned(id: string, sessionHint: string | undefined): Promise<string> {
    const p = await repo.findById(pool, id);
    if (!p) throw problems.notFound(`There is no payment ${id}.`);
    const sessionId = p.sessionId ?? text(sessionHint);
    // Only a pending payment is settled here. An attempt already given up on (failed, cancelled, timed out)
    // that was paid after all is a late capture: it waits for the gateway's own report (the callback).
    if (p.status === 'pending' && sessionId) {
      try {
        const s = await gateway.retrieveSession(sessionId, { quick: true });
        // A hint from the URL counts only if the gateway says the session is this payment's.
        if (s.id === p.sessionId || s.metadata.paymentId === p.id) await applySession(p.id, s, 'the reader returned from the gateway');
      } catch (err) {
        if (!(err instanceof GatewayUnavailableError || err instanceof GatewayRejectedError)) throw err;
        log.warn({ err, paymentId: id }, 'could not read the session on return; the callback or reconciliation will settle it');
      }
    }
    return storefront(p, 'success');
  }

  /** The reader cancelled on the gateway's page: cancelled in the database first, then the session expired. */
  async function cancelled(id: string): Promise<string> {
    const result = await withOrderLocked(id, async (tx, p) => {
      if (p.status !== 'pending') return p;
      return apply(tx, p, { kind: 'cancelled', reason: 'cancelled by the reader' }, 'the reader cancelled on the payment page', {
        cancelRequested: true,
        expireSession: p.sessionId !== null,
        nextCheckAt: later(opts.gatewayCallBudgetMs),
      });
    });
    if (!result) throw problems.notFound(`There is no payment ${id}.`);
    const final = result.expireSession ? ((await expireAndSettle(result, true)) ?? result) : result;
    return storefront(final, final.status === 'success' ? 'success' : 'cancelled');
  }

  async function readerView(userId: string, id: string): Promise<PaymentView> {
    const p = await repo.findById(pool, id);
    // Another reader's payment answers as if it did not exist.
    if (!p || p.userId !== userId) throw problems.notFound(`There is no payment ${id}.`);
    return viewOf(p);
  }

  // ---------------------------------------------------------------------------------------------
  // Background jobs: each claims its rows (FOR UPDATE SKIP LOCKED, with a lease) and works outside transactions.

  async function sweep(chore: repo.Chore, limit: number, work: (p: Payment) => Promise<unknown>): Promise<number> {
    const claimed = await repo.claim(pool, chore, { limit, leaseSeconds, reconcileAfterSeconds: opts.reconcileAfterSeconds });
    for (const p of claimed) {
      try {
        await work(p);
      } catch (err) {
        log.error({ err, paymentId: p.id, chore }, 'payment job failed on a payment; it will be retried');
        await repo.checkAgainAt(pool, p.id, later(opts.retryDelayMs)).catch(() => {});
      }
    }
    return claimed.length;
  }

  /** Pending payments without a session: create it until the deadline. */
  const createMissingSessions = (limit: number) => sweep('create-session', limit, (p) => ensureSession(p, false));

  /** Pending payments past their deadline: complete at the gateway → success (a missed callback); otherwise expired there → timeout. */
  const expireOverdue = (limit: number) =>
    sweep('timeout', limit, async (p) => {
      if (!p.sessionId) {
        return withOrderLocked(p.id, (tx, fresh) => apply(tx, fresh, { kind: 'expired' }, 'the deadline passed before a checkout session could be opened'));
      }
      let session: CheckoutSession;
      try {
        session = await gateway.retrieveSession(p.sessionId);
      } catch (err) {
        if (err instanceof GatewayRejectedError) {
          // The gateway does not know the session: nothing can have been paid through it.
          log.warn({ paymentId: p.id, sessionId: p.sessionId, reason: err.message }, 'the gateway does not know the session of an overdue payment');
          return withOrderLocked(p.id, (tx, fresh) =>
            apply(tx, fresh, { kind: 'expired' }, `the deadline passed; the gateway does not know session ${p.sessionId}`),
          );
        }
        if (!(err instanceof GatewayUnavailableError)) throw err;
        return repo.checkAgainAt(pool, p.id, later(opts.retryDelayMs));
      }
      if (session.status === 'open') return expireAndSettle(p, false);
      return applySession(p.id, session, 'deadline check');
    });

  /** Pending payments older than PAYMENT_RECONCILE_AFTER_SECONDS: a session already final at the gateway is applied (missed callbacks). */
  const reconcile = (limit: number) =>
    sweep('reconcile', limit, async (p) => {
      const nextReconciliation = () => new Date(Math.min(Date.now() + opts.reconcileAfterSeconds * 1000, p.deadline.getTime()));
      let session: CheckoutSession;
      try {
        session = await gateway.retrieveSession(p.sessionId as string);
      } catch (err) {
        if (err instanceof GatewayRejectedError) {
          log.warn({ paymentId: p.id, sessionId: p.sessionId, reason: err.message }, 'reconciliation: the gateway does not know the session');
          return repo.checkAgainAt(pool, p.id, nextReconciliation());
        }
        if (!(err instanceof GatewayUnavailableError)) throw err;
        return repo.checkAgainAt(pool, p.id, later(opts.retryDelayMs));
      }
      const after = await applySession(p.id, session, 'reconciliation');
      if (after?.status === 'pending') await repo.checkAgainAt(pool, p.id, nextReconciliation());
    });

  /** Refunds recorded but not yet accepted by the gateway. */
  const retryRefunds = (limit: number) => sweep('refund', limit, (p) => requestRefund(p));

  /** Sessions of cancelled or replaced attempts still open at the gateway. */
  const expireAbandonedSessions = (limit: number) => sweep('expire-session', limit, (p) => expireAndSettle(p, false));

  return {
    open,
    refund,
    listByOrder,
    readerView,
    applyEvent,
    returned,
    cancelled,
    createMissingSessions,
    expireOverdue,
    reconcile,
    retryRefunds,
    expireAbandonedSessions,
    /** Waits for the gateway calls started in the background. */
    async drain(): Promise<void> {
      await Promise.allSettled([...inFlight]);
    },
  };
}
