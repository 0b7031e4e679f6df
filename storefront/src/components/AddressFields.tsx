/** The fields of a postal address, each labelled, with its error tied to it (aria-describedby). */
import type { FieldErrors } from '../api.ts';
import { COUNTRIES, countryName } from '../format.ts';
import type { Address } from '../types.ts';

export const emptyAddress = (): Address => ({ name: '', line1: '', line2: '', city: '', postalCode: '', country: 'DE' });

const FIELDS: Array<{ key: keyof Address; label: string; autoComplete: string; optional?: boolean; maxLength: number }> = [
  { key: 'name', label: 'Full name', autoComplete: 'shipping name', maxLength: 100 },
  { key: 'line1', label: 'Street and number', autoComplete: 'shipping address-line1', maxLength: 200 },
  { key: 'line2', label: 'Apartment, floor, c/o (optional)', autoComplete: 'shipping address-line2', optional: true, maxLength: 200 },
  { key: 'postalCode', label: 'Postal code', autoComplete: 'shipping postal-code', maxLength: 20 },
  { key: 'city', label: 'City', autoComplete: 'shipping address-level2', maxLength: 100 },
];

/** Required fields left empty, as field errors (the shipping service checks the rest). */
export function missingFields(a: Address): FieldErrors {
  const errors: FieldErrors = {};
  for (const f of FIELDS) if (!f.optional && !String(a[f.key] ?? '').trim()) errors[f.key] = `Please enter the ${f.label.toLowerCase()}.`;
  if (!a.country) errors.country = 'Please choose a country.';
  return errors;
}

export function AddressFields({
  value,
  onChange,
  errors,
  idPrefix = 'address',
}: {
  value: Address;
  onChange: (next: Address) => void;
  errors: FieldErrors;
  idPrefix?: string;
}) {
  const set = (key: keyof Address, v: string) => onChange({ ...value, [key]: v });
  const input = (f: (typeof FIELDS)[number]) => {
    const id = `${idPrefix}-${f.key}`;
    const error = errors[f.key];
    return (
      <div className="field" key={f.key}>
        <label htmlFor={id}>{f.label}</label>
        <input
          id={id}
          name={f.key}
          type="text"
          autoComplete={f.autoComplete}
          maxLength={f.maxLength}
          required={!f.optional}
          value={value[f.key] ?? ''}
          onChange={(e) => set(f.key, e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-error` : undefined}
        />
        {error && (
          <p className="field-error" id={`${id}-error`}>
            {error}
          </p>
        )}
      </div>
    );
  };
  const countryId = `${idPrefix}-country`;
  return (
    <div className="address-fields">
      {FIELDS.slice(0, 3).map(input)}
      <div className="field-row">{FIELDS.slice(3).map(input)}</div>
      <div className="field">
        <label htmlFor={countryId}>Country</label>
        <select
          id={countryId}
          name="country"
          autoComplete="shipping country"
          value={value.country}
          onChange={(e) => set('country', e.target.value)}
          aria-invalid={errors.country ? true : undefined}
          aria-describedby={errors.country ? `${countryId}-error` : undefined}
        >
          {COUNTRIES.map((c) => (
            <option key={c} value={c}>
              {countryName(c)}
            </option>
          ))}
        </select>
        {errors.country && (
          <p className="field-error" id={`${countryId}-error`}>
            {errors.country}
          </p>
        )}
      </div>
    </div>
  );
}

/** "Ada Reader, Unter den Linden 1, 10117 Berlin, Germany" */
export const oneLine = (a: Address) => [a.name, a.line1, a.line2, `${a.postalCode} ${a.city}`, countryName(a.country)].filter(Boolean).join(', ');
