/**
 * The sender on its own, against real PostgreSQL and a real SMTP server: instances sharing the queue
 * mail each notification once, and a mail whose outcome was never recorded (the sender died after
 * sending) is sent again with the same Message-ID.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { migrate, withTransaction } from '@folio/platform/db';
import { createLogger } from '@folio/platform/log';
import { createTestDatabase, type TestDatabase } from '@folio/platform/testing';
import { createMailSender } from './mail.sender.ts';
import { createMailer, type Mailer } from './mailer.ts';
import { claimDue, insertNotification, recordOutcome } from './notification.repository.ts';
import type { RetryPolicy } from './notification.state.ts';
import { startTestSmtp, type TestSmtp } from './smtp.fixture.ts';

const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 200, recipientWaitMs: 60_000 };
const log = createLogger({ name: 'notification-sender-test', level: 'silent' });

let db: TestDatabase;
let smtp: TestSmtp & { close(): Promise<void> };
let mailers: Mailer[];

before(async () => {
  db = await createTestDatabase('notification-sender');
  await migrate(db.pool, [fileURLToPath(new URL('../migrations', import.meta.url))]);
  smtp = await startTestSmtp();
});
after(async () => {
  for (const m of mailers) m.close();
  await smtp.close();
  await db.drop();
});
beforeEach(async () => {
  await db.pool.query('DELETE FROM notifications');
  smtp.received.length = 0;
  mailers = [];
});

const mailer = () => {
  const m = createMailer({ url: smtp.url, from: 'Folio <orders@folio.example>' });
  mailers.push(m);
  return m;
};

async function pending(n: number): Promise<string[]> {
  const ids: string[] = [];
  await withTransaction(db.pool, async (tx) => {
    for (let i = 0; i < n; i++) {
      const id = randomUUID();
      ids.push(id);
      await insertNotification(tx, {
        id,
        userId: `reader-${i}`,
        orderId: randomUUID(),
        eventId: randomUUID(),
        type: 'order-paid',
        subject: `Mail ${i}`,
        message: `Hello ${i}`,
        email: `reader-${i}@example.org`,
        status: 'pending',
      });
    }
  });
  return ids;
}

const statuses = async () => (await db.pool.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM notifications GROUP BY status')).rows;

describe('the mail sender', () => {
  test('three instances draining one queue together mail each notification exactly once', async () => {
    const ids = await pending(45);
    const senders = [0, 1, 2].map(() => createMailSender({ pool: db.pool, mailer: mailer(), log, policy }));
    const taken = [0, 0, 0];
    // Each pass takes a small batch, so the instances interleave on the same rows.
    await Promise.all(
      senders.map(async (s, i) => {
        for (;;) {
          const n = await s.sendDue(4);
          taken[i]! += n;
          if (n === 0) break;
        }
      }),
    );
    assert.equal(
      taken.reduce((a, b) => a + b),
      45,
      `each row taken up once (${taken.join(' + ')})`,
    );
    assert.ok(taken.filter((n) => n > 0).length >= 2, `the work was shared: ${taken.join(' + ')}`);
    assert.deepEqual(await statuses(), [{ status: 'sent', n: 45 }]);
    const counts = smtp.countsByMessageId();
    assert.equal(smtp.received.length, 45);
    assert.deepEqual(new Set([...counts.keys()].map((m) => /notification-(.*)@/.exec(m)?.[1])), new Set(ids));
    assert.ok([...counts.values()].every((c) => c === 1));
  });

  test('a mail sent by an instance that died before recording it is sent again, with the same Message-ID', async () => {
    const [id] = await pending(1);
    // The instance that dies: it claims the row, mails it, and never records the outcome.
    const deadLease = randomUUID();
    const [claimed] = await claimDue(db.pool, { limit: 10, leaseMs: 300, leaseId: deadLease });
    assert.equal(claimed?.id, id);
    await mailer().send({ notificationId: claimed!.id, to: claimed!.email!, subject: claimed!.subject, text: claimed!.message });

    const sender = createMailSender({ pool: db.pool, mailer: mailer(), log, policy });
    assert.equal(await sender.sendDue(10), 0, 'not taken up while the claim holds');
    await new Promise((r) => setTimeout(r, 350));
    assert.equal(await sender.sendDue(10), 1, 'taken up once the claim ran out');

    assert.equal(smtp.received.length, 2);
    assert.equal(smtp.received[0]!.messageId, `<notification-${id}@folio.example>`);
    assert.equal(smtp.received[1]!.messageId, smtp.received[0]!.messageId, 'a receiver can tell it is the same message');
    // The dead instance's outcome, if it came now, would not overwrite what was recorded since.
    assert.equal(
      await recordOutcome(db.pool, id!, deadLease, { status: 'pending', email: null, attempts: 9, nextAttemptAt: new Date(), lastError: 'late' }),
      false,
    );
    const { rows } = await db.pool.query('SELECT status, attempts, lease_id FROM notifications WHERE id = $1', [id]);
    assert.deepEqual(rows[0], { status: 'sent', attempts: 1, lease_id: null });
  });
});
