/**
 * What every order event carries for its consumers (notifications above all): where the reader is told
 * and what they bought, so no consumer has to call back into the order service.
 */
import type { OrderSummary } from '@folio/contracts/events';
import { money } from '@folio/contracts/money';
import type { LineRow, OrderRow } from './order.repository.ts';

type SummaryOf = Pick<OrderRow, 'currency' | 'subtotal' | 'tax' | 'shipping' | 'total' | 'shippingMethod'> & {
  lines: Array<Pick<LineRow, 'bookId' | 'title' | 'quantity' | 'unitPrice' | 'lineTotal'>>;
};

export function summaryOf(order: SummaryOf): OrderSummary {
  const m = (amount: number) => money(amount, order.currency);
  return {
    lines: order.lines.map((l) => ({ bookId: l.bookId, title: l.title, quantity: l.quantity, unitPrice: m(l.unitPrice), lineTotal: m(l.lineTotal) })),
    subtotal: m(order.subtotal),
    tax: m(order.tax),
    shipping: m(order.shipping),
    total: m(order.total),
    shippingMethod: order.shippingMethod,
  };
}

/** The recipient members of an order event: the e-mail only when the order has one (the contract makes it optional). */
export const recipientOf = (order: SummaryOf & Pick<OrderRow, 'email'>) => ({
  ...(order.email ? { email: order.email } : {}),
  summary: summaryOf(order),
});
