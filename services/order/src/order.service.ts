/**
 * The rules of the order API. Access: a reader reaches only their own orders; another reader's order
 * answers 404 exactly like one that does not exist. Every change to an order happens with its row
 * locked, goes through the state machine, and is written to its timeline.
 */
import { createHash, randomUUID } from 'node:crypto';
import { money } from '@folio/contracts/money';
import type { Principal } from '@folio/platform/auth';
import { decodeCursor, encodeCursor } from '@folio/platform/cursor';
import { afterCommit, withTransaction } from '@folio/platform/db';
import { ProblemError, problems } from '@folio/platform/problem';
import { runCheckout } from './checkout.workflow.ts';
import { isUnavailable } from './clients/upstream.ts';
import { claimKey, completeKey, expireLease, holdKey, releaseKey, requestHash } from './idempotency.ts';
import type { OrderContext } from './order.context.ts';
import {
  addTimeline,
  findOrder,
  type LineRow,
  linesOf,
  listAllOrders,
  listOrders,
  lockOrder,
  type OrderRow,
  type PaymentRow,
  paymentsOf,
  scheduleStep,
  setPaymentAttempt,
  setPaymentUrl,
  setRefundReason,
  stepFailed,
  type TimelineRow,
  timelinesOf,
} from './order.repository.ts';
import { type AdminOrdersQuery, DEFAULT_PAGE, type OrderPage, type OrderView, type PaymentSummary, type PlaceOrderBody } from './order.schemas.ts';
import { CANCEL_REASONS } from './order.state.ts';
import { backoffMs } from './saga.driver.ts';
import { OPEN_PAYMENT_HEAD_START_MS } from './steps/create-order.ts';
import { openPaymentStep } from './steps/open-payment.ts';

/**
 * A running checkout holds its Idempotency-Key by a lease it renews every KEY_RENEW_MS: a retry of a
 * checkout that crashed waits at most this long before it takes over (with the same order id).
 */
export const KEY_LEASE_SECONDS = 6;
const KEY_RENEW_MS = 2_000;
export const MAX_PAYMENT_ATTEMPTS = 100;
export const READER_REFUND_REASON = 'requested by the reader';
const PLACE_ORDER = 'POST /api/orders';

/** An order as the reader sees it now, with its entity tag; or only the tag, when it is what they have. */
export type OrderAnswer = { tag: string; view: OrderView; waitedMs?: number } | { tag: string; notModified: true; waitedMs?: number };

const tagOf = (view: OrderView): string => `W/"${createHash('sha256').update(JSON.stringify(view)).digest('base64url').slice(0, 27)}"`;

/** The order placed, or the first answer again (`replayed`); a first answer that was a problem is thrown again as one. */
export interface PlaceResult {
  order: OrderView;
  replayed: boolean;
}

/** A stored problem answer, as the ProblemError that produces it again. */
function problemAgain(status: number, body: unknown): ProblemError {
  const { type, title, status: _status, detail, instance: _instance, ...extensions } = (body ?? {}) as Record<string, unknown>;
  return new ProblemError(status, typeof detail === 'string' ? detail : '', {
    type: typeof type === 'string' ? type : 'about:blank',
    ...(typeof title === 'string' ? { title } : {}),
    extensions,
    headers: { 'idempotent-replayed': 'true' },
  });
}

export interface OrderService {
  place(principal: Principal, body: PlaceOrderBody, opts: { authorization: string; idempotencyKey?: string | undefined }): Promise<PlaceResult>;
  /**
   * The order, or `notModified` when its tag is still `unlessTag`: with `waitMs`, after waiting that long
   * for it to change (long polling). The tag is an entity tag of the whole view.
   */
  get(principal: Principal, id: string, opts?: { unlessTag?: string | undefined; waitMs?: number }): Promise<OrderAnswer>;
  list(principal: Principal, query: { limit?: number | undefined; cursor?: string | undefined }): Promise<OrderPage>;
  /** Every reader's orders, for the shop's staff. */
  listAll(principal: Principal, query: AdminOrdersQuery): Promise<OrderPage>;
  retryPayment(principal: Principal, id: string): Promise<PaymentSummary>;
  refund(principal: Principal, id: string): Promise<OrderView>;
}

const notFound = (id: string) => problems.notFound(`You have no order ${id}.`);

// ---------------------------------------------------------------------------------------------
// Views

