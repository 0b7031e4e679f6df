/**
 * Step 1: the shipping service checks the delivery address and puts it in canonical form. Its 422 is
 * passed on with the fields renamed to this request's (`/address/postalCode` → `body/shippingAddress/postalCode`).
 * A read: nothing to compensate.
 */
import type { Address } from '@folio/contracts/address';
import { type FieldError, problems } from '@folio/platform/problem';
import { createStep, stepResponse } from './step.ts';

export const validateAddressStep = createStep('validate-address', async (address: Address, ctx) => {
  const result = await ctx.shipping.validateAddress(address);
  if (result.ok) return stepResponse(result.value);
  const { problem } = result.refusal;
  const upstream = Array.isArray(problem.errors) ? (problem.errors as FieldError[]) : [];
  const errors = upstream.map((e) => ({ field: String(e.field).replace(/^\/address/, 'body/shippingAddress'), message: String(e.message) }));
  throw problems.unprocessable(problem.detail ?? 'Please correct the delivery address.', {
    errors: errors.length > 0 ? errors : [{ field: 'body/shippingAddress', message: problem.detail ?? 'cannot be shipped to' }],
  });
});
