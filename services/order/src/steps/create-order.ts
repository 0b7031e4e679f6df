/**
 * Step 7: in one transaction, the order (`created`, awaiting payment until its deadline), its lines, its
 * first timeline entry, its first saga step (open-payment) and the OrderCreated event (outbox).
 *
 * No compensation: this is the saga's pivot. Once the order exists it owns the reservation and is never
 * undone; what follows is retried forward (the driver opens the payment), and an order nobody pays is
 * cancelled by the payment window rules, which release the stock.
 */
import { OrderCreated } from '@folio/contracts/events';
import { money } from '@folio/contracts/money';
import { withTransaction } from '@folio/platform/db';
import { addTimeline, insertOrder, type NewOrder } from '../order.repository.ts';
import { recipientOf } from '../order.summary.ts';
import { formatPrice } from './read-cart.ts';
import { createStep, stepResponse } from './step.ts';

/** The request that places the order opens the payment itself; the driver takes over only if it did not. */
export const OPEN_PAYMENT_HEAD_START_MS = 10_000;

/** The order checkout priced; this step decides the rest (its first remote step). */
export type NewOrderInput = Omit<NewOrder, 'id' | 'pendingStep' | 'stepDueInMs'> & { orderId: string };

export const createOrderStep = createStep('create-order', async (input: NewOrderInput, ctx) => {
  const created = await withTransaction(ctx.pool, async (tx) => {
    const { orderId, ...order } = input;
    const inserted = await insertOrder(tx, { ...order, id: orderId, pendingStep: 'open-payment', stepDueInMs: OPEN_PAYMENT_HEAD_START_MS });
    if (!inserted) return false; // a retried checkout: the order exists already
    const books = input.lines.reduce((n, l) => n + l.quantity, 0);
    await addTimeline(
      tx,
      input.orderId,
      'created',
      'created',
      `${books} ${books === 1 ? 'book' : 'books'}, total ${formatPrice(money(input.total, input.currency))}; pay by ${input.paymentDeadline.toISOString()}`,
    );
    await ctx.outbox.publish(tx, OrderCreated, {
      aggregateId: input.orderId,
      payload: {
        orderId: input.orderId,
        userId: input.userId,
        total: money(input.total, input.currency),
        lines: input.lines.map((l) => ({ bookId: l.bookId, quantity: l.quantity, unitPrice: money(l.unitPrice, input.currency) })),
        paymentDeadline: input.paymentDeadline.toISOString(),
        ...recipientOf(input),
      },
    });
    return true;
  });
  if (created) ctx.log.info({ orderId: input.orderId, total: input.total }, 'order created');
  return stepResponse({ created });
});
