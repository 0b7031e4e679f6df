/**
 * Postal-code formats by country: the pattern a code must match, its canonical spelling (what a
 * label and the carrier expect) and a message with an example for the customer who got it wrong.
 *
 * Patterns apply to the code after NFKC (full-width digits become ASCII), trimming, upper-casing,
 * collapsing runs of white space and turning dashes into hyphens, so "sw1a1aa", " SW1A  1AA" and
 * "SW1A 1AA" are all the same code. Separators are optional where the canonical form has one;
 * the canonical form puts it back.
 */

export interface PostalCodeFormat {
  /** Capture groups feed `canonical`. */
  pattern: RegExp;
  /** A replacement string for `pattern` ("$1 $2"), or a function of the match. */
  canonical: string | ((match: RegExpExecArray) => string);
  example: string;
  /** Says what a valid code looks like, with the example. */
  message: string;
}

const digits = (count: number, where: string, example: string): PostalCodeFormat => ({
  pattern: new RegExp(`^(\\d{${count}})$`),
  canonical: '$1',
  example,
  message: `A postal code in ${where} has ${count} digits, like ${example}.`,
});

/** Countries we have a format for. Every country of the seeded rate table is here (a test checks it). */
export const postalCodeFormats: Readonly<Record<string, PostalCodeFormat>> = {
  // Domestic
  DE: digits(5, 'Germany', '10115'),

  // European Union
  AT: digits(4, 'Austria', '1010'),
  BE: { pattern: /^([1-9]\d{3})$/, canonical: '$1', example: '1000', message: 'A postal code in Belgium has 4 digits, like 1000.' },
  BG: digits(4, 'Bulgaria', '1000'),
  CY: digits(4, 'Cyprus', '1010'),
  CZ: { pattern: /^(\d{3}) ?(\d{2})$/, canonical: '$1 $2', example: '110 00', message: 'A postal code in Czechia has 5 digits, like 110 00.' },
  DK: digits(4, 'Denmark', '1050'),
  EE: digits(5, 'Estonia', '10111'),
  ES: {
    pattern: /^(0[1-9]\d{3}|[1-4]\d{4}|5[0-2]\d{3})$/,
    canonical: '$1',
    example: '28013',
    message: 'A postal code in Spain has 5 digits starting with a province number from 01 to 52, like 28013.',
  },
  FI: digits(5, 'Finland', '00100'),
  FR: digits(5, 'France', '75001'),
  GR: { pattern: /^(\d{3}) ?(\d{2})$/, canonical: '$1 $2', example: '105 57', message: 'A postal code in Greece has 5 digits, like 105 57.' },
  HR: digits(5, 'Croatia', '10000'),
  HU: { pattern: /^([1-9]\d{3})$/, canonical: '$1', example: '1011', message: 'A postal code in Hungary has 4 digits, like 1011.' },
  IE: {
    // Eircode: a routing key (a letter and two digits, or D6W) and a 4-character unique identifier.
    pattern: /^([AC-FHKNPRTV-Y]\d{2}|D6W) ?([0-9AC-FHKNPRTV-Y]{4})$/,
    canonical: '$1 $2',
    example: 'D02 X285',
    message: 'An Eircode in Ireland has 7 letters and digits, like D02 X285.',
  },
  IT: digits(5, 'Italy', '00184'),
  LT: { pattern: /^(?:LT[ -]?)?(\d{5})$/, canonical: 'LT-$1', example: 'LT-01100', message: 'A postal code in Lithuania has 5 digits, like LT-01100.' },
  LU: { pattern: /^(?:L[ -]?)?(\d{4})$/, canonical: '$1', example: '1009', message: 'A postal code in Luxembourg has 4 digits, like 1009.' },
  LV: { pattern: /^(?:LV[ -]?)?(\d{4})$/, canonical: 'LV-$1', example: 'LV-1010', message: 'A postal code in Latvia has 4 digits, like LV-1010.' },
  MT: {
    pattern: /^([A-Z]{3}) ?(\d{4})$/,
    canonical: '$1 $2',
    example: 'VLT 1117',
    message: 'A postal code in Malta has 3 letters and 4 digits, like VLT 1117.',
  },
  NL: {
    // SA, SD and SS are not used.
    pattern: /^([1-9]\d{3}) ?((?!SA|SD|SS)[A-Z]{2})$/,
    canonical: '$1 $2',
    example: '1012 AB',
    message: 'A postal code in the Netherlands has 4 digits and 2 letters, like 1012 AB.',
  },
  PL: { pattern: /^(\d{2})[ -]?(\d{3})$/, canonical: '$1-$2', example: '00-950', message: 'A postal code in Poland has 5 digits, like 00-950.' },
  PT: { pattern: /^(\d{4})[ -]?(\d{3})$/, canonical: '$1-$2', example: '1000-001', message: 'A postal code in Portugal has 7 digits, like 1000-001.' },
  RO: digits(6, 'Romania', '010011'),
  SE: { pattern: /^([1-9]\d{2}) ?(\d{2})$/, canonical: '$1 $2', example: '114 55', message: 'A postal code in Sweden has 5 digits, like 114 55.' },
  SI: { pattern: /^(?:SI[ -]?)?(\d{4})$/, canonical: '$1', example: '1000', message: 'A postal code in Slovenia has 4 digits, like 1000.' },
  SK: { pattern: /^(\d{3}) ?(\d{2})$/, canonical: '$1 $2', example: '811 01', message: 'A postal code in Slovakia has 5 digits, like 811 01.' },

  // Rest of Europe
  GB: {
    // Outward code (area and district) and inward code (sector and unit), per the Royal Mail rules.
    pattern: /^(GIR|[A-PR-UWYZ](?:\d[A-HJKPSTUW\d]?|[A-HK-Y]\d[ABEHMNPRVWXY\d]?)) ?(0AA|\d[ABD-HJLNP-UW-Z]{2})$/,
    canonical: '$1 $2',
    example: 'SW1A 1AA',
    message: 'A postcode in the United Kingdom has an area part and a 3-character unit part, like SW1A 1AA.',
  },
  CH: digits(4, 'Switzerland', '8001'),
  IS: digits(3, 'Iceland', '101'),
  LI: {
    pattern: /^(94(?:8[5-9]|9[0-8]))$/,
    canonical: '$1',
    example: '9490',
    message: 'A postal code in Liechtenstein has 4 digits from 9485 to 9498, like 9490.',
  },
  NO: digits(4, 'Norway', '0150'),

  // Rest of the world
  AU: digits(4, 'Australia', '2000'),
  BR: { pattern: /^(\d{5})[ -]?(\d{3})$/, canonical: '$1-$2', example: '01310-100', message: 'A CEP in Brazil has 8 digits, like 01310-100.' },
  CA: {
    // D, F, I, O, Q and U are never used; W and Z not as the first letter.
    pattern: /^([ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]) ?(\d[ABCEGHJ-NPRSTV-Z]\d)$/,
    canonical: '$1 $2',
    example: 'K1A 0B1',
    message: 'A postal code in Canada is a letter, digit, letter, then digit, letter, digit, like K1A 0B1.',
  },
  IN: { pattern: /^([1-9]\d{2}) ?(\d{3})$/, canonical: '$1$2', example: '110001', message: 'A PIN code in India has 6 digits, like 110001.' },
  JP: { pattern: /^(\d{3})[ -]?(\d{4})$/, canonical: '$1-$2', example: '100-0001', message: 'A postal code in Japan has 7 digits, like 100-0001.' },
  NZ: digits(4, 'New Zealand', '6011'),
  SG: digits(6, 'Singapore', '018956'),
  US: {
    pattern: /^(\d{5})(?:[ -]?(\d{4}))?$/,
    canonical: (m) => (m[2] ? `${m[1]}-${m[2]}` : m[1]!),
    example: '20500',
    message: 'A ZIP code in the United States has 5 digits, or 9 as ZIP+4, like 20500 or 20500-0003.',
  },
};