function toView(order: OrderRow, lines: LineRow[], payments: PaymentRow[], timeline: TimelineRow[], refundWindowDays: number): OrderView {
  const m = (amount: number) => money(amount, order.currency);
  const attempts = payments.map((p) => ({
    id: p.paymentId,
    attempt: p.attempt,
    status: p.status,
    paymentUrl: p.paymentUrl,
    failureReason: p.failureReason,
    updatedAt: p.updatedAt.toISOString(),
  }));
  // The latest attempt: the highest number (one the payment service reported without a number comes last).
  const latest = [...payments].sort((a, b) => (a.attempt ?? 0) - (b.attempt ?? 0) || a.createdAt.getTime() - b.createdAt.getTime()).at(-1);
  const paidAt = order.status === 'paid' ? (order.paidAt ?? order.updatedAt) : null;
  return {
    id: order.id,
    userId: order.userId,
    status: order.status,
    lines: lines.map((l) => ({ bookId: l.bookId, title: l.title, quantity: l.quantity, unitPrice: m(l.unitPrice), lineTotal: m(l.lineTotal) })),
    subtotal: m(order.subtotal),
    tax: m(order.tax),
    shipping: m(order.shipping),
    total: m(order.total),
    currency: order.currency,
    shippingAddress: order.shippingAddress,
    shippingMethod: order.shippingMethod,
    paymentDeadline: order.paymentDeadline.toISOString(),
    payment: latest ? { id: latest.paymentId, status: latest.status, paymentUrl: latest.paymentUrl } : null,
    payments: attempts,
    cancelReason: order.cancelReason,
    paidAt: order.paidAt?.toISOString() ?? null,
    timeline: timeline.map((t) => ({ at: t.at.toISOString(), status: t.status, event: t.event, detail: t.detail })),
    actions: {
      canRetryPayment: paymentRefusal(order) === undefined,
      canRefund: refundRefusal(order, refundWindowDays) === undefined && order.pendingStep !== 'request-refund',
      refundableUntil: paidAt ? new Date(paidAt.getTime() + refundWindowDays * 86_400_000).toISOString() : null,
    },
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
  };
}

async function viewsOf(ctx: OrderContext, orders: OrderRow[]): Promise<OrderView[]> {
  if (orders.length === 0) return [];
  const ids = orders.map((o) => o.id);
  const [lines, payments, timeline] = await Promise.all([linesOf(ctx.pool, ids), paymentsOf(ctx.pool, ids), timelinesOf(ctx.pool, ids)]);
  const of = <T extends { orderId: string }>(rows: T[], id: string) => rows.filter((r) => r.orderId === id);
  return orders.map((o) => toView(o, of(lines, o.id), of(payments, o.id), of(timeline, o.id), ctx.settings.refundWindowDays));
}

// ---------------------------------------------------------------------------------------------

/** Why a payment cannot be opened for this order now, if it cannot. */
function paymentRefusal(order: OrderRow): ProblemError | undefined {
  switch (order.status) {
    case 'paid':
      return problems.conflict('The order is already paid.');
    case 'refunded':
      return problems.conflict('The order was paid and has been refunded.');
    case 'cancelled':
      return order.cancelReason === CANCEL_REASONS.windowClosed || order.cancelReason === null
        ? problems.conflict('The payment window has closed.')
        : problems.conflict(`The order was cancelled (${order.cancelReason}).`);
    case 'created':
      if (order.pendingStep === 'confirm-stock') return problems.conflict('The order is already paid.');
      if (Date.now() >= order.paymentDeadline.getTime()) return problems.conflict('The payment window has closed.');
      return undefined;
    default: {
      const unhandled: never = order.status;
      throw new Error(`unknown order status ${String(unhandled)}`);
    }
  }
}

/** Why this order cannot be refunded at the reader's request, if it cannot. */
function refundRefusal(order: OrderRow, windowDays: number): ProblemError | undefined {
  switch (order.status) {
    case 'created':
      return order.pendingStep === 'confirm-stock'
        ? problems.conflict('The payment is still being confirmed; try again in a moment.')
        : problems.conflict('The order is not paid, so there is nothing to refund.');
    case 'cancelled':
      return problems.conflict('The order was cancelled; any payment taken for it is refunded automatically.');
    case 'refunded':
      return problems.conflict('The order has already been refunded.');
    case 'paid': {
      const paidAt = order.paidAt ?? order.updatedAt;
      if (Date.now() > paidAt.getTime() + windowDays * 86_400_000) {
        return problems.conflict(
          `Refunds are possible within ${windowDays} days of payment; this order was paid on ${paidAt.toISOString().slice(0, 10)}, so the refund window has closed.`,
        );
      }
      if (order.pendingStep !== null && order.pendingStep !== 'request-refund') return problems.conflict('The order is busy; try again in a moment.');
      return undefined;
    }
    default: {
      const unhandled: never = order.status;
      throw new Error(`unknown order status ${String(unhandled)}`);
    }
  }
}

