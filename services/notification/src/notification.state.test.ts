import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canMove, decide, type RetryPolicy, retryDelayMs } from './notification.state.ts';

const policy: RetryPolicy = { maxAttempts: 4, baseDelayMs: 1000, maxDelayMs: 5000, recipientWaitMs: 60_000 };
const now = new Date('2026-11-20T12:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);
const noJitter = () => 0.5;

describe('transitions', () => {
  test('only a pending notification moves; sent and failed are final', () => {
    assert.ok(canMove('pending', 'sent') && canMove('pending', 'failed') && canMove('pending', 'pending'));
    for (const to of ['pending', 'sent', 'failed'] as const) {
      assert.equal(canMove('sent', to), false);
      assert.equal(canMove('failed', to), false);
    }
  });
});

describe('backoff', () => {
  test('doubles from the base and stops at the cap', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 40].map((n) => retryDelayMs(n, policy, noJitter)),
      [1000, 2000, 4000, 5000, 5000, 5000],
    );
  });

  test('jitter stays within ±20 % and under the cap', () => {
    assert.equal(
      retryDelayMs(1, policy, () => 0),
      800,
    );
    assert.equal(
      retryDelayMs(1, policy, () => 0.9999999),
      1200,
    );
    assert.equal(
      retryDelayMs(3, policy, () => 0.9999999),
      4800,
    );
    assert.equal(
      retryDelayMs(4, policy, () => 0.9999999),
      5000,
    );
  });
});

describe('decide', () => {
  const row = { attempts: 0, createdAt: ago(1000) };

  test('a delivered mail is sent, counting the attempt', () => {
    assert.deepEqual(decide({ kind: 'delivered', email: 'ada@example.org' }, row, policy, now), { status: 'sent', email: 'ada@example.org', attempts: 1 });
  });

  test('a failed send waits with backoff, and fails once the attempts are spent', () => {
    const failed = { kind: 'send-failed', email: 'ada@example.org', error: 'connect ECONNREFUSED', permanent: false } as const;
    assert.deepEqual(decide(failed, row, policy, now, noJitter), {
      status: 'pending',
      email: 'ada@example.org',
      attempts: 1,
      nextAttemptAt: new Date(now.getTime() + 1000),
      lastError: 'connect ECONNREFUSED',
    });
    const third = decide(failed, { ...row, attempts: 2 }, policy, now, noJitter);
    assert.equal(third.status === 'pending' && third.nextAttemptAt.getTime() - now.getTime(), 4000);
    assert.deepEqual(decide(failed, { ...row, attempts: 3 }, policy, now), {
      status: 'failed',
      email: 'ada@example.org',
      attempts: 4,
      lastError: 'gave up after 4 attempts: connect ECONNREFUSED',
    });
  });

  test('a recipient refused for good fails at once', () => {
    const out = decide({ kind: 'send-failed', email: 'nobody@example.org', error: '550 No such mailbox', permanent: true }, row, policy, now);
    assert.deepEqual(out, {
      status: 'failed',
      email: 'nobody@example.org',
      attempts: 1,
      lastError: 'the mail server refused the address: 550 No such mailbox',
    });
  });

  test('without an address: waits for the order’s recipient within the bound, then fails; not a mailing attempt', () => {
    const waiting = decide({ kind: 'no-address', orderKnown: false }, { attempts: 0, createdAt: ago(3000) }, policy, now);
    assert.equal(waiting.status, 'pending');
    assert.equal(waiting.attempts, 0);
    assert.equal(waiting.status === 'pending' && waiting.nextAttemptAt.getTime() - now.getTime(), 3000, 'about as long as it waited so far');
    const late = decide({ kind: 'no-address', orderKnown: false }, { attempts: 0, createdAt: ago(58_000) }, policy, now);
    assert.equal(late.status === 'pending' && late.nextAttemptAt.getTime() - now.getTime(), 2000, 'never past the end of the wait');
    const over = decide({ kind: 'no-address', orderKnown: false }, { attempts: 0, createdAt: ago(60_000) }, policy, now);
    assert.equal(over.status, 'failed');
    assert.match(over.status === 'failed' ? over.lastError : '', /never became known/);
    const none = decide({ kind: 'no-address', orderKnown: true }, row, policy, now);
    assert.deepEqual(none, { status: 'failed', email: null, attempts: 0, lastError: 'the order has no e-mail address to send to' });
  });
});