/**
 * For a country an operator added to the rate table before anyone added its format here: a lenient
 * check that still refuses what cannot be a postal code anywhere.
 */
const anyFormat: PostalCodeFormat = {
  pattern: /^([A-Z0-9](?:[A-Z0-9 -]{0,8}[A-Z0-9])?)$/,
  canonical: '$1',
  example: '',
  message: 'A postal code has up to 10 letters, digits, spaces or hyphens.',
};

export type PostalCodeCheck = { ok: true; postalCode: string } | { ok: false; message: string };

/** Cleans up what people type: full-width characters, dashes, stray and doubled spaces, lower case. */
export function cleanPostalCode(raw: string): string {
  return raw
    .normalize('NFKC')
    .replace(/[\u2010-\u2015\u2212]/g, '-')
    .trim()
    .replace(/\s+/g, ' ')
    .toUpperCase();
}

/** The canonical spelling of a postal code of `country` (ISO alpha-2, upper case), or why it is not one. */
export function normalisePostalCode(country: string, raw: string): PostalCodeCheck {
  const format = (Object.hasOwn(postalCodeFormats, country) ? postalCodeFormats[country] : undefined) ?? anyFormat;
  const cleaned = cleanPostalCode(raw);
  const match = format.pattern.exec(cleaned);
  if (!match) return { ok: false, message: format.message };
  const postalCode = typeof format.canonical === 'string' ? cleaned.replace(format.pattern, format.canonical) : format.canonical(match);
  return { ok: true, postalCode };
}
