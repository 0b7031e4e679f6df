/** The signed-in user's profile, and the administration of accounts. */
import type { Principal, Role } from '@folio/platform/auth';
import { type Pool, withTransaction } from '@folio/platform/db';
import type { Logger } from '@folio/platform/log';
import { problems } from '@folio/platform/problem';
import { invalidField } from './auth.service.ts';
import { findUserById, listUsers, lockAdmins, setRoles, type UserRow, updateProfile, userExists } from './user.repository.ts';
import type { PatchMeBody, Profile, UserPage, UsersQuery } from './user.schemas.ts';

const DEFAULT_PAGE_SIZE = 20;

export function toProfile(row: UserRow): Profile {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    ...(row.phone ? { phone: row.phone } : {}),
    roles: row.roles,
    createdAt: row.createdAt.toISOString(),
  };
}

/** A valid token for an account that is gone: the caller has to sign in again. */
const accountGone = () => problems.unauthorized('This account no longer exists; sign in again.');

function requireAdmin(principal: Principal): void {
  if (!principal.roles.includes('admin')) throw problems.forbidden('This needs the "admin" role.');
}

export interface UserService {
  profile(principal: Principal): Promise<Profile>;
  updateProfile(principal: Principal, patch: PatchMeBody): Promise<Profile>;
  list(principal: Principal, query: UsersQuery): Promise<UserPage>;
  setRoles(principal: Principal, userId: string, roles: Role[]): Promise<Profile>;
}

export function createUserService(deps: { pool: Pool; log: Logger }): UserService {
  const { pool, log } = deps;
  return {
    async profile(principal) {
      const row = await findUserById(pool, principal.userId);
      if (!row) throw accountGone();
      return toProfile(row);
    },

    async updateProfile(principal, patch) {
      const name = patch.name?.trim();
      if (name === '') throw invalidField('name', 'name must not be blank');
      const phone = typeof patch.phone === 'string' ? patch.phone.trim().replace(/ {2,}/g, ' ') : patch.phone;
      const row = await updateProfile(pool, principal.userId, { ...(name !== undefined ? { name } : {}), ...(phone !== undefined ? { phone } : {}) });
      if (!row) throw accountGone();
      return toProfile(row);
    },

    async list(principal, query) {
      requireAdmin(principal);
      const limit = query.limit ?? DEFAULT_PAGE_SIZE;
      if (query.cursor && !(await userExists(pool, query.cursor))) {
        throw problems.badRequest('cursor is not the nextCursor of a previous page.', [{ field: 'querystring/cursor', message: 'is not a known cursor' }]);
      }
      // One more than asked tells whether another page follows.
      const rows = await listUsers(pool, limit + 1, query.cursor);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return { items: page.map(toProfile), ...(rows.length > limit && last ? { nextCursor: last.id } : {}) };
    },

    async setRoles(principal, userId, roles) {
      requireAdmin(principal);
      const row = await withTransaction(pool, async (tx) => {
        // Locking every admin serialises demotions, so two admins demoting each other cannot leave none.
        const admins = await lockAdmins(tx);
        if (admins.includes(userId) && !roles.includes('admin') && admins.length === 1) {
          throw problems.conflict('This is the last admin; promote another account before removing the admin role from this one.');
        }
        return setRoles(tx, userId, roles);
      });
      if (!row) throw problems.notFound(`There is no user ${userId}.`);
      log.info({ userId, roles, by: principal.userId }, 'roles changed');
      return toProfile(row);
    },
  };
}
