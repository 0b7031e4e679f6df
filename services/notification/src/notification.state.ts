/**
 * A notification's delivery: `pending → sent | failed`. Pending is the only state with a next step;
 * what a mailing attempt leads to is decided here (pure), the repository only records it.
 */

export type NotificationStatus = 'pending' | 'sent' | 'failed';

/** Which status may follow which: sent and failed are final. */
export const TRANSITIONS: { readonly [S in NotificationStatus]: readonly NotificationStatus[] } = {
  pending: ['pending', 'sent', 'failed'],
  sent: [],
  failed: [],
};

export const canMove = (from: NotificationStatus, to: NotificationStatus): boolean => TRANSITIONS[from].includes(to);

export interface RetryPolicy {
  /** Mailing attempts before giving up, the first included. */
  maxAttempts: number;
  /** The pause after the first failed attempt; it doubles with each further one. */
  baseDelayMs: number;
  /** The longest pause between two attempts. */
  maxDelayMs: number;
  /** How long a mail waits for its order's recipient (payment events can arrive before order.created). */
  recipientWaitMs: number;
}

/** What happened when the sender took up a pending notification. */
export type Attempt =
  | { kind: 'delivered'; email: string }
  /** The SMTP server did not take the mail. `permanent`: it refused the recipient for good (5xx on RCPT TO). */
  | { kind: 'send-failed'; email: string; error: string; permanent: boolean }
  /** No address to mail yet. `orderKnown`: the order's recipient is known, and has no e-mail address. */
  | { kind: 'no-address'; orderKnown: boolean };

/** The state a notification moves to, with the columns that go with it. */
export type Outcome =
  | { status: 'sent'; email: string; attempts: number }
  | { status: 'pending'; email: string | null; attempts: number; nextAttemptAt: Date; lastError: string }
  | { status: 'failed'; email: string | null; attempts: number; lastError: string };

/** Exponential backoff after `attempts` failed attempts, capped, with ±20 % jitter so instances spread out. */
export function retryDelayMs(attempts: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
  return Math.round(Math.min(policy.maxDelayMs, exp * (0.8 + random() * 0.4)));
}

/**
 * The outcome of an attempt on a notification that had `attempts` mailing attempts before and was
 * created at `createdAt`.
 */
export function decide(
  attempt: Attempt,
  row: { attempts: number; createdAt: Date },
  policy: RetryPolicy,
  now: Date = new Date(),
  random: () => number = Math.random,
): Outcome {
  switch (attempt.kind) {
    case 'delivered':
      return { status: 'sent', email: attempt.email, attempts: row.attempts + 1 };
    case 'send-failed': {
      const attempts = row.attempts + 1;
      if (attempt.permanent) return { status: 'failed', email: attempt.email, attempts, lastError: `the mail server refused the address: ${attempt.error}` };
      if (attempts >= policy.maxAttempts)
        return { status: 'failed', email: attempt.email, attempts, lastError: `gave up after ${attempts} attempts: ${attempt.error}` };
      return {
        status: 'pending',
        email: attempt.email,
        attempts,
        nextAttemptAt: new Date(now.getTime() + retryDelayMs(attempts, policy, random)),
        lastError: attempt.error,
      };
    }
    case 'no-address': {
      // Not a mailing attempt: `attempts` stays as it is.
      if (attempt.orderKnown) return { status: 'failed', email: null, attempts: row.attempts, lastError: 'the order has no e-mail address to send to' };
      const waited = now.getTime() - row.createdAt.getTime();
      if (waited >= policy.recipientWaitMs) {
        return {
          status: 'failed',
          email: null,
          attempts: row.attempts,
          lastError: 'the order this is about never became known, so there is no address to send to',
        };
      }
      // Looked at again as the wait goes on (sooner when order.created wakes it): about as long as it has waited so far.
      const pause = Math.min(policy.maxDelayMs, policy.recipientWaitMs - waited, Math.max(policy.baseDelayMs, waited));
      return {
        status: 'pending',
        email: null,
        attempts: row.attempts,
        nextAttemptAt: new Date(now.getTime() + pause),
        lastError: 'waiting for the order’s recipient',
      };
    }
    default: {
      const never: never = attempt;
      throw new Error(`unknown attempt ${JSON.stringify(never)}`);
    }
  }
}
