import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { needsRehash, passwordProblem } from './password.ts';

describe('password policy', () => {
  const email = 'alice.smith@example.com';

  test('accepts passphrases and ordinary strong passwords', () => {
    for (const ok of ['correct horse battery staple', 'Tr0ub4dor&3xyz', 'alice.smith loves long books', '📚 books and ☕ coffee']) {
      assert.equal(passwordProblem(ok, email), undefined, ok);
    }
    // A two-letter local part is too short to count as "the email".
    assert.equal(passwordProblem('al-is-writing-a-novel', 'al@example.com'), undefined);
  });

  test('counts characters as a reader does (code points)', () => {
    // 9 code points, 18 UTF-16 units.
    assert.match(passwordProblem('📚🙂☕🌙📚🙂☕🌙📚', email) ?? '', /at least 10/);
    assert.equal(passwordProblem('📚🙂☕🌙'.repeat(32), email), undefined);
    assert.match(passwordProblem(`${'📚🙂☕🌙'.repeat(32)}x`, email) ?? '', /at most 128/);
  });

  test('refuses common passwords whatever their case, too few distinct characters, and the email', () => {
    assert.match(passwordProblem('PASSWORD123', email) ?? '', /commonly used/);
    assert.match(passwordProblem('1111111111', email) ?? '', /commonly used/);
    assert.match(passwordProblem('abcabcabcabc', email) ?? '', /too few different characters/);
    assert.match(passwordProblem('Alice.Smith1', email) ?? '', /mostly your email/);
    assert.match(passwordProblem('xalice.smith@example.comx', email) ?? '', /mostly your email/);
  });

  test('hashes made with other parameters are due for a rehash', () => {
    assert.equal(needsRehash('$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$5bS2b6vvH1HIZ6gyhw6aZIgxsAkNh1g2Jq+dDQ9U2Hs'), false);
    assert.equal(needsRehash('$argon2id$v=19$m=4096,t=3,p=1$c29tZXNhbHRzb21lc2FsdA$5bS2b6vvH1HIZ6gyhw6aZIgxsAkNh1g2Jq+dDQ9U2Hs'), true);
    assert.equal(needsRehash('not a hash'), true);
  });
});
