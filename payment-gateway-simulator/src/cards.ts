/**
 * What a card submitted on the hosted page is worth: the form checks (Luhn, MM/YY not in the past, a 3–4
 * digit CVC), and the outcome of charging it — Stripe's test cards in `cards` mode, or a seeded draw in
 * `random` mode (the same seed always gives the same sequence of outcomes).
 */

export interface Card {
  /** Digits only. */
  number: string;
  last4: string;
  brand: 'visa' | 'mastercard' | 'amex' | 'discover' | 'unknown';
  expMonth: number;
  /** Four digits. */
  expYear: number;
}

export type CardField = 'cardNumber' | 'expiry' | 'cvc';

export interface CardFieldError {
  field: CardField;
  message: string;
}

export type CardCheck = { ok: true; card: Card } | { ok: false; errors: CardFieldError[] };

export interface CardInput {
  cardNumber?: string | undefined;
  expiry?: string | undefined;
  cvc?: string | undefined;
}

/** The Luhn checksum every card number carries in its last digit. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function brandOf(digits: string): Card['brand'] {
  if (digits.startsWith('4')) return 'visa';
  if (/^(5[1-5]|2(2[2-9]|[3-6]\d|7[01]|720))/.test(digits)) return 'mastercard';
  if (/^3[47]/.test(digits)) return 'amex';
  if (/^6(011|5)/.test(digits)) return 'discover';
  return 'unknown';
}

/** Checks the three fields of the form; `now` decides whether an expiry date is in the past. */
export function checkCard(input: CardInput, now: Date = new Date()): CardCheck {
  const errors: CardFieldError[] = [];

  // People type card numbers in groups: spaces and dashes are not part of the number.
  const digits = (input.cardNumber ?? '').replace(/[\s-]/g, '');
  if (digits === '') errors.push({ field: 'cardNumber', message: 'Enter the card number.' });
  else if (!/^\d{12,19}$/.test(digits)) errors.push({ field: 'cardNumber', message: 'The card number must be 12 to 19 digits.' });
  else if (!luhnValid(digits)) errors.push({ field: 'cardNumber', message: 'The card number is not valid: check it for a typing mistake.' });

  let expMonth = 0;
  let expYear = 0;
  const expiry = /^\s*(\d{2})\s*\/\s*(\d{2})\s*$/.exec(input.expiry ?? '');
  if (!expiry) {
    errors.push({ field: 'expiry', message: 'Enter the expiry date as MM/YY, for example 04/29.' });
  } else {
    expMonth = Number(expiry[1]);
    expYear = 2000 + Number(expiry[2]);
    if (expMonth < 1 || expMonth > 12) errors.push({ field: 'expiry', message: 'The expiry month must be between 01 and 12.' });
    else if (expYear * 12 + expMonth < now.getUTCFullYear() * 12 + now.getUTCMonth() + 1) {
      // A card is valid until the end of its expiry month.
      errors.push({ field: 'expiry', message: 'The expiry date is in the past.' });
    }
  }

  if (!/^\d{3,4}$/.test((input.cvc ?? '').trim())) errors.push({ field: 'cvc', message: 'The security code (CVC) must be 3 or 4 digits.' });

  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, card: { number: digits, last4: digits.slice(-4), brand: brandOf(digits), expMonth, expYear } };
}

// ---------------------------------------------------------------------------------------------
// Outcomes

/** A card_error as Stripe reports it in `last_payment_error`. */
export interface Decline {
  code: string;
  decline_code: string;
  message: string;
}

export const DECLINES = {
  generic_decline: { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' },
  insufficient_funds: { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' },
  expired_card: { code: 'expired_card', decline_code: 'expired_card', message: 'Your card has expired.' },
  processing_error: {
    code: 'processing_error',
    decline_code: 'processing_error',
    message: 'An error occurred while processing your card. Try again in a little bit.',
  },
  incorrect_number: { code: 'incorrect_number', decline_code: 'incorrect_number', message: 'Your card number is incorrect.' },
  card_velocity_exceeded: {
    code: 'card_declined',
    decline_code: 'card_velocity_exceeded',
    message: 'Your card was declined for making repeated attempts too frequently or exceeding its amount limit.',
  },
  issuer_not_available: {
    code: 'card_declined',
    decline_code: 'issuer_not_available',
    message: 'Your card was declined: the card issuer could not be reached. Try again in a little bit.',
  },
} as const satisfies Record<string, Decline>;

export type DeclineReason = keyof typeof DECLINES;

/** Stripe's test cards that decline, by number; every other valid number succeeds. */
export const TEST_CARDS: Readonly<Record<string, DeclineReason>> = {
  '4000000000000002': 'generic_decline',
  '4000000000009995': 'insufficient_funds',
  '4000000000000069': 'expired_card',
  '4000000000000119': 'processing_error',
};

/**
 * The failures of the random mode, from the product spec (seed 004): insufficient funds, card declined,
 * invalid card details, transaction limit exceeded, gateway timeout — as Stripe's decline codes.
 */
export const RANDOM_FAILURES: readonly DeclineReason[] = [
  'insufficient_funds',
  'generic_decline',
  'incorrect_number',
  'card_velocity_exceeded',
  'issuer_not_available',
];

export type Outcome = { ok: true } | { ok: false; reason: DeclineReason; decline: (typeof DECLINES)[DeclineReason] };

const declined = (reason: DeclineReason): Outcome => ({ ok: false, reason, decline: DECLINES[reason] });

export function testCardOutcome(card: Card): Outcome {
  const reason = TEST_CARDS[card.number];
  return reason ? declined(reason) : { ok: true };
}

/** mulberry32: a small, fast PRNG whose whole state is one 32-bit integer, so a seed fixes the sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type OutcomeMode = 'cards' | 'random';

export interface OutcomeOptions {
  mode: OutcomeMode;
  /** random mode: the probability that a valid card is accepted, 0–1. */
  successRate: number;
  seed: number;
}

/** Decides each charge. In random mode every decision draws from the seeded sequence (restarted by reset()). */
export class Outcomes {
  readonly #opts: OutcomeOptions;
  #random: () => number;

  constructor(opts: OutcomeOptions) {
    if (!(opts.successRate >= 0 && opts.successRate <= 1)) throw new Error(`successRate must be between 0 and 1 (got ${opts.successRate})`);
    this.#opts = opts;
    this.#random = seededRandom(opts.seed);
  }

  get mode(): OutcomeMode {
    return this.#opts.mode;
  }

  decide(card: Card): Outcome {
    if (this.#opts.mode === 'cards') return testCardOutcome(card);
    // Two draws per charge, whatever the outcome, so one decision never shifts the ones after it.
    const accept = this.#random() < this.#opts.successRate;
    const pick = this.#random();
    if (accept) return { ok: true };
    return declined(RANDOM_FAILURES[Math.floor(pick * RANDOM_FAILURES.length)] ?? 'generic_decline');
  }

  reset(): void {
    this.#random = seededRandom(this.#opts.seed);
  }
}
