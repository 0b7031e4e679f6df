/** All SQL about accounts. Functions take a Queryable/Tx so the caller owns the transaction. */
import type { Role } from '@folio/platform/auth';
import type { Queryable, Tx } from '@folio/platform/db';

export interface UserRow {
  id: string;
  email: string;
  name: string;
  phone: string | null;
  roles: Role[];
  passwordHash: string;
  createdAt: Date;
}

const COLUMNS = 'id, email, name, phone, roles, password_hash AS "passwordHash", created_at AS "createdAt"';

export const UNIQUE_VIOLATION = '23505';

/** Throws the driver's unique violation (code 23505) when the email is taken, whatever its case. */
export async function insertUser(q: Queryable, user: { id: string; email: string; name: string; passwordHash: string; roles: Role[] }): Promise<UserRow> {
  const { rows } = await q.query<UserRow>(`INSERT INTO users (id, email, name, password_hash, roles) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`, [
    user.id,
    user.email,
    user.name,
    user.passwordHash,
    user.roles,
  ]);
  return rows[0]!;
}

export async function findUserByEmail(q: Queryable, email: string): Promise<UserRow | undefined> {
  const { rows } = await q.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE lower(email) = lower($1)`, [email]);
  return rows[0];
}

export async function findUserById(q: Queryable, id: string): Promise<UserRow | undefined> {
  const { rows } = await q.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
  return rows[0];
}

/** Locks the user's row: serialises changes to what a user owns (their addresses, the default among them). */
export async function lockUser(tx: Tx, id: string): Promise<boolean> {
  const { rowCount } = await tx.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [id]);
  return rowCount === 1;
}

/** `phone: undefined` keeps the number, `null` removes it. */
export async function updateProfile(q: Queryable, id: string, patch: { name?: string; phone?: string | null }): Promise<UserRow | undefined> {
  const { rows } = await q.query<UserRow>(
    `UPDATE users SET name = COALESCE($2, name), phone = CASE WHEN $3 THEN $4 ELSE phone END, updated_at = now()
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, patch.name ?? null, patch.phone !== undefined, patch.phone ?? null],
  );
  return rows[0];
}

export async function updatePasswordHash(q: Queryable, id: string, passwordHash: string): Promise<void> {
  await q.query('UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1', [id, passwordHash]);
}

/** A page in (created_at, id) order, starting after the user `afterId` (the previous page's last). */
export async function listUsers(q: Queryable, limit: number, afterId?: string): Promise<UserRow[]> {
  const { rows } = afterId
    ? await q.query<UserRow>(
        `SELECT ${COLUMNS} FROM users WHERE (created_at, id) > (SELECT created_at, id FROM users WHERE id = $2) ORDER BY created_at, id LIMIT $1`,
        [limit, afterId],
      )
    : await q.query<UserRow>(`SELECT ${COLUMNS} FROM users ORDER BY created_at, id LIMIT $1`, [limit]);
  return rows;
}

export async function userExists(q: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await q.query('SELECT 1 FROM users WHERE id = $1', [id]);
  return rowCount === 1;
}

/** Locks every admin's row (in id order, so concurrent callers do not deadlock) and returns their ids. */
export async function lockAdmins(tx: Tx): Promise<string[]> {
  const { rows } = await tx.query<{ id: string }>(`SELECT id FROM users WHERE 'admin' = ANY (roles) ORDER BY id FOR UPDATE`);
  return rows.map((r) => r.id);
}

export async function setRoles(q: Queryable, id: string, roles: Role[]): Promise<UserRow | undefined> {
  const { rows } = await q.query<UserRow>(`UPDATE users SET roles = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`, [id, roles]);
  return rows[0];
}

/** Adds the admin role (keeping the others); undefined for an unknown email. */
export async function promoteToAdmin(q: Queryable, email: string): Promise<{ user: UserRow; alreadyAdmin: boolean } | undefined> {
  const { rows } = await q.query<UserRow & { alreadyAdmin: boolean }>(
    `WITH target AS (SELECT id, 'admin' = ANY (roles) AS already FROM users WHERE lower(email) = lower($1) FOR UPDATE)
     UPDATE users u SET roles = CASE WHEN t.already THEN u.roles ELSE array_append(u.roles, 'admin') END,
                        updated_at = CASE WHEN t.already THEN u.updated_at ELSE now() END
       FROM target t WHERE u.id = t.id
     RETURNING u.id, u.email, u.name, u.phone, u.roles, u.password_hash AS "passwordHash", u.created_at AS "createdAt", t.already AS "alreadyAdmin"`,
    [email],
  );
  const row = rows[0];
  if (!row) return undefined;
  const { alreadyAdmin, ...user } = row;
  return { user, alreadyAdmin };
}
