import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DUPLICATE_PAYMENT_REASON, PAYMENT_STATUSES, type PaymentStatus, type PaymentTrigger, type Transition, transition } from './payment.state.ts';

const TRIGGERS: PaymentTrigger[] = [
  { kind: 'captured' },
  { kind: 'declined', reason: 'Your card was declined.' },
  { kind: 'cancelled', reason: 'cancelled by the reader' },
  { kind: 'expired' },
  { kind: 'refunded' },
  { kind: 'duplicate' },
];

const moves = (from: PaymentStatus) =>
  TRIGGERS.map((t) => [t.kind, transition(from, t)] as const)
    .filter(([, r]) => r.kind === 'move')
    .map(([k, r]) => `${k}→${(r as Extract<Transition, { kind: 'move' }>).to.status}`);

describe('the payment state machine', () => {
  test('pending ends in exactly one of success, failed, cancelled, timeout', () => {
    assert.deepEqual(moves('pending'), ['captured→success', 'declined→failed', 'cancelled→cancelled', 'expired→timeout', 'duplicate→failed']);
  });

  test('success can only be refunded', () => {
    assert.deepEqual(moves('success'), ['refunded→refunded']);
  });

  test('the late-capture edge: failed, cancelled and timeout become success only on a capture the gateway reports', () => {
    for (const from of ['failed', 'cancelled', 'timeout'] as const) {
      assert.deepEqual(moves(from), ['captured→success'], from);
      const r = transition(from, { kind: 'captured' });
      assert.equal(r.kind, 'move');
      assert.equal(r.kind === 'move' && r.lateCapture, true);
    }
    const onTime = transition('pending', { kind: 'captured' });
    assert.equal(onTime.kind === 'move' && onTime.lateCapture, false);
  });

  test('refunded is final', () => {
    assert.deepEqual(moves('refunded'), []);
  });

  test('nothing ever moves back to pending, and no trigger leaves success except a refund', () => {
    for (const from of PAYMENT_STATUSES) {
      for (const trigger of TRIGGERS) {
        const r = transition(from, trigger);
        if (r.kind === 'move') assert.notEqual(r.to.status, 'pending', `${from} + ${trigger.kind}`);
        if (from === 'success' && trigger.kind !== 'refunded') assert.notEqual(r.kind, 'move', `success + ${trigger.kind}`);
      }
    }
  });

  test('out-of-order events are refused, repeats are no-ops', () => {
    assert.deepEqual(transition('success', { kind: 'declined', reason: 'late decline' }), { kind: 'refuse', status: 'success', trigger: 'declined' });
    assert.deepEqual(transition('success', { kind: 'expired' }), { kind: 'refuse', status: 'success', trigger: 'expired' });
    assert.deepEqual(transition('refunded', { kind: 'expired' }), { kind: 'refuse', status: 'refunded', trigger: 'expired' });
    assert.deepEqual(transition('pending', { kind: 'refunded' }), { kind: 'refuse', status: 'pending', trigger: 'refunded' });
    assert.deepEqual(transition('timeout', { kind: 'declined', reason: 'x' }), { kind: 'refuse', status: 'timeout', trigger: 'declined' });
    assert.deepEqual(transition('success', { kind: 'captured' }), { kind: 'same', status: 'success' });
    assert.deepEqual(transition('refunded', { kind: 'refunded' }), { kind: 'same', status: 'refunded' });
    // The echo of our own expiry after a cancel or a timeout.
    assert.deepEqual(transition('cancelled', { kind: 'expired' }), { kind: 'same', status: 'cancelled' });
    assert.deepEqual(transition('timeout', { kind: 'expired' }), { kind: 'same', status: 'timeout' });
  });

  test('the state entered carries its reason', () => {
    assert.deepEqual(transition('pending', { kind: 'declined', reason: 'Your card has insufficient funds.' }), {
      kind: 'move',
      from: 'pending',
      to: { status: 'failed', reason: 'Your card has insufficient funds.' },
      lateCapture: false,
    });
    assert.deepEqual(transition('pending', { kind: 'duplicate' }), {
      kind: 'move',
      from: 'pending',
      to: { status: 'failed', reason: DUPLICATE_PAYMENT_REASON },
      lateCapture: false,
    });
    assert.deepEqual(transition('pending', { kind: 'cancelled', reason: 'replaced by attempt 2' }), {
      kind: 'move',
      from: 'pending',
      to: { status: 'cancelled', reason: 'replaced by attempt 2' },
      lateCapture: false,
    });
  });

  test('a duplicate capture never makes a success', () => {
    for (const from of PAYMENT_STATUSES) {
      const r = transition(from, { kind: 'duplicate' });
      if (r.kind === 'move') assert.notEqual(r.to.status, 'success');
    }
  });
});
