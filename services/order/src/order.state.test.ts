import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CANCEL_REASONS, canTransition, ORDER_STATUSES, type OrderEvent, type OrderStatus, TRANSITIONS, timelineOf, transition } from './order.state.ts';

const pay: OrderEvent = { type: 'pay', paymentId: 'p-1' };
const cancel: OrderEvent = { type: 'cancel', reason: CANCEL_REASONS.windowClosed };
const refund: OrderEvent = { type: 'refund', paymentId: 'p-1', restock: true };
const EVENTS: readonly OrderEvent[] = [pay, cancel, refund];

describe('the order state machine', () => {
  test('the allowed transitions, and only those', () => {
    const allowed: Array<[OrderStatus, OrderEvent, OrderStatus]> = [
      ['created', pay, 'paid'],
      ['created', cancel, 'cancelled'],
      ['paid', refund, 'refunded'],
      ['cancelled', refund, 'refunded'],
    ];
    for (const from of ORDER_STATUSES) {
      for (const event of EVENTS) {
        const expected: OrderStatus | undefined = allowed.find(([f, e]) => f === from && e === event)?.[2];
        const result = transition(from, event);
        if (expected) {
          assert.deepEqual(result, { ok: true, from, to: expected, event }, `${from} --${event.type}--> ${expected}`);
          assert.equal(canTransition(from, event.type), true);
        } else {
          assert.equal(result.ok, false, `${from} --${event.type}--> must be refused`);
          assert.equal(canTransition(from, event.type), false);
        }
      }
    }
  });

  test('a refused transition says why in words', () => {
    const result = transition('refunded', pay);
    assert.equal(result.ok, false);
    assert.ok(!result.ok && /refunded cannot be paid/.test(result.reason), JSON.stringify(result));
    const twice = transition('paid', pay);
    assert.ok(!twice.ok && /paid cannot be paid/.test(twice.reason));
    assert.ok(!transition('cancelled', pay).ok, 'a cancelled order is never paid: its late payment is refunded instead');
    assert.ok(!transition('paid', cancel).ok, 'a paid order is refunded, not cancelled');
  });

  test('every status has a row, and refunded is final', () => {
    assert.deepEqual(Object.keys(TRANSITIONS).sort(), [...ORDER_STATUSES].sort());
    assert.deepEqual(TRANSITIONS.refunded, {});
  });

  test('the timeline names each transition and its detail', () => {
    assert.deepEqual(timelineOf(pay), { event: 'paid', detail: 'payment p-1' });
    assert.deepEqual(timelineOf({ type: 'cancel', reason: CANCEL_REASONS.noStockAfterPayment }), { event: 'cancelled', detail: 'out of stock after payment' });
    assert.match(timelineOf(refund).detail ?? '', /return to stock/);
    assert.doesNotMatch(timelineOf({ type: 'refund', paymentId: 'p', restock: false }).detail ?? '', /stock/);
  });
});
