/**
 * Step 4: the price of the chosen shipping method for this parcel. A method not offered to the country
 * is the shipping service's 422, passed on naming body/shippingMethod. A read: nothing to compensate.
 */
import { type FieldError, problems } from '@folio/platform/problem';
import { badGateway } from '../clients/upstream.ts';
import { createStep, stepResponse } from './step.ts';

/** The most books the shipping service prices one parcel for. */
export const MAX_PARCEL_ITEMS = 200;

export interface ShippingQuoteInput {
  country: string;
  method: string;
  items: number;
  subtotal: number;
  currency: string;
}

const FIELDS: Record<string, string> = { '/method': 'body/shippingMethod', '/country': 'body/shippingAddress/country' };

export const quoteShippingStep = createStep('quote-shipping', async (input: ShippingQuoteInput, ctx) => {
  if (input.items > MAX_PARCEL_ITEMS) {
    throw problems.unprocessable(`One order ships at most ${MAX_PARCEL_ITEMS} books; this cart holds ${input.items}. Split it into several orders.`);
  }
  const result = await ctx.shipping.quote({ country: input.country, method: input.method, items: input.items, subtotal: input.subtotal });
  if (!result.ok) {
    const { problem } = result.refusal;
    const upstream = Array.isArray(problem.errors) ? (problem.errors as FieldError[]) : [];
    const errors = upstream.map((e) => ({ field: FIELDS[String(e.field)] ?? 'body/shippingMethod', message: String(e.message) }));
    throw problems.unprocessable(problem.detail ?? `We don't offer ${input.method} shipping there.`, {
      ...(Array.isArray(problem.availableMethods) ? { availableMethods: problem.availableMethods } : {}),
      errors: errors.length > 0 ? errors : [{ field: 'body/shippingMethod', message: problem.detail ?? 'is not offered' }],
    });
  }
  if (result.value.currency !== input.currency) {
    ctx.log.error({ shipping: result.value, currency: input.currency }, 'the shipping price is in another currency than the books');
    throw badGateway('shipping');
  }
  return stepResponse(result.value.amount);
});
