/**
 * The rules of shipping: which methods reach a country, what a parcel costs, and whether an
 * address can be shipped to. No access check: prices and address checks are public (the basket
 * page shows them before anyone signs in), and nothing here reads or changes anyone's data.
 */
import { Address } from '@folio/contracts/address';
import { type Money, money } from '@folio/contracts/money';
import type { Queryable } from '@folio/platform/db';
import { type FieldError, problems } from '@folio/platform/problem';
import { normalisePostalCode } from './postal-codes.ts';
import { type Rate, ratesForCountry, shipsTo } from './rate.repository.ts';
import type { AddressInput, OptionsResponse, Quote, QuoteRequest, ShippingOption } from './shipping.schemas.ts';

export interface Parcel {
  items: number;
  /** Total weight; without it every item weighs the rate's included grams per item. */
  weightGrams?: number | undefined;
  /** Order subtotal in EUR cents. */
  subtotal?: number | undefined;
}

/**
 * base + per extra item after the first + per started kilogram above the weight the items are
 * expected to have; free when the rate allows it and the subtotal reaches the threshold
 * ("free shipping from €50": a subtotal of exactly the threshold ships free).
 */
export function priceOf(rate: Rate, parcel: Parcel, freeShippingThresholdMinor: number): Money {
  if (rate.freeShippingEligible && parcel.subtotal !== undefined && parcel.subtotal >= freeShippingThresholdMinor) return money(0, rate.currency);
  const allowanceGrams = parcel.items * rate.includedGramsPerItem;
  const overweightGrams = Math.max(0, (parcel.weightGrams ?? allowanceGrams) - allowanceGrams);
  const amount = rate.baseMinor + rate.perExtraItemMinor * (parcel.items - 1) + rate.perExtraKgMinor * Math.ceil(overweightGrams / 1000);
  return money(amount, rate.currency);
}

const notShippedTo = (country: string, field: string) => {
  const message = `We don't ship to ${country} yet.`;
  return problems.unprocessable(message, { country, errors: [{ field, message }] });
};

export interface ShippingService {
  options(query: Parcel & { country: string }): Promise<OptionsResponse>;
  quote(request: QuoteRequest): Promise<Quote>;
  /** The address in canonical form, or a 422 naming every field to fix. */
  validateAddress(input: AddressInput): Promise<Address>;
}

export function createShippingService(deps: { db: Queryable; freeShippingThresholdMinor: number }): ShippingService {
  const { db, freeShippingThresholdMinor } = deps;

  const optionOf = (rate: Rate, parcel: Parcel): ShippingOption => ({
    id: rate.methodId,
    name: rate.methodName,
    price: priceOf(rate, parcel, freeShippingThresholdMinor),
    estimatedDays: { min: rate.minDays, max: rate.maxDays },
  });

  return {
    async options(query) {
      const country = query.country.toUpperCase();
      const rates = await ratesForCountry(db, country);
      if (rates.length === 0) throw notShippedTo(country, '/country');
      const options = rates
        .map((rate) => ({ rate, option: optionOf(rate, query) }))
        .sort((a, b) => a.option.price.amount - b.option.price.amount || a.rate.sortOrder - b.rate.sortOrder)
        .map((o) => o.option);
      return { country, options };
    },

    async quote(request) {
      const country = request.country.toUpperCase();
      const rates = await ratesForCountry(db, country);
      if (rates.length === 0) throw notShippedTo(country, '/country');
      const rate = rates.find((r) => r.methodId === request.method);
      if (!rate) {
        const available = rates.map((r) => r.methodId);
        const message = `We don't offer ${request.method} shipping to ${country}; choose ${available.join(' or ')}.`;
        throw problems.unprocessable(message, { country, method: request.method, availableMethods: available, errors: [{ field: '/method', message }] });
      }
      const { id, ...option } = optionOf(rate, request);
      return { country, method: id, ...option };
    },

    async validateAddress(input) {
      const errors: FieldError[] = [];
      const fail = (field: keyof Address, message: string) => errors.push({ field: `/address/${field}`, message });

      const text = (field: 'name' | 'line1' | 'line2' | 'city', required: string | undefined): string => {
        const value = cleanText(input[field]);
        const maxLength = maxLengthOf(field);
        if (value === '') {
          if (required) fail(field, required);
        } else if (/\p{Cc}/u.test(value)) {
          fail(field, 'Remove the control characters: they cannot be printed on a label.');
        } else if (lengthOf(value) > maxLength) {
          fail(field, `Use at most ${maxLength} characters (this has ${lengthOf(value)}).`);
        }
        return value;
      };
      const name = text('name', 'Enter the name of the recipient.');
      const line1 = text('line1', 'Enter the street and house number.');
      const line2 = text('line2', undefined);
      const city = text('city', 'Enter the city.');

      // The country first: the postal code's format depends on it.
      const country = cleanText(input.country).toUpperCase();
      let countryError: string | undefined;
      if (country === '') countryError = 'Enter the country as a two-letter code, like DE.';
      else if (!/^[A-Z]{2}$/.test(country)) countryError = 'Use the two-letter code of the country, like DE.';
      else if (!(await shipsTo(db, country))) countryError = `We don't ship to ${country} yet.`;

      let postalCode = cleanText(input.postalCode);
      const postalMax = maxLengthOf('postalCode');
      if (postalCode === '') fail('postalCode', 'Enter the postal code.');
      else if (!countryError) {
        const check = normalisePostalCode(country, postalCode);
        if (check.ok) postalCode = check.postalCode;
        else fail('postalCode', check.message);
      } else if (lengthOf(postalCode) > postalMax) fail('postalCode', `Use at most ${postalMax} characters (this has ${lengthOf(postalCode)}).`);
      if (countryError) fail('country', countryError);

      if (errors.length > 0) {
        const detail = `Please correct the address: ${errors.map((e) => e.message).join(' ')}`;
        throw problems.unprocessable(detail, { errors });
      }
      return { name, line1, ...(line2 ? { line2 } : {}), city, postalCode, country };
    },
  };
}

/** Trimmed, composed (NFC), with runs of white space, line breaks included, made one space. */
function cleanText(value: string | undefined): string {
  return (value ?? '').normalize('NFC').replace(/\s+/g, ' ').trim();
}

/** The contract's limit, so the check cannot drift from the Address every service stores. */
const maxLengthOf = (field: keyof Address): number => (Address.properties[field] as { maxLength?: number }).maxLength ?? Number.POSITIVE_INFINITY;

/** In characters (code points), as JSON Schema's maxLength counts them. */
const lengthOf = (value: string): number => [...value].length;
