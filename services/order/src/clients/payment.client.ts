/**
 * The payment service's internal API (contracts/internal.ts): open an attempt (idempotent by order id and
 * attempt), refund a payment (idempotent by payment), list an order's attempts.
 */
import { type OpenPaymentRequest, PaymentView, type PaymentView as PaymentViewType } from '@folio/contracts/internal';
import { createHttpClient } from '@folio/platform/http-client';
import { Type } from 'typebox';
import { answerOf, type ClientDeps, clientOptions, type Refusal, request, requestOr } from './upstream.ts';

export type { PaymentViewType as PaymentView };

const checkPayment = answerOf(PaymentView);
const checkList = answerOf(Type.Union([Type.Array(PaymentView), Type.Object({ items: Type.Array(PaymentView) })]));

export interface PaymentClient {
  /** The attempt, or the payment service's refusal: 409 (the order is paid already), 422 (the deadline has passed). */
  open(request: OpenPaymentRequest): Promise<{ ok: true; view: PaymentViewType } | { ok: false; refusal: Refusal }>;
  refund(paymentId: string, reason: string): Promise<PaymentViewType>;
  list(orderId: string): Promise<PaymentViewType[]>;
  close(): Promise<void>;
}

export function createPaymentClient(deps: ClientDeps): PaymentClient {
  // Opening an attempt creates a checkout session at the gateway: give it more time than a plain read.
  const http = createHttpClient(clientOptions('payment', deps, { timeoutMs: 5_000 }));
  return {
    async open(body) {
      const result = await requestOr(
        http,
        deps.log,
        (h) => h.post('/internal/payments', body, { idempotencyKey: `open:${body.orderId}:${body.attempt}` }),
        [409, 422],
      );
      if (!result.ok) return result;
      return { ok: true, view: checkPayment('payment', deps.log, result.value.body) };
    },
    async refund(paymentId, reason) {
      const { body } = await request(http, deps.log, (h) =>
        h.post(`/internal/payments/${encodeURIComponent(paymentId)}/refund`, { reason }, { idempotencyKey: `refund:${paymentId}` }),
      );
      return checkPayment('payment', deps.log, body);
    },
    async list(orderId) {
      const { body } = await request(http, deps.log, (h) => h.get('/internal/payments', { query: { orderId } }));
      const answer = checkList('payment', deps.log, body);
      return Array.isArray(answer) ? answer : answer.items;
    },
    close: () => http.close(),
  };
}
