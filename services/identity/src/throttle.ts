/**
 * Login throttling per account (the normalised email, whether or not it exists) and per client
 * address, over a sliding window, kept in PostgreSQL so every instance of the service counts the
 * same failures.
 *
 * An attempt is charged *before* the password is checked and refunded when it succeeds (or is
 * refused by the throttle): the k-th attempt to commit its row sees at least k rows, so a burst of
 * concurrent guesses cannot slip past the limit while the slow password checks are running.
 */
import type { Pool } from '@folio/platform/db';
import { problems } from '@folio/platform/problem';

export interface ThrottleLimits {
  maxFailuresPerAccount: number;
  maxFailuresPerAddress: number;
  windowSeconds: number;
}

type Scope = 'account' | 'address';

export interface LoginAttempt {
  account: string;
  address: string;
  /** The rows charged for this attempt: the account's and the address's. */
  rowIds: string[];
}

export interface LoginThrottle {
  /** Charges the attempt, or throws a 429 (with Retry-After) while the account or the address is blocked. */
  begin(account: string, address: string): Promise<LoginAttempt>;
  /** The password was right: the account's failures are forgotten, and this attempt's address charge refunded. */
  succeeded(attempt: LoginAttempt): Promise<void>;
  /** The attempt did not get to a verdict (an unexpected error): refund it. */
  abandon(attempt: LoginAttempt): Promise<void>;
  /** Deletes one batch of failures older than the window; returns how many. */
  sweep(batchSize: number): Promise<number>;
}

export function createLoginThrottle(pool: Pool, limits: ThrottleLimits): LoginThrottle {
  const window = limits.windowSeconds;
  const maxOf = (scope: Scope) => (scope === 'account' ? limits.maxFailuresPerAccount : limits.maxFailuresPerAddress);

  /** Seconds until fewer than `max` failures of the key remain in the window. */
  async function secondsUntilFree(scope: Scope, key: string): Promise<number> {
    const { rows } = await pool.query<{ wait: number }>(
      `SELECT EXTRACT(EPOCH FROM failed_at + make_interval(secs => $3) - clock_timestamp())::float8 AS wait
         FROM login_failures WHERE scope = $1 AND key = $2 AND failed_at > clock_timestamp() - make_interval(secs => $3)
        ORDER BY failed_at DESC OFFSET $4 LIMIT 1`,
      [scope, key, window, maxOf(scope) - 1],
    );
    return Math.max(1, Math.ceil(rows[0]?.wait ?? 1));
  }

  const refund = (ids: string[]) => pool.query('DELETE FROM login_failures WHERE id = ANY ($1::bigint[])', [ids]);

  return {
    async begin(account, address) {
      const { rows: charged } = await pool.query<{ id: string }>(
        `INSERT INTO login_failures (scope, key) VALUES ('account', $1), ('address', $2) RETURNING id`,
        [account, address],
      );
      const rowIds = charged.map((r) => r.id);
      const { rows } = await pool.query<{ scope: Scope; n: number }>(
        `SELECT scope, count(*)::int AS n FROM login_failures
          WHERE ((scope = 'account' AND key = $1) OR (scope = 'address' AND key = $2))
            AND failed_at > clock_timestamp() - make_interval(secs => $3)
          GROUP BY scope`,
        [account, address, window],
      );
      // The counts include this attempt's own charge, so "more than max" means max failures before it.
      const blocked = rows.filter((r) => r.n > maxOf(r.scope)).map((r) => r.scope);
      if (blocked.length === 0) return { account, address, rowIds };

      await refund(rowIds);
      const waits = await Promise.all(blocked.map((scope) => secondsUntilFree(scope, scope === 'account' ? account : address)));
      const wait = Math.max(...waits);
      const what = blocked.includes('account') ? 'this account' : 'your network address';
      throw problems.tooManyRequests(`Too many failed sign-ins for ${what}; try again in ${describeWait(wait)}.`, wait);
    },

    async succeeded(attempt) {
      await pool.query(`DELETE FROM login_failures WHERE (scope = 'account' AND key = $1) OR id = ANY ($2::bigint[])`, [attempt.account, attempt.rowIds]);
    },

    async abandon(attempt) {
      await refund(attempt.rowIds);
    },

    async sweep(batchSize) {
      const { rowCount } = await pool.query(
        `DELETE FROM login_failures WHERE id IN (
           SELECT id FROM login_failures WHERE failed_at < clock_timestamp() - make_interval(secs => $1) LIMIT $2 FOR UPDATE SKIP LOCKED)`,
        [window, batchSize],
      );
      return rowCount ?? 0;
    },
  };
}

function describeWait(seconds: number): string {
  if (seconds < 90) return `${seconds} seconds`;
  return `${Math.ceil(seconds / 60)} minutes`;
}