export function createOrderService(ctx: OrderContext): OrderService {
  const { pool, log } = ctx;

  async function viewOf(id: string): Promise<OrderView> {
    const order = await findOrder(pool, id);
    if (!order) throw notFound(id);
    return (await viewsOf(ctx, [order]))[0]!;
  }

  /**
   * An attempt opened while the gateway was unreachable has no hosted page yet; the payment service creates
   * it later without an event, so the reader looking at the order is when it is asked for. Best effort:
   * without an answer the order is shown as it is.
   */
  async function fillMissingPaymentUrls(view: OrderView): Promise<boolean> {
    if (!view.payments.some((p) => p.status === 'pending' && p.paymentUrl === null)) return false;
    try {
      let filled = false;
      for (const p of await ctx.payment.list(view.id)) {
        if (p.paymentUrl && view.payments.some((a) => a.id === p.id && a.paymentUrl === null))
          filled = (await setPaymentUrl(pool, p.id, p.paymentUrl)) || filled;
      }
      return filled;
    } catch (err) {
      log.warn({ err, orderId: view.id }, 'could not ask the payment service for a payment page');
      return false;
    }
  }

  /** Opens the payment now if the order still waits for it; if that fails, the driver takes over. */
  async function openPaymentNow(orderId: string): Promise<void> {
    try {
      await openPaymentStep.run(ctx, orderId);
    } catch (err) {
      log.warn({ err, orderId }, 'the payment could not be opened yet; the saga driver will retry');
      await stepFailed(pool, orderId, 'open-payment', (err as Error).message ?? String(err), backoffMs(1));
    }
  }

  async function checkout(orderId: string, principal: Principal, body: PlaceOrderBody, authorization: string): Promise<OrderView> {
    await runCheckout(ctx, orderId, {
      userId: principal.userId,
      email: principal.email ?? null,
      authorization,
      shippingAddress: body.shippingAddress,
      shippingMethod: body.shippingMethod,
    });
    const order = await findOrder(pool, orderId);
    if (order?.pendingStep === 'open-payment') await openPaymentNow(orderId);
    return viewOf(orderId);
  }

  return {
    async place(principal, body, { authorization, idempotencyKey }) {
      if (idempotencyKey === undefined) return { order: await checkout(randomUUID(), principal, body, authorization), replayed: false };

      const userId = principal.userId;
      const claim = await claimKey(pool, {
        userId,
        key: idempotencyKey,
        requestHash: requestHash(PLACE_ORDER, body),
        orderId: randomUUID(),
        leaseSeconds: KEY_LEASE_SECONDS,
      });
      switch (claim.kind) {
        case 'mismatch':
          throw problems.unprocessable('This Idempotency-Key was already used for a different request; use a new key for a new request.', {
            errors: [{ field: 'headers/idempotency-key', message: 'was already used for a different request' }],
          });
        case 'busy':
          throw new ProblemError(409, 'A request with this Idempotency-Key is still being processed; try again shortly.', {
            type: 'urn:folio:problem:conflict',
            headers: { 'retry-after': String(claim.retryAfterSeconds) },
          });
        case 'replay':
          if (claim.status >= 400) throw problemAgain(claim.status, claim.body);
          return { order: claim.body as OrderView, replayed: true };
        case 'owned':
          break;
        default: {
          const unhandled: never = claim;
          throw new Error(`unknown claim ${JSON.stringify(unhandled)}`);
        }
      }
      if (claim.resumed) log.info({ orderId: claim.orderId }, 'resuming a checkout that did not finish');
      const release = holdKey(pool, { userId, key: idempotencyKey, orderId: claim.orderId, leaseSeconds: KEY_LEASE_SECONDS }, KEY_RENEW_MS);
      try {
        const order = await checkout(claim.orderId, principal, body, authorization);
        await completeKey(pool, userId, idempotencyKey, 201, order);
        return { order, replayed: false };
      } catch (err) {
        if (err instanceof ProblemError && err.status < 500) {
          // A definitive answer (a 409, a 422): the same request gets it again.
          await completeKey(pool, userId, idempotencyKey, err.status, err.toProblem('/api/orders'));
        } else {
          // An outage. Before the order existed: give the key back, a retry runs afresh (with a new order id).
          // After: a retry must resume this order, never place a second one.
          const exists = await findOrder(pool, claim.orderId).catch(() => true);
          await (exists ? expireLease(pool, userId, idempotencyKey) : releaseKey(pool, userId, idempotencyKey)).catch((e: unknown) =>
            log.error({ err: e }, 'could not hand an idempotency key back'),
          );
        }
        throw err;
      } finally {
        release();
      }
    },

    async get(principal, id, opts = {}) {
      const started = Date.now();
      const deadline = started + (opts.waitMs ?? 0);
      const waited = () => (opts.waitMs ? { waitedMs: Date.now() - started } : {});
      for (;;) {
        // Watching starts before the read, so a change committed meanwhile wakes us instead of being missed.
        const watch = opts.unlessTag && deadline > Date.now() ? ctx.changes.watch(id, deadline - Date.now()) : undefined;
        try {
          const order = await findOrder(pool, id);
          if (!order || order.userId !== principal.userId) throw notFound(id);
          let view = (await viewsOf(ctx, [order]))[0]!;
          if (await fillMissingPaymentUrls(view)) view = await viewOf(id);
          const tag = tagOf(view);
          if (tag !== opts.unlessTag) return { tag, view, ...waited() };
          if (!watch || !(await watch.changed)) return { tag, notModified: true, ...waited() };
        } finally {
          watch?.cancel();
        }
      }
    },

    async list(principal, query) {
      const limit = query.limit ?? DEFAULT_PAGE;
      const after = query.cursor !== undefined ? decodeCursor(query.cursor) : undefined;
      const rows = await listOrders(pool, principal.userId, limit + 1, after);
      const page = rows.slice(0, limit);
      return { items: await viewsOf(ctx, page), nextCursor: rows.length > limit ? encodeCursor(page.at(-1)!) : null };
    },

    async listAll(principal, query) {
      if (!principal.roles.includes('admin')) throw problems.forbidden();
      const limit = query.limit ?? DEFAULT_PAGE;
      const after = query.cursor !== undefined ? decodeCursor(query.cursor) : undefined;
      const rows = await listAllOrders(pool, { status: query.status }, limit + 1, after);
      const page = rows.slice(0, limit);
      return { items: await viewsOf(ctx, page), nextCursor: rows.length > limit ? encodeCursor(page.at(-1)!) : null };
    },

    async retryPayment(principal, id) {
      await withTransaction(pool, async (tx) => {
        const order = await lockOrder(tx, id);
        if (!order || order.userId !== principal.userId) throw notFound(id);
        const refusal = paymentRefusal(order);
        if (refusal) throw refusal;
        // An attempt asked for but not opened yet (the payment service was unreachable) is opened now instead of a new one.
        if (order.pendingStep === 'open-payment') return;
        const next = order.paymentAttempt + 1;
        if (next > MAX_PAYMENT_ATTEMPTS) throw problems.conflict(`An order can be paid in at most ${MAX_PAYMENT_ATTEMPTS} attempts.`);
        await setPaymentAttempt(tx, id, next);
        await scheduleStep(tx, id, 'open-payment', OPEN_PAYMENT_HEAD_START_MS);
      });
      let view: Awaited<ReturnType<typeof openPaymentStep.run>>;
      try {
        view = await openPaymentStep.run(ctx, id);
      } catch (err) {
        await stepFailed(pool, id, 'open-payment', (err as Error).message ?? String(err), backoffMs(1));
        if (isUnavailable(err)) {
          throw problems.unavailable('The payment service cannot be reached right now; the payment will be opened shortly (see the order), or try again.', 5);
        }
        throw err;
      }
      if (!view) {
        // The order moved on meanwhile (paid, or its window closed).
        const order = await findOrder(pool, id);
        throw (order && paymentRefusal(order)) ?? problems.conflict('The order changed meanwhile; look at it again.');
      }
      return { id: view.id, status: view.status, paymentUrl: view.paymentUrl };
    },

    async refund(principal, id) {
      await withTransaction(pool, async (tx) => {
        const order = await lockOrder(tx, id);
        if (!order || order.userId !== principal.userId) throw notFound(id);
        const refusal = refundRefusal(order, ctx.settings.refundWindowDays);
        if (refusal) throw refusal;
        if (order.pendingStep === 'request-refund') return; // asked already: the same answer
        await setRefundReason(tx, id, READER_REFUND_REASON);
        await scheduleStep(tx, id, 'request-refund');
        await addTimeline(tx, id, order.status, 'refund-requested', READER_REFUND_REASON);
        afterCommit(tx, ctx.nudge);
      });
      return viewOf(id);
    },
  };
}
