/**
 * The mail sender: a background job that mails due pending notifications and records each outcome
 * (sent; pending again after a backoff; failed once attempts are spent). Every instance runs it; the
 * rows are claimed with FOR UPDATE SKIP LOCKED under a lease, so instances share the queue.
 *
 * At least once, not exactly once: if the mail went out but recording `sent` did not (the database
 * went away, the process died in between), the row is still pending under a lease that runs out, and
 * the mail is sent again, with the same Message-ID, so a receiver can recognise the repeat.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from '@folio/platform/db';
import type { Logger } from '@folio/platform/log';
import { Counter, type Registry } from 'prom-client';
import { MailError, type Mailer } from './mailer.ts';
import { type ClaimedMail, claimDue, recordOutcome } from './notification.repository.ts';
import { type Attempt, canMove, decide, type RetryPolicy } from './notification.state.ts';

export interface MailSenderOptions {
  pool: Pool;
  mailer: Mailer;
  log: Logger;
  policy: RetryPolicy;
  metrics?: Registry;
  /** How long a claim holds a row: longer than a send can take (the mailer's timeouts bound it). */
  leaseMs?: number;
}

export interface MailSender {
  /** One pass: mails up to `limit` due notifications; answers how many it took up. */
  sendDue(limit: number): Promise<number>;
}

export function createMailSender(opts: MailSenderOptions): MailSender {
  const { pool, mailer, log, policy } = opts;
  const leaseMs = opts.leaseMs ?? 120_000;
  const outcomes = opts.metrics
    ? new Counter({
        name: 'folio_notification_mail_attempts_total',
        help: 'Notifications the mail sender took up, by outcome',
        labelNames: ['outcome'],
        registers: [opts.metrics],
      })
    : undefined;

  async function attempt(mail: ClaimedMail): Promise<Attempt> {
    if (!mail.email) return { kind: 'no-address', orderKnown: mail.orderKnown };
    try {
      await mailer.send({ notificationId: mail.id, to: mail.email, subject: mail.subject, text: mail.message });
      return { kind: 'delivered', email: mail.email };
    } catch (err) {
      if (!(err instanceof MailError)) throw err;
      return { kind: 'send-failed', email: mail.email, error: err.message, permanent: err.permanent };
    }
  }

  async function handle(mail: ClaimedMail, leaseId: string): Promise<void> {
    const tried = await attempt(mail);
    const outcome = decide(tried, mail, policy);
    if (!canMove('pending', outcome.status)) throw new Error(`a pending notification cannot become ${outcome.status}`);
    const recorded = await recordOutcome(pool, mail.id, leaseId, outcome);
    const fields = { notificationId: mail.id, orderId: mail.orderId, attempts: outcome.attempts };
    if (!recorded) log.warn(fields, 'the claim on a notification ran out before its outcome was recorded; another pass takes it up');
    else if (outcome.status === 'failed') log.error({ ...fields, reason: outcome.lastError }, 'gave up mailing a notification');
    else if (tried.kind === 'send-failed')
      log.warn(
        { ...fields, err: tried.error, nextAttemptAt: outcome.status === 'pending' ? outcome.nextAttemptAt : undefined },
        'mailing a notification failed; will retry',
      );
    outcomes?.inc({
      outcome: tried.kind === 'no-address' && outcome.status === 'pending' ? 'waiting' : outcome.status === 'pending' ? 'retry' : outcome.status,
    });
  }

  return {
    async sendDue(limit) {
      const leaseId = randomUUID();
      const claimed = await claimDue(pool, { limit, leaseMs, leaseId });
      // In parallel: one slow server answer does not hold up the rest of the batch.
      const results = await Promise.allSettled(claimed.map((mail) => handle(mail, leaseId)));
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      // An outcome that could not be recorded stays claimed: its lease runs out and it is tried again.
      if (failed.length > 0)
        throw new AggregateError(
          failed.map((f) => f.reason),
          `${failed.length} of ${claimed.length} notifications could not be recorded`,
        );
      return claimed.length;
    },
  };
}
