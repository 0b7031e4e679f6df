import { type Static, Type } from 'typebox';

/**
 * Money is an integer count of the currency's minor unit (cents), never a binary float:
 * { amount: 1299, currency: 'EUR' } is €12.99. This is also how the payment gateway (Stripe) counts.
 */
export const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code', examples: ['EUR'] });
export const Money = Type.Object(
  {
    amount: Type.Integer({ minimum: 0, maximum: 100_000_000, description: 'In minor units (cents): 1299 is 12.99' }),
    currency: Currency,
  },
  { additionalProperties: false },
);
export type Money = Static<typeof Money>;

export const money = (amount: number, currency: string): Money => {
  if (!Number.isSafeInteger(amount)) throw new Error(`money amount must be an integer of minor units, got ${amount}`);
  return { amount, currency };
};

export function add(a: Money, b: Money): Money {
  if (a.currency !== b.currency) throw new Error(`cannot add ${a.currency} and ${b.currency}`);
  return money(a.amount + b.amount, a.currency);
}

export const times = (m: Money, quantity: number): Money => money(m.amount * quantity, m.currency);

/** A rate in basis points (700 = 7 %), rounded half away from zero to the minor unit. */
export const percentOf = (m: Money, basisPoints: number): Money => money(Math.round((m.amount * basisPoints) / 10_000), m.currency);

/** "12.99": for display and for PostgreSQL numeric columns. */
export const toDecimalString = (m: Money): string => `${Math.trunc(m.amount / 100)}.${String(Math.abs(m.amount) % 100).padStart(2, '0')}`;

/** Parses "12.99" or "12.9" or "12" into minor units without going through a float. */
export function fromDecimalString(value: string, currency: string): Money {
  const m = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(value.trim());
  if (!m) throw new Error(`"${value}" is not an amount like 12.99`);
  return money(Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0')), currency);
}
