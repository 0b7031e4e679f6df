/**
 * The shipping service's DTOs: one TypeBox schema each, used for validation, the OpenAPI
 * document and the handlers' types.
 */
import { Address } from '@folio/contracts/address';
import { Money } from '@folio/contracts/money';
import { type Static, Type } from 'typebox';

/** The most items one parcel is priced for; a bigger order is a conversation with the shop. */
export const MAX_ITEMS = 200;
/** 200 kg: two hundred heavy art books. */
export const MAX_WEIGHT_GRAMS = 200_000;
export const MAX_SUBTOTAL_MINOR = 100_000_000;

// Lower case is accepted and upper-cased: "de" in a URL typed by hand should not be an error.
export const CountryCode = Type.String({
  minLength: 2,
  maxLength: 2,
  pattern: '^[A-Za-z]{2}$',
  description: 'ISO 3166-1 alpha-2 code of the destination, e.g. DE; lower case is accepted and answered in upper case',
  examples: ['DE'],
});

// A pattern rather than a closed list: methods are rows of the rate table, and an operator can add one.
export const MethodId = Type.String({
  minLength: 1,
  maxLength: 32,
  pattern: '^[a-z][a-z0-9-]{0,31}$',
  description: 'Shipping method id, e.g. standard or express (the ids come from GET /api/shipping/options)',
  examples: ['standard'],
});

export const Items = Type.Integer({ minimum: 1, maximum: MAX_ITEMS, description: 'Number of items (books) in the parcel' });
export const WeightGrams = Type.Integer({
  minimum: 1,
  maximum: MAX_WEIGHT_GRAMS,
  description: 'Total weight of the parcel in grams; without it every item counts as an average book (400 g)',
});
export const Subtotal = Type.Integer({
  minimum: 0,
  maximum: MAX_SUBTOTAL_MINOR,
  description: 'Order subtotal in EUR cents (4599 is €45.99); domestic standard shipping is free from the configured threshold',
});

export const EstimatedDays = Type.Object(
  {
    min: Type.Integer({ minimum: 0, maximum: 365, description: 'Working days, at the earliest' }),
    max: Type.Integer({ minimum: 0, maximum: 365, description: 'Working days, at the latest' }),
  },
  { additionalProperties: false, description: 'Delivery estimate in working days after dispatch' },
);

export const ShippingOption = Type.Object(
  {
    id: MethodId,
    name: Type.String({ maxLength: 100, examples: ['Standard'] }),
    price: Money,
    estimatedDays: EstimatedDays,
  },
  { additionalProperties: false },
);
export type ShippingOption = Static<typeof ShippingOption>;

export const OptionsQuery = Type.Object(
  {
    country: CountryCode,
    items: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_ITEMS, description: 'Number of items (books) in the parcel; default 1' })),
    weightGrams: Type.Optional(WeightGrams),
    subtotal: Type.Optional(Subtotal),
  },
  // An unknown parameter is refused: "item=3" silently priced as one item would be worse than an error.
  { additionalProperties: false },
);
export type OptionsQuery = Static<typeof OptionsQuery>;

export const OptionsResponse = Type.Object(
  {
    country: Type.String({ pattern: '^[A-Z]{2}$' }),
    options: Type.Array(ShippingOption, { description: 'Cheapest first' }),
  },
  { additionalProperties: false },
);
export type OptionsResponse = Static<typeof OptionsResponse>;

export const QuoteRequest = Type.Object(
  {
    country: CountryCode,
    method: MethodId,
    items: Items,
    weightGrams: Type.Optional(WeightGrams),
    subtotal: Type.Optional(Subtotal),
  },
  { additionalProperties: false },
);
export type QuoteRequest = Static<typeof QuoteRequest>;

export const Quote = Type.Object(
  {
    country: Type.String({ pattern: '^[A-Z]{2}$' }),
    method: MethodId,
    name: Type.String({ maxLength: 100 }),
    price: Money,
    estimatedDays: EstimatedDays,
  },
  { additionalProperties: false },
);
export type Quote = Static<typeof Quote>;

/**
 * What the address check accepts: the shape of an Address, with only the types and generous hard
 * limits checked by the schema. The Address rules (required fields, lengths, a country we ship to,
 * the country's postal-code format) are checked by the service, so that one 422 names every field a
 * customer has to fix, with a message meant for them.
 */
const loose = (maxLength: number, description: string) => Type.Optional(Type.String({ maxLength, description }));
export const AddressInput = Type.Object(
  {
    name: loose(1000, 'Recipient; required, at most 100 characters'),
    line1: loose(1000, 'Street and number; required, at most 200 characters'),
    line2: loose(1000, 'Optional, at most 200 characters'),
    city: loose(1000, 'Required, at most 100 characters'),
    postalCode: loose(100, "Required, in the country's format (e.g. 10115 in DE, SW1A 1AA in GB)"),
    country: loose(100, 'ISO 3166-1 alpha-2 code, e.g. DE; required, lower case is accepted'),
  },
  { additionalProperties: false },
);
export type AddressInput = Static<typeof AddressInput>;

export const ValidateAddressRequest = Type.Object({ address: AddressInput }, { additionalProperties: false });
export type ValidateAddressRequest = Static<typeof ValidateAddressRequest>;

export const ValidateAddressResponse = Type.Object(
  {
    valid: Type.Literal(true),
    // Trimmed, with the postal code and country in canonical form: as it should be stored and printed.
    address: Address,
  },
  { additionalProperties: false },
);
export type ValidateAddressResponse = Static<typeof ValidateAddressResponse>;
