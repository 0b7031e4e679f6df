import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cleanPostalCode, normalisePostalCode, postalCodeFormats } from './postal-codes.ts';

/** Per country: what people type and its canonical form, and codes that must be refused. */
const cases: Record<string, { valid: Array<[string, string]>; invalid: string[] }> = {
  DE: {
    valid: [
      ['10115', '10115'],
      [' 01067 ', '01067'],
    ],
    invalid: ['1011', '101155', 'D-10115x', '10 115', 'ABCDE'],
  },
  AT: { valid: [['1010', '1010']], invalid: ['10100', 'A1010x'] },
  BE: { valid: [['1000', '1000']], invalid: ['0999', '10000'] },
  BG: { valid: [['1000', '1000']], invalid: ['100'] },
  CY: { valid: [['1010', '1010']], invalid: ['10100'] },
  CZ: {
    valid: [
      ['11000', '110 00'],
      ['110 00', '110 00'],
    ],
    invalid: ['1100', '110-000'],
  },
  DK: { valid: [['1050', '1050']], invalid: ['105'] },
  EE: { valid: [['10111', '10111']], invalid: ['1011'] },
  ES: {
    valid: [
      ['28013', '28013'],
      ['52001', '52001'],
    ],
    invalid: ['53001', '00123', '2801'],
  },
  FI: { valid: [['00100', '00100']], invalid: ['0010'] },
  FR: {
    valid: [
      ['75001', '75001'],
      ['97400', '97400'],
    ],
    invalid: ['7500', '750011', '75 001'],
  },
  GR: { valid: [['10557', '105 57']], invalid: ['1055'] },
  HR: { valid: [['10000', '10000']], invalid: ['1000'] },
  HU: { valid: [['1011', '1011']], invalid: ['0111', '10111'] },
  IE: {
    valid: [
      ['D02X285', 'D02 X285'],
      ['d02 x285', 'D02 X285'],
      ['D6WFN22', 'D6W FN22'],
      ['A65 F4E2', 'A65 F4E2'],
    ],
    invalid: ['D02', 'B02 X285', 'D02 X28', 'DUBLIN 2'],
  },
  IT: { valid: [['00184', '00184']], invalid: ['0018'] },
  LT: {
    valid: [
      ['01100', 'LT-01100'],
      ['LT-01100', 'LT-01100'],
      ['lt 01100', 'LT-01100'],
    ],
    invalid: ['LT-0110', 'LV-01100'],
  },
  LU: {
    valid: [
      ['1009', '1009'],
      ['L-1009', '1009'],
    ],
    invalid: ['10090'],
  },
  LV: {
    valid: [
      ['1010', 'LV-1010'],
      ['LV-1010', 'LV-1010'],
    ],
    invalid: ['LV-10100', 'LT-1010'],
  },
  MT: {
    valid: [
      ['VLT1117', 'VLT 1117'],
      ['vlt 1117', 'VLT 1117'],
    ],
    invalid: ['VL 1117', 'VLT 111'],
  },
  NL: {
    valid: [
      ['1012AB', '1012 AB'],
      ['1012 ab', '1012 AB'],
      [' 1012  AB ', '1012 AB'],
    ],
    invalid: ['0123 AB', '1012 SA', '1012', '1012 A1', '1012-AB'],
  },
  PL: {
    valid: [
      ['00-950', '00-950'],
      ['00950', '00-950'],
      ['00 950', '00-950'],
    ],
    invalid: ['0095', '00-9500'],
  },
  PT: {
    valid: [
      ['1000-001', '1000-001'],
      ['1000001', '1000-001'],
    ],
    invalid: ['1000', '1000-01'],
  },
  RO: { valid: [['010011', '010011']], invalid: ['01001'] },
  SE: {
    valid: [
      ['11455', '114 55'],
      ['114 55', '114 55'],
    ],
    invalid: ['01455', '1145'],
  },
  SI: {
    valid: [
      ['1000', '1000'],
      ['SI-1000', '1000'],
    ],
    invalid: ['100'],
  },
  SK: { valid: [['81101', '811 01']], invalid: ['8110'] },
  GB: {
    valid: [
      ['SW1A1AA', 'SW1A 1AA'],
      ['sw1a 1aa', 'SW1A 1AA'],
      ['M1 1AE', 'M1 1AE'],
      ['B33 8TH', 'B33 8TH'],
      ['CR2 6XH', 'CR2 6XH'],
      ['DN55 1PT', 'DN55 1PT'],
      ['EC1A1BB', 'EC1A 1BB'],
      ['GIR 0AA', 'GIR 0AA'],
    ],
    invalid: ['SW1A', '1AA SW1A', 'QW1A 1AA', 'SW1A 1CA', 'SW1A-1AA', '12345'],
  },
  CH: { valid: [['8001', '8001']], invalid: ['80010'] },
  IS: { valid: [['101', '101']], invalid: ['1010'] },
  LI: {
    valid: [
      ['9490', '9490'],
      ['9485', '9485'],
    ],
    invalid: ['9484', '9499', '8001'],
  },
  NO: { valid: [['0150', '0150']], invalid: ['150'] },
  AU: { valid: [['2000', '2000']], invalid: ['200', '20000'] },
  BR: {
    valid: [
      ['01310-100', '01310-100'],
      ['01310100', '01310-100'],
    ],
    invalid: ['0131010', '01310-1000'],
  },
  CA: {
    valid: [
      ['K1A0B1', 'K1A 0B1'],
      ['k1a 0b1', 'K1A 0B1'],
      ['H0H 0H0', 'H0H 0H0'],
    ],
    invalid: ['K1A', 'D1A 0B1', 'W1A 0B1', 'K1A 0B', '12345'],
  },
  IN: {
    valid: [
      ['110001', '110001'],
      ['110 001', '110001'],
    ],
    invalid: ['011001', '11001'],
  },
  JP: {
    valid: [
      ['100-0001', '100-0001'],
      ['1000001', '100-0001'],
      ['１００－０００１', '100-0001'],
    ],
    invalid: ['100-001', '10000001'],
  },
  NZ: { valid: [['6011', '6011']], invalid: ['601'] },
  SG: { valid: [['018956', '018956']], invalid: ['18956'] },
  US: {
    valid: [
      ['20500', '20500'],
      ['20500-0003', '20500-0003'],
      ['205000003', '20500-0003'],
      ['20500 0003', '20500-0003'],
    ],
    invalid: ['2050', '20500-003', '20500-00033', 'ABCDE'],
  },
};

