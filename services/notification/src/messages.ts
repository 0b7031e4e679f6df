/**
 * What a notification says: from the facts of an event to a subject and a plain-text message a reader
 * understands without knowing how Folio works inside. Pure (no I/O), so every wording is unit-tested.
 */
import type { OrderSummary } from '@folio/contracts/events';
import { type Money, toDecimalString } from '@folio/contracts/money';

export const NOTIFICATION_TYPES = ['order-paid', 'payment-failed', 'order-cancelled', 'order-refunded'] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

/** The reasons the order service gives for a cancellation (services/order/src/order.state.ts). */
export const CANCEL_REASONS = { windowClosed: 'payment window closed', noStockAfterPayment: 'out of stock after payment' } as const;

/** What happened, with what the message needs to say it. */
export type MessageFacts =
  | { type: 'order-paid'; orderId: string; summary?: OrderSummary | undefined }
  | { type: 'payment-failed'; orderId: string; reason: string; paymentDeadline?: Date | undefined }
  | { type: 'order-cancelled'; orderId: string; reason: string; summary?: OrderSummary | undefined }
  | { type: 'order-refunded'; orderId: string; amount: Money };

export interface Message {
  subject: string;
  text: string;
}

export interface ComposeOptions {
  /** Where the reader sees the order (…/orders/<id>); without it the message carries no link. */
  orderUrl?: string | undefined;
}

/** The subject column holds 200 characters. */
export const SUBJECT_MAX = 200;

const money = new Map<string, Intl.NumberFormat>();

/** "€12.99": money as a reader reads it, from integer minor units (no float on the way). */
export function formatMoney(m: Money): string {
  let format = money.get(m.currency);
  if (!format) {
    try {
      format = new Intl.NumberFormat('en-GB', { style: 'currency', currency: m.currency, minimumFractionDigits: 2, maximumFractionDigits: 2 });
    } catch {
      return `${toDecimalString(m)} ${m.currency}`;
    }
    money.set(m.currency, format);
  }
  // A decimal string keeps the exact amount (Intl formats numeric strings without going through a float).
  return format.format(toDecimalString(m) as Intl.StringNumericLiteral);
}

/** "3F2A9C1E": the short form of an order id that subjects use; the full id is in the message. */
export const orderRef = (orderId: string): string => orderId.replace(/-/g, '').slice(0, 8).toUpperCase();

const dateFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' });
/** "18 November 2026 at 14:32 UTC". */
export const formatTime = (at: Date): string => `${dateFormat.format(at)} UTC`;

/** A reason as a sentence: capitalised, one full stop. */
function sentence(reason: string): string {
  const s = reason.trim().replace(/[.\s]+$/, '');
  return s ? `${s[0]!.toUpperCase()}${s.slice(1)}.` : '';
}

/** The lines and totals of an order, as a receipt. */
export function receipt(summary: OrderSummary): string {
  const lines = summary.lines.map((l) =>
    l.quantity === 1
      ? `  1 × ${l.title}: ${formatMoney(l.lineTotal)}`
      : `  ${l.quantity} × ${l.title}: ${formatMoney(l.unitPrice)} each, ${formatMoney(l.lineTotal)}`,
  );
  const shipping = summary.shipping.amount === 0 ? 'free' : formatMoney(summary.shipping);
  return [
    ...lines,
    '',
    `  Books: ${formatMoney(summary.subtotal)}`,
    `  Shipping (${summary.shippingMethod}): ${shipping}`,
    `  VAT: ${formatMoney(summary.tax)}`,
    `  Total: ${formatMoney(summary.total)}`,
  ].join('\n');
}

function clip(subject: string): string {
  return subject.length <= SUBJECT_MAX ? subject : `${subject.slice(0, SUBJECT_MAX - 1)}…`;
}

function letter(paragraphs: (string | undefined | false)[], orderId: string, opts: ComposeOptions): string {
  const footer = [opts.orderUrl ? `See your order: ${opts.orderUrl}` : undefined, `Order reference: ${orderId}`].filter(Boolean).join('\n');
  return ['Hello,', ...paragraphs.filter((p): p is string => Boolean(p)), footer, 'Folio'].join('\n\n');
}

export function compose(facts: MessageFacts, opts: ComposeOptions = {}): Message {
  const ref = orderRef(facts.orderId);
  switch (facts.type) {
    case 'order-paid':
      return {
        subject: clip(`Your order ${ref} is paid: thank you`),
        text: letter(
          [
            facts.summary
              ? `Thank you for your order. We have received your payment of ${formatMoney(facts.summary.total)}. Here is what you bought:`
              : 'Thank you for your order. We have received your payment.',
            facts.summary && receipt(facts.summary),
          ],
          facts.orderId,
          opts,
        ),
      };
    case 'payment-failed': {
      const until = facts.paymentDeadline ? `until ${formatTime(facts.paymentDeadline)}` : 'while its payment window is open';
      return {
        subject: clip(`Your payment for order ${ref} did not go through`),
        text: letter(
          [
            `Your payment for order ${ref} did not go through. ${sentence(`the reason given was: ${facts.reason}`)}`,
            `Nothing was charged, and the books stay reserved for you. You can try paying again from your order, with the same card or another one, ${until}.`,
          ],
          facts.orderId,
          opts,
        ),
      };
    }
    case 'order-cancelled':
      return cancelled(facts, ref, opts);
    case 'order-refunded':
      return {
        subject: clip(`Your refund of ${formatMoney(facts.amount)} for order ${ref}`),
        text: letter(
          [
            `We have refunded ${formatMoney(facts.amount)} for order ${ref} to the card or account you paid with.`,
            'Depending on your bank, it can take a few days to show on your statement.',
          ],
          facts.orderId,
          opts,
        ),
      };
    default: {
      const never: never = facts;
      throw new Error(`no message for ${JSON.stringify(never)}`);
    }
  }
}

function cancelled(facts: Extract<MessageFacts, { type: 'order-cancelled' }>, ref: string, opts: ComposeOptions): Message {
  switch (facts.reason) {
    case CANCEL_REASONS.windowClosed:
      return {
        subject: clip(`Your order ${ref} was cancelled: it was not paid in time`),
        text: letter(
          [
            `Your order ${ref} was cancelled because it was not paid in time: the payment window closed before a payment came through.`,
            'Nothing was charged. The books are still in your cart if you would like to order them again.',
            'If a payment did reach us after the window closed, it is refunded automatically and we will tell you when.',
          ],
          facts.orderId,
          opts,
        ),
      };
    case CANCEL_REASONS.noStockAfterPayment: {
      const only = facts.summary?.lines.length === 1 ? facts.summary.lines[0] : undefined;
      const what = only ? `“${only.title}” sold out` : 'a book in your order sold out';
      return {
        subject: clip(`Your order ${ref} was cancelled: ${only ? 'the book' : 'a book'} sold out`),
        text: letter(
          [
            `We are sorry: ${what} before we could confirm your payment, so we cannot send order ${ref} and have cancelled it.`,
            `Your money${facts.summary ? ` (${formatMoney(facts.summary.total)})` : ''} is being refunded in full to the card or account you paid with. We will tell you once the refund is made.`,
          ],
          facts.orderId,
          opts,
        ),
      };
    }
    default:
      return {
        subject: clip(`Your order ${ref} was cancelled`),
        text: letter([`Your order ${ref} was cancelled. ${sentence(`the reason given was: ${facts.reason}`)}`], facts.orderId, opts),
      };
  }
}
