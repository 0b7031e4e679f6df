import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isbn10CheckDigit, isbn13CheckDigit, isbn13To10, isbnOfQuery, parseIsbn } from './isbn.ts';

describe('ISBN', () => {
  test('accepts a valid ISBN-13 with or without hyphens and spaces', () => {
    assert.deepEqual(parseIsbn('9780261102217'), { ok: true, isbn13: '9780261102217' });
    assert.deepEqual(parseIsbn('978-0-261-10221-7'), { ok: true, isbn13: '9780261102217' });
    assert.deepEqual(parseIsbn(' 978 0 261 10221 7 '), { ok: true, isbn13: '9780261102217' });
    assert.deepEqual(parseIsbn('979-10-90636-07-1'), { ok: true, isbn13: '9791090636071' });
  });

  test('converts an ISBN-10 to its ISBN-13, including an X check digit', () => {
    assert.deepEqual(parseIsbn('0-261-10221-4'), { ok: true, isbn13: '9780261102217' });
    assert.deepEqual(parseIsbn('0-8044-2957-X'), { ok: true, isbn13: '9780804429573' });
    assert.deepEqual(parseIsbn('080442957x'), { ok: true, isbn13: '9780804429573' });
  });

  test('refuses a wrong check digit, a wrong prefix and a wrong length, saying why', () => {
    const wrong13 = parseIsbn('9780261102218');
    assert.equal(wrong13.ok, false);
    assert.match(!wrong13.ok ? wrong13.reason : '', /check digit/);
    const wrong10 = parseIsbn('0261102215');
    assert.equal(wrong10.ok, false);
    const prefix = parseIsbn('1234567890128');
    assert.match(!prefix.ok ? prefix.reason : '', /978 or 979/);
    for (const bad of ['', '12345', '97802611022170', 'abcdefghij', '978026110221X', 'X261102214']) assert.equal(parseIsbn(bad).ok, false, bad);
  });

  test('check digits and the ISBN-10 of a 978 ISBN-13', () => {
    assert.equal(isbn13CheckDigit('978030640615'), '7');
    assert.equal(isbn10CheckDigit('030640615'), '2');
    assert.equal(isbn13To10('9780306406157'), '0306406152');
    assert.equal(isbn13To10('9791090636071'), undefined);
  });

  test('recognises a search query that is an ISBN, and only such a query', () => {
    assert.equal(isbnOfQuery('978-0-306-40615-7'), '9780306406157');
    assert.equal(isbnOfQuery('0306406152'), '9780306406157');
    assert.equal(isbnOfQuery('the hobbit'), undefined);
    assert.equal(isbnOfQuery('9780306406158'), undefined);
    assert.equal(isbnOfQuery('1984'), undefined);
  });
});