describe('postal codes', () => {
  test('every country with a format has cases here, and every case names a country with a format', () => {
    assert.deepEqual(Object.keys(cases).sort(), Object.keys(postalCodeFormats).sort());
    assert.ok(Object.keys(postalCodeFormats).length >= 14);
  });

  for (const [country, { valid, invalid }] of Object.entries(cases)) {
    test(`${country}: normalises what people type, refuses what is not a code, with an example`, () => {
      const format = postalCodeFormats[country]!;
      assert.deepEqual(normalisePostalCode(country, format.example), { ok: true, postalCode: format.example }, 'the example is canonical');
      assert.ok(format.message.includes(format.example), `the message shows the example: ${format.message}`);
      for (const [raw, canonical] of valid) {
        assert.deepEqual(normalisePostalCode(country, raw), { ok: true, postalCode: canonical }, `${country} ${JSON.stringify(raw)}`);
        // Canonical forms are fixed points: normalising twice changes nothing.
        assert.deepEqual(normalisePostalCode(country, canonical), { ok: true, postalCode: canonical });
      }
      for (const raw of ['', ' ', ...invalid]) {
        assert.deepEqual(normalisePostalCode(country, raw), { ok: false, message: format.message }, `${country} ${JSON.stringify(raw)} must be refused`);
      }
    });
  }

  test('messages say what a code looks like in words a customer understands', () => {
    assert.deepEqual(normalisePostalCode('DE', '1234'), { ok: false, message: 'A postal code in Germany has 5 digits, like 10115.' });
    assert.match((normalisePostalCode('GB', 'nonsense') as { message: string }).message, /United Kingdom.*SW1A 1AA/);
  });

  test('a country without a format of its own gets a lenient check that still refuses nonsense', () => {
    assert.deepEqual(normalisePostalCode('XK', ' 10000 '), { ok: true, postalCode: '10000' });
    assert.deepEqual(normalisePostalCode('XK', 'ab-12 3'), { ok: true, postalCode: 'AB-12 3' });
    for (const raw of ['-', '12345678901', '10000!', '<script>']) assert.equal(normalisePostalCode('XK', raw).ok, false, raw);
    // Object.prototype keys are not formats.
    assert.equal(normalisePostalCode('constructor', '10000').ok, true);
  });

  test('clean-up: full-width characters, dashes, white space and case', () => {
    assert.equal(cleanPostalCode('\u00a0sw1a\t 1aa\n'), 'SW1A 1AA');
    assert.equal(cleanPostalCode('00\u2013950'), '00-950');
    assert.equal(cleanPostalCode('ｋ１ａ　０ｂ１'), 'K1A 0B1');
  });
});
