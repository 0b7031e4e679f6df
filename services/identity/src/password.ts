/**
 * Passwords: the policy a new password must meet, and argon2id hashing.
 *
 * The policy follows NIST SP 800-63B: a minimum length, no composition rules, but a refusal of
 * passwords that are known to be common or that are mostly the account's own email.
 */
import { randomBytes } from 'node:crypto';
import { hash, parseOptions, verify } from '@node-rs/argon2';

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 128;

/**
 * OWASP's argon2id baseline (m = 19 MiB, t = 2, p = 1). `algorithm` is left to the library's
 * default, which is argon2id (its const enum cannot be referenced under isolatedModules).
 */
const ARGON2ID = 2;
const HASH_OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1, outputLen: 32 } as const;

/** The most common passwords that are long enough to pass the length rule (lower-case). */
const COMMON_PASSWORDS = new Set([
  '1234567890',
  '0987654321',
  '12345678910',
  '123456789012',
  '1234567890123',
  '123123123123',
  '1111111111',
  '0000000000',
  '1q2w3e4r5t',
  '1q2w3e4r5t6y',
  '1qaz2wsx3edc',
  'zaq12wsxcde3',
  'qwertyuiop',
  'qwerty1234',
  'qwerty12345',
  'qwerty123456',
  'qwertyuiop123',
  'asdfghjkl1',
  'asdfghjkl123',
  'zxcvbnm123',
  'qazwsxedc123',
  'password12',
  'password123',
  'password1234',
  'password12345',
  'password1!',
  'passw0rd123',
  'p@ssw0rd123',
  'iloveyou12',
  'iloveyou123',
  'letmein123',
  'letmeinplease',
  'welcome123',
  'welcome1234',
  'changeme123',
  'administrator',
  'football123',
  'baseball123',
  'sunshine123',
  'princess123',
  'superman123',
  'starwars123',
  'dragon1234',
  'monkey1234',
  'trustno1234',
  'abcdefghij',
  'abcd1234567',
  'abc1234567',
  'folio12345',
  'bookshop123',
]);

/** Why the password is not acceptable for this email, or undefined when it is. `email` is normalised. */
export function passwordProblem(password: string, email: string): string | undefined {
  // Code points, not UTF-16 units: an emoji counts as one character, as a user would count it.
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return `password must be at least ${PASSWORD_MIN_LENGTH} characters long; a short sentence is easy to remember`;
  if (length > PASSWORD_MAX_LENGTH) return `password must be at most ${PASSWORD_MAX_LENGTH} characters long`;
  const lower = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lower)) return 'password is one of the most commonly used passwords; choose one that is not easy to guess';
  if (new Set(lower).size < 4) return 'password uses too few different characters; choose one that is not easy to guess';
  if (isMostlyEmail(lower, email)) return 'password is mostly your email address; choose one that is not easy to guess';
  return undefined;
}

/** True when more than half of the password is the email or its local part (e.g. "alice.smith2024"). */
function isMostlyEmail(password: string, email: string): boolean {
  const local = email.split('@')[0] ?? '';
  if (password.includes(email)) return true;
  if (local.length < 3) return false;
  if (local.includes(password)) return true;
  const rest = password.replaceAll(local, '');
  return rest.length * 2 < password.length;
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, HASH_OPTIONS);
}

export function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  return verify(passwordHash, password);
}

/** True when the stored hash was made with other parameters than today's (it is rehashed at the next login). */
export function needsRehash(passwordHash: string): boolean {
  try {
    const o = parseOptions(passwordHash);
    return (
      Number(o.algorithm) !== ARGON2ID ||
      o.memoryCost !== HASH_OPTIONS.memoryCost ||
      o.timeCost !== HASH_OPTIONS.timeCost ||
      o.parallelism !== HASH_OPTIONS.parallelism
    );
  } catch {
    return true;
  }
}

/**
 * A hash of a random password made with today's parameters: logins for an unknown email verify
 * against it, so they take as long as logins with a wrong password (no account enumeration by timing).
 */
export function dummyHash(): Promise<string> {
  return hashPassword(randomBytes(32).toString('base64url'));
}
