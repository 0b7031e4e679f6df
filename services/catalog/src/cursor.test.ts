import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CursorError, decodeCursor, encodeCursor, type SortOrder } from './cursor.ts';

const id = '4698ed8f-472e-564d-a01d-326ea3c58086';
const raw = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('listing cursors', () => {
  test('round-trip every sort order, opaque and URL-safe', () => {
    const positions = [
      { sort: 'title', key: "The Queen's Tapestry / 2", id },
      { sort: 'price_asc', key: '1299', id },
      { sort: 'price_desc', key: '4999', id },
      { sort: 'newest', key: '2025-11-21T20:19:32.476915Z', id },
      { sort: 'relevance', key: '10.607927', id },
    ] as const;
    for (const p of positions) {
      const cursor = encodeCursor(p);
      assert.match(cursor, /^[A-Za-z0-9_-]+$/);
      assert.deepEqual(decodeCursor(cursor, p.sort), p);
    }
  });

  test('refuses anything it did not hand out, and a cursor of another sort order', () => {
    const bad: Array<[string, SortOrder]> = [
      ['abc', 'title'],
      ['!!!', 'title'],
      [raw([1, 2]), 'title'],
      [raw(null), 'title'],
      [raw({ s: 'title', k: 'x' }), 'title'],
      [raw({ s: 'title', k: 'x', i: 'not-a-uuid' }), 'title'],
      [raw({ s: 'bogus', k: 'x', i: id }), 'title'],
      [raw({ s: 'title', k: '', i: id }), 'title'],
      [raw({ s: 'price_asc', k: '12.5', i: id }), 'price_asc'],
      [raw({ s: 'price_asc', k: "1'; DROP TABLE books; --", i: id }), 'price_asc'],
      [raw({ s: 'newest', k: '2025-02-30T10:00:00.000000Z', i: id }), 'newest'],
      [raw({ s: 'newest', k: 'yesterday', i: id }), 'newest'],
      [raw({ s: 'relevance', k: 'NaN', i: id }), 'relevance'],
    ];
    for (const [cursor, sort] of bad) assert.throws(() => decodeCursor(cursor, sort), CursorError, cursor);
    assert.throws(() => decodeCursor(encodeCursor({ sort: 'title', key: 'A', id }), 'price_asc'), /sorted by title, not price_asc/);
  });
});
