/** All SQL about saved addresses. Every query is scoped to its owner: another user's address is simply not found. */
import type { Queryable } from '@folio/platform/db';

export interface AddressRow {
  id: string;
  name: string;
  line1: string;
  line2: string | null;
  city: string;
  postalCode: string;
  country: string;
  label: string | null;
  isDefault: boolean;
}

export interface AddressFields {
  name: string;
  line1: string;
  line2: string | null;
  city: string;
  postalCode: string;
  country: string;
  label: string | null;
  isDefault: boolean;
}

const COLUMNS = `id, name, line1, line2, city, postal_code AS "postalCode", country, label, is_default AS "isDefault"`;

export async function listAddresses(q: Queryable, userId: string): Promise<AddressRow[]> {
  const { rows } = await q.query<AddressRow>(`SELECT ${COLUMNS} FROM addresses WHERE user_id = $1 ORDER BY created_at, id`, [userId]);
  return rows;
}

export async function countAddresses(q: Queryable, userId: string): Promise<number> {
  const { rows } = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM addresses WHERE user_id = $1', [userId]);
  return rows[0]?.n ?? 0;
}

export async function findAddress(q: Queryable, userId: string, id: string): Promise<AddressRow | undefined> {
  const { rows } = await q.query<AddressRow>(`SELECT ${COLUMNS} FROM addresses WHERE id = $1 AND user_id = $2`, [id, userId]);
  return rows[0];
}

export async function insertAddress(q: Queryable, userId: string, id: string, a: AddressFields): Promise<AddressRow> {
  const { rows } = await q.query<AddressRow>(
    `INSERT INTO addresses (id, user_id, name, line1, line2, city, postal_code, country, label, is_default, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, clock_timestamp()) RETURNING ${COLUMNS}`,
    [id, userId, a.name, a.line1, a.line2, a.city, a.postalCode, a.country, a.label, a.isDefault],
  );
  return rows[0]!;
}

export async function updateAddress(q: Queryable, userId: string, id: string, a: AddressFields): Promise<AddressRow | undefined> {
  const { rows } = await q.query<AddressRow>(
    `UPDATE addresses SET name = $3, line1 = $4, line2 = $5, city = $6, postal_code = $7, country = $8, label = $9, is_default = $10, updated_at = now()
      WHERE id = $1 AND user_id = $2 RETURNING ${COLUMNS}`,
    [id, userId, a.name, a.line1, a.line2, a.city, a.postalCode, a.country, a.label, a.isDefault],
  );
  return rows[0];
}

/** Clears the default flag of the user's addresses other than `exceptId`. */
export async function clearDefault(q: Queryable, userId: string, exceptId?: string): Promise<void> {
  await q.query('UPDATE addresses SET is_default = false, updated_at = now() WHERE user_id = $1 AND is_default AND id IS DISTINCT FROM $2', [
    userId,
    exceptId ?? null,
  ]);
}

export async function deleteAddress(q: Queryable, userId: string, id: string): Promise<boolean> {
  const { rowCount } = await q.query('DELETE FROM addresses WHERE id = $1 AND user_id = $2', [id, userId]);
  return rowCount === 1;
}
