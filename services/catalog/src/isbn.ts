/**
 * ISBNs. The catalogue stores the 13-digit form without separators; input may be an ISBN-13 or an
 * ISBN-10, with hyphens or spaces, and is checked against its check digit before it is accepted.
 */

export type IsbnParse = { ok: true; isbn13: string } | { ok: false; reason: string };

const SEPARATORS = /[\s-]/g;

/** The check digit of the first 12 digits of an ISBN-13 (weights 1, 3, 1, 3, …; mod 10). */
export function isbn13CheckDigit(first12: string): string {
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(first12[i]) * (i % 2 === 0 ? 1 : 3);
  return String((10 - (sum % 10)) % 10);
}

/** The check character of the first 9 digits of an ISBN-10 (weights 10 … 2; mod 11, 10 is "X"). */
export function isbn10CheckDigit(first9: string): string {
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(first9[i]) * (10 - i);
  const check = (11 - (sum % 11)) % 11;
  return check === 10 ? 'X' : String(check);
}

/** Accepts "978-0-261-10221-7", "9780261102217", "0-261-10221-4" or "026110221X"; answers the ISBN-13. */
export function parseIsbn(input: string): IsbnParse {
  const compact = input.replace(SEPARATORS, '').toUpperCase();
  if (/^\d{13}$/.test(compact)) {
    if (!compact.startsWith('978') && !compact.startsWith('979')) return { ok: false, reason: 'an ISBN-13 starts with 978 or 979' };
    if (isbn13CheckDigit(compact) !== compact[12]) return { ok: false, reason: 'its check digit is wrong (a typing error?)' };
    return { ok: true, isbn13: compact };
  }
  if (/^\d{9}[\dX]$/.test(compact)) {
    if (isbn10CheckDigit(compact) !== compact[9]) return { ok: false, reason: 'its check digit is wrong (a typing error?)' };
    return { ok: true, isbn13: isbn10To13(compact) };
  }
  return { ok: false, reason: 'an ISBN has 13 digits (or 10, the last of which may be X), optionally separated by hyphens' };
}

/** Every ISBN-10 is the ISBN-13 with prefix 978 and a recomputed check digit. */
export function isbn10To13(isbn10: string): string {
  const first12 = `978${isbn10.slice(0, 9)}`;
  return first12 + isbn13CheckDigit(first12);
}

/** The ISBN-10 of a 978 ISBN-13, or undefined (979 ISBNs have none). */
export function isbn13To10(isbn13: string): string | undefined {
  if (!/^978\d{10}$/.test(isbn13)) return undefined;
  const first9 = isbn13.slice(3, 12);
  return first9 + isbn10CheckDigit(first9);
}

/** A query that is an ISBN in any accepted form, as an ISBN-13; undefined for any other text. */
export function isbnOfQuery(query: string): string | undefined {
  const trimmed = query.trim();
  if (!/^[\dXx][\dXx\s-]{8,20}$/.test(trimmed)) return undefined;
  const parsed = parseIsbn(trimmed);
  return parsed.ok ? parsed.isbn13 : undefined;
}
