import { type Static, Type } from 'typebox';

/** The one shape of a postal address everywhere: saved addresses, shipping quotes, orders. */
export const Address = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    line1: Type.String({ minLength: 1, maxLength: 200 }),
    line2: Type.Optional(Type.String({ maxLength: 200 })),
    city: Type.String({ minLength: 1, maxLength: 100 }),
    postalCode: Type.String({ minLength: 1, maxLength: 20 }),
    country: Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2 code, e.g. DE' }),
  },
  { additionalProperties: false },
);
export type Address = Static<typeof Address>;
