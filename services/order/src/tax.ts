/**
 * VAT of an order. Books take the destination country's reduced rate (tax_rates.books_bp), applied to
 * the book prices and added on top of them: total = subtotal + tax + shipping. Shipping is not taxed.
 *
 * Rounding: per line, half up to the minor unit (line total 1299 at 7 % is 90.93 → 91), and the order's
 * tax is the sum of its lines' taxes, so every line's tax can be shown and they add up to the total.
 * A country the table does not list is taxed 0/0 (e.g. a destination we ship to without VAT registration);
 * add a row to tax_rates to change that — data, not a deploy.
 */
import type { Queryable } from '@folio/platform/db';

export interface TaxRate {
  country: string;
  standardBp: number;
  booksBp: number;
}

/** The rate of a country not in the table. */
export const DEFAULT_TAX_RATE = { standardBp: 0, booksBp: 0 } as const;

export async function taxRateOf(db: Queryable, country: string): Promise<TaxRate> {
  const { rows } = await db.query<{ standard_bp: number; books_bp: number }>('SELECT standard_bp, books_bp FROM tax_rates WHERE country = $1', [country]);
  const row = rows[0];
  return row ? { country, standardBp: row.standard_bp, booksBp: row.books_bp } : { country, ...DEFAULT_TAX_RATE };
}

/** amount × basisPoints / 10 000, rounded half up, in integers only (exact for any amount a shop sees). */
export function taxOf(amountMinor: number, basisPoints: number): number {
  if (!Number.isSafeInteger(amountMinor) || amountMinor < 0) throw new Error(`tax of a non-integer or negative amount: ${amountMinor}`);
  return Math.floor((amountMinor * basisPoints + 5_000) / 10_000);
}

/** The tax of each line (in line order) and their sum. */
export function taxOfLines(lineTotals: readonly number[], basisPoints: number): { perLine: number[]; total: number } {
  const perLine = lineTotals.map((t) => taxOf(t, basisPoints));
  return { perLine, total: perLine.reduce((a, b) => a + b, 0) };
}
