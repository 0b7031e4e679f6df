/** Amounts are integers in the currency's smallest unit (cents), as in Stripe's API; these show them to people. */

const digitsCache = new Map<string, number>();

/** How many decimals the currency has (2 for EUR, 0 for JPY), from the ISO 4217 data Intl carries. */
export function minorUnitDigits(currency: string): number {
  const code = currency.toUpperCase();
  let digits = digitsCache.get(code);
  if (digits === undefined) {
    digits = new Intl.NumberFormat('en-US', { style: 'currency', currency: code }).resolvedOptions().maximumFractionDigits ?? 2;
    digitsCache.set(code, digits);
  }
  return digits;
}

/** 1234 eur → "€12.34", as Stripe writes amounts in its messages. */
export function formatAmount(amount: number, currency: string): string {
  const digits = minorUnitDigits(currency);
  return new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase(), minimumFractionDigits: digits }).format(amount / 10 ** digits);
}
