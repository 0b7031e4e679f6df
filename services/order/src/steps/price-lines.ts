/**
 * Step 3: the books as the catalogue has them now. Every one must still be sold; its unit price is the
 * catalogue's current price, which equals the price the cart recorded (step 2 refused any difference) —
 * unless it changed in between, which is the same 409 as a changed price in the cart. A read: nothing
 * to compensate.
 */
import { problems } from '@folio/platform/problem';
import type { CartItem } from '../clients/cart.client.ts';
import { formatPrice } from './read-cart.ts';
import { createStep, stepResponse } from './step.ts';

export interface PricedLine {
  bookId: string;
  title: string;
  quantity: number;
  unitPrice: number;
  lineTotal: number;
}

export interface PricedLines {
  currency: string;
  lines: PricedLine[];
  subtotal: number;
  items: number;
}

export const priceLinesStep = createStep('price-lines', async (items: CartItem[], ctx) => {
  const books = await ctx.catalog.books(items.map((i) => i.productId));
  const unavailable = items.filter((i) => !books.get(i.productId)?.active);
  if (unavailable.length > 0) {
    throw problems.conflict(`Please review your cart before ordering: ${unavailable.map((i) => `“${i.title}” is no longer sold`).join('; ')}.`, {
      books: unavailable.map((i) => ({ bookId: i.productId, title: i.title, reason: 'unavailable' })),
    });
  }
  const changed = items.filter((i) => {
    const price = books.get(i.productId)!.price;
    return price.amount !== i.unitPrice.amount || price.currency !== i.unitPrice.currency;
  });
  if (changed.length > 0) {
    throw problems.conflict(
      `Please review your cart before ordering: ${changed.map((i) => `“${i.title}” now costs ${formatPrice(books.get(i.productId)!.price)} (was ${formatPrice(i.unitPrice)})`).join('; ')}.`,
      {
        books: changed.map((i) => ({
          bookId: i.productId,
          title: i.title,
          reason: 'price-changed',
          cartPrice: i.unitPrice,
          currentPrice: books.get(i.productId)!.price,
        })),
      },
    );
  }
  const currencies = new Set(items.map((i) => books.get(i.productId)!.price.currency));
  if (currencies.size !== 1) throw problems.unprocessable('The books in your cart are priced in different currencies; order them separately.');
  const lines = items.map((i) => {
    const book = books.get(i.productId)!;
    return { bookId: book.id, title: book.title, quantity: i.quantity, unitPrice: book.price.amount, lineTotal: book.price.amount * i.quantity };
  });
  return stepResponse<PricedLines>({
    currency: [...currencies][0]!,
    lines,
    subtotal: lines.reduce((s, l) => s + l.lineTotal, 0),
    items: lines.reduce((s, l) => s + l.quantity, 0),
  });
});
