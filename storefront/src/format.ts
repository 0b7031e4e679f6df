/** How money, dates and durations read on the page. */
import type { Money } from './types.ts';

const moneyFormats = new Map<string, Intl.NumberFormat>();

/** Integer cents → "€12.99". */
export function formatMoney(m: Money): string {
  let f = moneyFormats.get(m.currency);
  if (!f) {
    f = new Intl.NumberFormat('en-IE', { style: 'currency', currency: m.currency });
    moneyFormats.set(m.currency, f);
  }
  return f.format(m.amount / 100);
}

const dateTime = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long' });
const timeOnly = new Intl.DateTimeFormat('en-GB', { timeStyle: 'short' });

export const formatDateTime = (iso: string) => dateTime.format(new Date(iso));
export const formatDate = (iso: string) => dateOnly.format(new Date(iso));
export const formatTime = (iso: string) => timeOnly.format(new Date(iso));

/** 900 → "15 minutes", 20 → "20 seconds", 3600 → "1 hour". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (s < 90) return plural(s, 'second');
  if (s < 90 * 60) return plural(Math.round(s / 60), 'minute');
  return plural(Math.round(s / 3600), 'hour');
}

const regionNames = typeof Intl.DisplayNames === 'function' ? new Intl.DisplayNames(['en'], { type: 'region' }) : undefined;
export const countryName = (code: string) => regionNames?.of(code) ?? code;

/** The countries the shop ships to (the shipping service's postal-code rules). */
export const COUNTRIES = [
  'AT',
  'AU',
  'BE',
  'BG',
  'BR',
  'CA',
  'CH',
  'CY',
  'CZ',
  'DE',
  'DK',
  'EE',
  'ES',
  'FI',
  'FR',
  'GB',
  'GR',
  'HR',
  'HU',
  'IE',
  'IN',
  'IS',
  'IT',
  'JP',
  'LI',
  'LT',
  'LU',
  'LV',
  'MT',
  'NL',
  'NO',
  'NZ',
  'PL',
  'PT',
  'RO',
  'SE',
  'SG',
  'SI',
  'SK',
  'US',
].sort((a, b) => countryName(a).localeCompare(countryName(b)));

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
