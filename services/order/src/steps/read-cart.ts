/**
 * Step 2: the reader's cart, read from the cart service on their behalf. An empty cart is a 422; a line
 * whose price changed since it was added, or a book that can no longer be bought, is a 409 naming those
 * books: the reader reviews the cart first (prices are shown, never silently charged). A read: nothing
 * to compensate.
 */
import { problems } from '@folio/platform/problem';
import type { CartItem } from '../clients/cart.client.ts';
import { createStep, stepResponse } from './step.ts';

export const formatPrice = (p: { amount: number; currency: string }): string =>
  `${p.currency} ${Math.trunc(p.amount / 100)}.${String(p.amount % 100).padStart(2, '0')}`;

export const readCartStep = createStep('read-cart', async (input: { authorization: string }, ctx) => {
  const cart = await ctx.cart.read(input.authorization);
  if (cart.items.length === 0) throw problems.unprocessable('Your cart is empty.');
  const toReview = cart.items.filter((i) => i.priceChanged || !i.available);
  if (toReview.length > 0) {
    const books = toReview.map((i) =>
      i.available
        ? { bookId: i.productId, title: i.title, reason: 'price-changed', cartPrice: i.unitPrice, currentPrice: i.currentPrice }
        : { bookId: i.productId, title: i.title, reason: 'unavailable' },
    );
    const what = toReview.map((i) =>
      i.available ? `“${i.title}” now costs ${formatPrice(i.currentPrice)} (was ${formatPrice(i.unitPrice)})` : `“${i.title}” is no longer sold`,
    );
    throw problems.conflict(`Please review your cart before ordering: ${what.join('; ')}.`, { books });
  }
  return stepResponse<CartItem[]>(cart.items);
});
