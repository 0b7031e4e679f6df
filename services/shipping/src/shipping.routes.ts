/** Thin handlers of the public shipping API (the edge forwards /api/shipping here unchanged). */
import type { App } from '@folio/platform/http';
import { ProblemSchema } from '@folio/platform/problem';
import { OptionsQuery, OptionsResponse, Quote, QuoteRequest, ValidateAddressRequest, ValidateAddressResponse } from './shipping.schemas.ts';
import type { ShippingService } from './shipping.service.ts';

const tags = ['shipping'];

export function shippingRoutes(app: App, shipping: ShippingService): void {
  app.get(
    '/api/shipping/options',
    {
      schema: {
        tags,
        summary: 'Shipping options to a country, cheapest first',
        description:
          'Every method offered to the destination with its price for the parcel and a delivery estimate. ' +
          'The country code may be lower case; the answer names it in upper case. A country we do not ship to is a 422.',
        querystring: OptionsQuery,
        response: { 200: OptionsResponse, 400: ProblemSchema, 422: ProblemSchema },
      },
    },
    async (request) => shipping.options({ ...request.query, items: request.query.items ?? 1 }),
  );

  app.post(
    '/api/shipping/quote',
    {
      schema: {
        tags,
        summary: 'The price of one shipping method for a parcel',
        description:
          'What the order service charges at checkout: the same price and estimate as the matching entry of GET /api/shipping/options. ' +
          'A method not offered to the destination, or a country we do not ship to, is a 422.',
        body: QuoteRequest,
        response: { 200: Quote, 400: ProblemSchema, 422: ProblemSchema },
      },
    },
    async (request) => shipping.quote(request.body),
  );

  app.post(
    '/api/shipping/validate-address',
    {
      schema: {
        tags,
        summary: 'Check a delivery address and put it in canonical form',
        description:
          'Answers the address trimmed, with the country upper-cased and the postal code in its canonical form (GB "SW1A 1AA", NL "1012 AB", PL "00-950"). ' +
          'A 422 lists every field to fix in `errors` (e.g. `/address/postalCode`) with a message for the customer; ' +
          'a wrong type, an unknown field or an absurdly long value is a 400.',
        body: ValidateAddressRequest,
        response: { 200: ValidateAddressResponse, 400: ProblemSchema, 422: ProblemSchema },
      },
    },
    async (request) => ({ valid: true as const, address: await shipping.validateAddress(request.body.address) }),
  );
}
