/**
 * Helpers for the end-to-end suites that drive a running topology through the edge, as a reader
 * (and the payment gateway's hosted page) would.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

// biome-ignore lint/suspicious/noExplicitAny: answers are read loosely; each assertion says what it expects.
export type Json = any;

export interface Answer {
  status: number;
  type: string;
  headers: Headers;
  body: Json;
}

export class Edge {
  readonly url: string;
  constructor(url: string) {
    this.url = url;
  }

  async call(method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
    const res = await fetch(path.startsWith('http') ? path : `${this.url}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        ...opts.headers,
      },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
    const text = await res.text();
    let body: Json = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: res.status, type: res.headers.get('content-type') ?? '', headers: res.headers, body };
  }

  /** Registers and signs in a new reader. */
  async reader(label: string): Promise<Reader> {
    const email = `${label}-${randomBytes(5).toString('hex')}@example.org`;
    const password = `correct horse ${randomBytes(6).toString('hex')}`;
    const reg = await this.call('POST', '/api/auth/register', { body: { email, password, name: label } });
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    const login = await this.call('POST', '/api/auth/login', { body: { email, password } });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    return { id: reg.body.id, email, password, token: login.body.accessToken };
  }
}

export interface Reader {
  id: string;
  email: string;
  password: string;
  token: string;
}

export const berlin = { name: 'Ada Reader', line1: 'Unter den Linden 1', city: 'Berlin', postalCode: '10117', country: 'DE' };

/** What the gateway's hosted page does when a reader submits it: a real form post. */
export async function submitPaymentForm(
  paymentUrl: string,
  fields: Record<string, string>,
): Promise<{ status: number; location: string | null; html: string }> {
  const res = await fetch(paymentUrl, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, location: res.headers.get('location'), html: await res.text() };
}

export const cards = {
  ok: '4242 4242 4242 4242',
  declined: '4000 0000 0000 0002',
  insufficientFunds: '4000 0000 0000 9995',
};

/** Pays on the hosted page with a card (expiry next year), and follows the gateway's redirect back to Folio's return URL. */
export async function pay(paymentUrl: string, card = cards.ok) {
  const year = String((new Date().getUTCFullYear() + 1) % 100).padStart(2, '0');
  const answer = await submitPaymentForm(paymentUrl, { cardNumber: card, expiry: `12/${year}`, cvc: '123' });
  if (answer.status === 303 && answer.location) {
    // The browser would now load the return URL (Folio's payment service, through the edge).
    await fetch(answer.location, { redirect: 'manual' }).catch(() => {});
  }
  return answer;
}

/** The Cancel button of the hosted page, then the browser following the redirect to Folio. */
export async function cancelOnPaymentPage(paymentUrl: string) {
  const answer = await submitPaymentForm(paymentUrl, { action: 'cancel' });
  assert.equal(answer.status, 303, answer.html.slice(0, 200));
  const back = await fetch(answer.location!, { redirect: 'manual' });
  return { gateway: answer, folio: { status: back.status, location: back.headers.get('location') } };
}
