/**
 * Registration and sign-in: the password policy, argon2id, throttled logins, access and refresh
 * tokens. Sign-in answers the same 401 for an unknown email and a wrong password, and spends the
 * same argon2 time on both, so it does not reveal which emails have accounts.
 */
import { randomUUID } from 'node:crypto';
import { type Pool, withTransaction } from '@folio/platform/db';
import type { Logger } from '@folio/platform/log';
import { problems } from '@folio/platform/problem';
import { dummyHash, hashPassword, needsRehash, passwordProblem, verifyPassword } from './password.ts';
import type { LoginThrottle } from './throttle.ts';
import type { TokenService } from './token.service.ts';
import { findUserByEmail, findUserById, insertUser, UNIQUE_VIOLATION, type UserRow, updatePasswordHash } from './user.repository.ts';
import type { LoginBody, RegisterBody, TokenResponse, User } from './user.schemas.ts';

const WRONG_CREDENTIALS = 'Email or password is incorrect.';
const INVALID_REFRESH = 'The refresh token is not valid (expired, revoked or already used); sign in again.';

export const normaliseEmail = (email: string): string => email.trim().toLowerCase();

/** Deliberately loose: one @, no spaces, a dot in the domain. Whether it receives mail is another matter. */
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export const toUser = (row: UserRow): User => ({ id: row.id, email: row.email, name: row.name, roles: row.roles });

/** A 422 naming one body field, shaped like the schema validation's field errors. */
export function invalidField(field: string, detail: string) {
  return problems.unprocessable(detail, { errors: [{ field: `body/${field}`, message: detail }] });
}

export interface AuthService {
  register(body: RegisterBody): Promise<User>;
  login(body: LoginBody, clientAddress: string): Promise<TokenResponse>;
  refresh(refreshToken: string): Promise<TokenResponse>;
  logout(refreshToken: string): Promise<void>;
}

export async function createAuthService(deps: {
  pool: Pool;
  tokens: TokenService;
  throttle: LoginThrottle;
  log: Logger;
  accessTokenTtlSeconds: number;
}): Promise<AuthService> {
  const { pool, tokens, throttle, log } = deps;
  // Made once, with today's parameters: unknown emails are checked against it.
  const unknownUserHash = await dummyHash();

  async function issue(user: UserRow, refreshToken: string): Promise<TokenResponse> {
    const shown = toUser(user);
    return { accessToken: await tokens.signAccessToken(shown), tokenType: 'Bearer', expiresIn: deps.accessTokenTtlSeconds, refreshToken, user: shown };
  }

  return {
    async register(body) {
      const email = normaliseEmail(body.email);
      if (!EMAIL_SHAPE.test(email)) {
        throw problems.badRequest('email must be an address like reader@example.com', [
          { field: 'body/email', message: 'must be an address like reader@example.com' },
        ]);
      }
      const name = body.name.trim();
      if (name === '') throw invalidField('name', 'name must not be blank');
      const weak = passwordProblem(body.password, email);
      if (weak) throw invalidField('password', weak);
      const passwordHash = await hashPassword(body.password);
      try {
        const row = await insertUser(pool, { id: randomUUID(), email, name, passwordHash, roles: ['customer'] });
        log.info({ userId: row.id }, 'account registered');
        return toUser(row);
      } catch (err) {
        if ((err as { code?: string }).code === UNIQUE_VIOLATION) {
          throw problems.conflict('An account with this email already exists; sign in instead, or use another email.');
        }
        throw err;
      }
    },

    async login(body, clientAddress) {
      const email = normaliseEmail(body.email);
      const attempt = await throttle.begin(email, clientAddress);
      let user: UserRow | undefined;
      let ok: boolean;
      try {
        user = await findUserByEmail(pool, email);
        ok = await verifyPassword(user?.passwordHash ?? unknownUserHash, body.password);
      } catch (err) {
        await throttle.abandon(attempt).catch(() => {});
        throw err;
      }
      if (!user || !ok) {
        log.info({ address: clientAddress, known: user !== undefined }, 'failed sign-in');
        throw problems.unauthorized(WRONG_CREDENTIALS);
      }
      await throttle.succeeded(attempt);
      if (needsRehash(user.passwordHash)) await updatePasswordHash(pool, user.id, await hashPassword(body.password));
      const signedIn = user;
      const refreshToken = await withTransaction(pool, (tx) => tokens.startFamily(tx, signedIn.id));
      return issue(user, refreshToken);
    },

    async refresh(refreshToken) {
      const outcome = await tokens.rotate(refreshToken);
      switch (outcome.kind) {
        case 'invalid':
          throw problems.unauthorized(INVALID_REFRESH);
        case 'reused':
          log.warn({ userId: outcome.userId, familyId: outcome.familyId }, 'a used refresh token was presented again; its sign-in is revoked');
          throw problems.unauthorized(INVALID_REFRESH);
        case 'rotated': {
          // Roles are read again: a promotion or demotion shows in the next access token.
          const user = await findUserById(pool, outcome.userId);
          if (!user) throw problems.unauthorized(INVALID_REFRESH);
          return issue(user, outcome.refreshToken);
        }
        default: {
          const never: never = outcome;
          throw new Error(`unknown rotation outcome ${JSON.stringify(never)}`);
        }
      }
    },

    async logout(refreshToken) {
      // Idempotent and silent: an unknown or already revoked token is a successful logout too.
      await tokens.revokeFamilyOf(refreshToken, 'logout');
    },
  };
}
