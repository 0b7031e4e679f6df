/**
 * Step 6: reserve the books at the inventory, all or nothing, for the order id (idempotent by it: a
 * retried checkout gets the same reservation back). The reservation outlives the payment window by a
 * margin, so it never lapses while the reader may still pay.
 *
 * Compensation — release: when a later step fails before the order exists, the stock goes back at once
 * (otherwise it would only come back when the reservation expires).
 */
import { INSUFFICIENT_STOCK, type ReservationResult } from '@folio/contracts/internal';
import { ProblemError, problems } from '@folio/platform/problem';
import { isUnavailable } from '../clients/upstream.ts';
import type { OrderContext } from '../order.context.ts';
import { findOrder } from '../order.repository.ts';
import { createStep, stepResponse } from './step.ts';

export interface ReserveInput {
  orderId: string;
  lines: Array<{ bookId: string; title: string; quantity: number }>;
  expiresAt: Date;
}

async function release(orderId: string | undefined, ctx: OrderContext): Promise<void> {
  if (!orderId) return;
  // Once the order exists (a concurrent run of the same checkout created it), the reservation is the order's.
  if (await findOrder(ctx.pool, orderId)) return;
  await ctx.inventory.release(orderId);
  ctx.log.info({ orderId }, 'reservation released: the checkout did not complete');
}

const sameLines = (a: ReadonlyArray<{ bookId: string; quantity: number }>, b: ReadonlyArray<{ bookId: string; quantity: number }>): boolean => {
  const key = (lines: ReadonlyArray<{ bookId: string; quantity: number }>) =>
    lines
      .map((l) => `${l.bookId}×${l.quantity}`)
      .sort()
      .join(',');
  return key(a) === key(b);
};

export const reserveStockStep = createStep(
  'reserve-stock',
  async (input: ReserveInput, ctx) => {
    let outcome: Awaited<ReturnType<OrderContext['inventory']['reserve']>>;
    try {
      outcome = await ctx.inventory.reserve({
        orderId: input.orderId,
        lines: input.lines.map((l) => ({ bookId: l.bookId, quantity: l.quantity })),
        expiresAt: input.expiresAt.toISOString(),
      });
    } catch (err) {
      // No answer: the reservation may or may not exist. Release it so the stock is not held for nothing.
      if (isUnavailable(err)) await release(input.orderId, ctx).catch(() => {});
      throw err;
    }
    if (!outcome.ok) {
      const titles = new Map(input.lines.map((l) => [l.bookId, l.title]));
      const books = outcome.short.map((s) => ({ bookId: s.bookId, title: titles.get(s.bookId) ?? s.bookId, requested: s.requested, available: s.available }));
      const what = books.map(
        (b) => `“${b.title}” (you asked for ${b.requested}, ${b.available === 0 ? 'none is' : `${b.available} ${b.available === 1 ? 'is' : 'are'}`} left)`,
      );
      throw new ProblemError(409, `Not enough stock: ${what.join('; ')}. Change the quantities in your cart and order again.`, {
        type: INSUFFICIENT_STOCK,
        extensions: { books },
      });
    }
    const reservation: ReservationResult = outcome.reservation;
    // A retried checkout (same order id) gets the first reservation back: it must still hold, and hold these books.
    if (reservation.status !== 'reserved' || !sameLines(reservation.lines, input.lines)) {
      if (reservation.status === 'reserved') await release(input.orderId, ctx);
      throw problems.conflict('Your cart changed, or this checkout took too long, while the order was being placed. Please place the order again.');
    }
    return stepResponse(reservation, input.orderId);
  },
  release,
);
