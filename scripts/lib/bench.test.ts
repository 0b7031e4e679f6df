/** The benchmark's arithmetic: a wrong percentile or a loop that stops early would print wrong figures. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { closedLoop, inBatches, percentile } from './bench.ts';

describe('percentile (nearest rank)', () => {
  test('of 1..100 is the rank itself, whatever the input order', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    assert.equal(percentile(values, 50), 50);
    assert.equal(percentile(values, 95), 95);
    assert.equal(percentile(values, 99), 99);
    assert.equal(percentile(values, 100), 100);
  });
  test('of a few values rounds up to the next rank; of none is NaN', () => {
    assert.equal(percentile([30, 10, 20], 50), 20);
    assert.equal(percentile([30, 10, 20], 99), 30);
    assert.ok(Number.isNaN(percentile([], 50)));
  });
});

describe('load loops', () => {
  test('closedLoop keeps every slot busy until the time is up and collects results and errors apart', async () => {
    const perSlot = new Map<number, number>();
    const { results, errors, elapsedMs } = await closedLoop(3, 120, async (slot) => {
      perSlot.set(slot, (perSlot.get(slot) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 10));
      if ((perSlot.get(slot) ?? 0) % 4 === 0) throw new Error('every fourth fails');
      return slot;
    });
    assert.deepEqual([...perSlot.keys()].sort(), [0, 1, 2]);
    assert.ok(elapsedMs >= 120);
    assert.equal(
      results.length + errors.length,
      [...perSlot.values()].reduce((a, b) => a + b),
    );
    assert.ok(errors.length > 0 && results.length > errors.length);
  });
  test('inBatches keeps at most `limit` in flight and answers in input order', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await inBatches([5, 1, 4, 2, 3], 2, async (v) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, v * 3));
      inFlight--;
      return v * 10;
    });
    assert.deepEqual(out, [50, 10, 40, 20, 30]);
    assert.equal(most, 2);
  });
});
