/** Going to the payment gateway's hosted page, and waiting for one that is still being opened. */
import { api } from './api.ts';
import type { Order, PaymentSummary } from './types.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Leaves for the gateway's page. The history entry becomes the order's page first, so the browser's Back
 * button on the gateway's page brings the reader to their order (with its live state), not to checkout.
 */
export function goToPayment(orderId: string, paymentUrl: string): void {
  window.history.replaceState(null, '', `/orders/${encodeURIComponent(orderId)}`);
  window.location.assign(paymentUrl);
}

/**
 * The hosted page of the order's latest payment attempt (of attempt `paymentId` if given), asking every
 * second for up to `timeoutMs`: the payment service opens it with the gateway, which may be slow or down.
 * Null if there is none yet; the order page keeps waiting then.
 */
export async function waitForPaymentPage(orderId: string, paymentId?: string, timeoutMs = 20_000): Promise<string | null> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const order = await api<Order>('GET', `/api/orders/${encodeURIComponent(orderId)}`, { timeoutMs: 5_000 });
      const p = paymentId ? order.payments.find((a) => a.id === paymentId) : order.payment;
      if (p?.status === 'pending' && p.paymentUrl) return p.paymentUrl;
      if (order.status !== 'created' || (p && p.status !== 'pending')) return null;
    } catch {
      // Asked again below, until the time is up.
    }
    await sleep(1_000);
  }
  return null;
}

/** A new payment attempt (after a declined, cancelled or abandoned one), then its hosted page. */
export async function retryPayment(orderId: string): Promise<'redirecting' | 'waiting'> {
  const attempt = await api<PaymentSummary>('POST', `/api/orders/${encodeURIComponent(orderId)}/payments`, { timeoutMs: 30_000 });
  const url = attempt.paymentUrl ?? (await waitForPaymentPage(orderId, attempt.id));
  if (!url) return 'waiting';
  goToPayment(orderId, url);
  return 'redirecting';
}
