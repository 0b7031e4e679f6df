/** The shipping service as the order sees it: address checks and the price of a method (public API, POST /api/shipping/*). */
import type { Address } from '@folio/contracts/address';
import { type Money, money } from '@folio/contracts/money';
import { createHttpClient } from '@folio/platform/http-client';
import { Type } from 'typebox';
import { answerOf, type ClientDeps, clientOptions, type Refusal, requestOr } from './upstream.ts';

const Amount = Type.Object({ amount: Type.Integer({ minimum: 0 }), currency: Type.String({ pattern: '^[A-Z]{3}$' }) });
const ValidAddress = answerOf(
  Type.Object({
    address: Type.Object({
      name: Type.String({ maxLength: 100 }),
      line1: Type.String({ maxLength: 200 }),
      line2: Type.Optional(Type.String({ maxLength: 200 })),
      city: Type.String({ maxLength: 100 }),
      postalCode: Type.String({ maxLength: 20 }),
      country: Type.String({ pattern: '^[A-Z]{2}$' }),
    }),
  }),
);
const QuoteAnswer = answerOf(Type.Object({ price: Amount }));

export interface ShippingClient {
  /** The address in canonical form, or the shipping service's 422 naming the fields to fix. */
  validateAddress(address: Address): Promise<{ ok: true; value: Address } | { ok: false; refusal: Refusal }>;
  /** The price of `method` for the parcel, or its 422 (a method not offered, a country not shipped to). */
  quote(request: { country: string; method: string; items: number; subtotal: number }): Promise<{ ok: true; value: Money } | { ok: false; refusal: Refusal }>;
  close(): Promise<void>;
}

export function createShippingClient(deps: ClientDeps): ShippingClient {
  const http = createHttpClient(clientOptions('shipping', deps));
  // Both are reads over POST: safe to repeat, so an idempotency key lets the client retry them.
  const safe = () => ({ idempotencyKey: crypto.randomUUID() });
  return {
    async validateAddress(address) {
      const result = await requestOr(http, deps.log, (h) => h.post('/api/shipping/validate-address', { address }, safe()), [422]);
      if (!result.ok) return result;
      const { address: normalised } = ValidAddress('shipping', deps.log, result.value.body);
      return { ok: true, value: { ...normalised } };
    },
    async quote(request) {
      const result = await requestOr(http, deps.log, (h) => h.post('/api/shipping/quote', request, safe()), [422]);
      if (!result.ok) return result;
      const { price } = QuoteAnswer('shipping', deps.log, result.value.body);
      return { ok: true, value: money(price.amount, price.currency) };
    },
    close: () => http.close(),
  };
}
