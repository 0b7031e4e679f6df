/**
 * The signed-in user's saved addresses: at most MAX_ADDRESSES_PER_USER, at most one default.
 * Changes run under a lock on the user's row, so the limit and the single default hold under
 * concurrent requests. Another user's address answers 404, exactly like one that does not exist.
 */
import { randomUUID } from 'node:crypto';
import type { Principal } from '@folio/platform/auth';
import { type Pool, type Tx, withTransaction } from '@folio/platform/db';
import { problems } from '@folio/platform/problem';
import {
  type AddressFields,
  type AddressRow,
  clearDefault,
  countAddresses,
  deleteAddress,
  findAddress,
  insertAddress,
  listAddresses,
  updateAddress,
} from './address.repository.ts';
import { type AddressPatch, MAX_ADDRESSES_PER_USER, type NewAddress, type SavedAddress } from './address.schemas.ts';
import { lockUser } from './user.repository.ts';

export function toSavedAddress(row: AddressRow): SavedAddress {
  return {
    id: row.id,
    name: row.name,
    line1: row.line1,
    ...(row.line2 !== null ? { line2: row.line2 } : {}),
    city: row.city,
    postalCode: row.postalCode,
    country: row.country,
    ...(row.label !== null ? { label: row.label } : {}),
    isDefault: row.isDefault,
  };
}

const notFound = (id: string) => problems.notFound(`You have no saved address ${id}.`);

/** Trims the free-text fields and refuses ones that are only spaces, naming the field. */
function cleaned<T extends Partial<Record<keyof AddressFields, unknown>>>(fields: T): T {
  const out: Record<string, unknown> = { ...fields };
  for (const key of ['name', 'line1', 'city', 'postalCode', 'label'] as const) {
    const v = out[key];
    if (typeof v !== 'string') continue;
    const trimmed = v.trim();
    if (trimmed === '') throw problems.unprocessable(`${key} must not be blank`, { errors: [{ field: `body/${key}`, message: 'must not be blank' }] });
    out[key] = trimmed;
  }
  if (typeof out.line2 === 'string') out.line2 = out.line2.trim() === '' ? null : out.line2.trim();
  return out as T;
}

export interface AddressService {
  list(principal: Principal): Promise<SavedAddress[]>;
  create(principal: Principal, body: NewAddress): Promise<SavedAddress>;
  update(principal: Principal, id: string, patch: AddressPatch): Promise<SavedAddress>;
  remove(principal: Principal, id: string): Promise<void>;
}

export function createAddressService(deps: { pool: Pool }): AddressService {
  const { pool } = deps;

  /** Runs fn with the user's row locked; a token for an account that is gone is a 401. */
  const asOwner = <T>(userId: string, fn: (tx: Tx) => Promise<T>) =>
    withTransaction(pool, async (tx) => {
      if (!(await lockUser(tx, userId))) throw problems.unauthorized('This account no longer exists; sign in again.');
      return fn(tx);
    });

  return {
    async list(principal) {
      return (await listAddresses(pool, principal.userId)).map(toSavedAddress);
    },

    async create(principal, body) {
      const a = cleaned(body);
      const row = await asOwner(principal.userId, async (tx) => {
        const count = await countAddresses(tx, principal.userId);
        if (count >= MAX_ADDRESSES_PER_USER) {
          throw problems.unprocessable(`You can save at most ${MAX_ADDRESSES_PER_USER} addresses; delete one you no longer use first.`);
        }
        // The first address becomes the default unless the caller says otherwise.
        const isDefault = a.isDefault ?? count === 0;
        if (isDefault) await clearDefault(tx, principal.userId);
        return insertAddress(tx, principal.userId, randomUUID(), {
          name: a.name,
          line1: a.line1,
          line2: a.line2 ?? null,
          city: a.city,
          postalCode: a.postalCode,
          country: a.country,
          label: a.label ?? null,
          isDefault,
        });
      });
      return toSavedAddress(row);
    },

    async update(principal, id, patch) {
      const p = cleaned(patch);
      const row = await asOwner(principal.userId, async (tx) => {
        const current = await findAddress(tx, principal.userId, id);
        if (!current) throw notFound(id);
        const next: AddressFields = {
          name: p.name ?? current.name,
          line1: p.line1 ?? current.line1,
          line2: p.line2 === undefined ? current.line2 : p.line2,
          city: p.city ?? current.city,
          postalCode: p.postalCode ?? current.postalCode,
          country: p.country ?? current.country,
          label: p.label === undefined ? current.label : p.label,
          isDefault: p.isDefault ?? current.isDefault,
        };
        if (next.isDefault && !current.isDefault) await clearDefault(tx, principal.userId, id);
        return updateAddress(tx, principal.userId, id, next);
      });
      if (!row) throw notFound(id);
      return toSavedAddress(row);
    },

    async remove(principal, id) {
      const deleted = await deleteAddress(pool, principal.userId, id);
      if (!deleted) throw notFound(id);
    },
  };
}
