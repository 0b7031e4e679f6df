/**
 * The one way the storefront talks to Folio: every call goes through `api()`, which
 *
 * - sends the access token (Bearer) of the signed-in reader, and renews it with the refresh token when it
 *   is about to expire or a call answers 401 (refresh tokens are single use and rotate: one renewal at a
 *   time, across tabs too, so a used token is never presented twice — that would end the sign-in);
 * - names a guest's cart with X-Cart-Token and keeps the token the cart service hands out;
 * - gives up after a timeout (AbortController), so nothing waits forever;
 * - turns every failure into an ApiError whose message is a sentence for the reader: the problem+json
 *   `detail` when the service sent one, never raw JSON.
 */
import type { TokenResponse, User } from './types.ts';

export const DEFAULT_TIMEOUT_MS = 15_000;

export interface FieldErrors {
  [field: string]: string;
}

/** A failed call, with a message a reader can act on. status 0: no answer (network); 408: our own timeout. */
export class ApiError extends Error {
  readonly status: number;
  readonly fields: FieldErrors;
  readonly code: string | undefined;
  readonly problem: Record<string, unknown> | undefined;
  /** From Retry-After: the service asks to try again after this many seconds. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    status: number,
    message: string,
    opts: { fields?: FieldErrors; code?: string; problem?: Record<string, unknown>; retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.fields = opts.fields ?? {};
    this.code = opts.code;
    this.problem = opts.problem;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

/** The message to show for anything thrown: ours are sentences already; anything else gets a generic one. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return 'Something went wrong on this page. Please try again.';
}

// ---------------------------------------------------------------------------------------------
// The session: tokens in localStorage.
//
// Why localStorage: the identity API answers tokens in the response body (not as HttpOnly cookies), the
// reader leaves for the payment gateway's page and comes back (possibly in a new tab from an e-mail), and
// tabs should share one sign-in. The exposure to script injection is limited by the gateway's strict CSP
// (script-src 'self', no inline scripts, no third-party code), the short life of access tokens (15 min)
// and single-use refresh tokens whose reuse revokes the whole sign-in.

export interface Session {
  accessToken: string;
  refreshToken: string;
  user: User;
}

const SESSION_KEY = 'folio.session';
const CART_TOKEN_KEY = 'folio.cartToken';

function readStored(): Session | null {
  try {
    const raw = localStorage.getItem(SESSION_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<Session>;
    return typeof s.accessToken === 'string' && typeof s.refreshToken === 'string' && s.user ? (s as Session) : null;
  } catch {
    return null;
  }
}

let current: Session | null = readStored();
const listeners = new Set<() => void>();
const emit = () => {
  for (const l of listeners) l();
};

export const sessionStore = {
  get: (): Session | null => current,
  set(next: Session | null): void {
    current = next;
    try {
      if (next) localStorage.setItem(SESSION_KEY, JSON.stringify(next));
      else localStorage.removeItem(SESSION_KEY);
    } catch {
      // Private mode without storage: the session lives in memory only.
    }
    emit();
  },
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

// Another tab signed in, out, or renewed the tokens.
window.addEventListener('storage', (e) => {
  if (e.key === SESSION_KEY || e.key === null) {
    current = readStored();
    emit();
  }
});

export const cartTokenStore = {
  get(): string | null {
    try {
      return localStorage.getItem(CART_TOKEN_KEY);
    } catch {
      return null;
    }
  },
  set(token: string | null): void {
    try {
      if (token) localStorage.setItem(CART_TOKEN_KEY, token);
      else localStorage.removeItem(CART_TOKEN_KEY);
    } catch {}
  },
};

/** The claims of an access token, decoded for display only (the services verify it). */
export interface Claims {
  sub?: string;
  email?: string;
  roles?: string[];
  exp?: number;
}

export function claimsOf(token: string): Claims {
  try {
    const part = token.split('.')[1] ?? '';
    const json = atob(
      part
        .replace(/-/g, '+')
        .replace(/_/g, '/')
        .padEnd(Math.ceil(part.length / 4) * 4, '='),
    );
    return JSON.parse(decodeURIComponent(escapeUtf8(json))) as Claims;
  } catch {
    return {};
  }
}

const escapeUtf8 = (binary: string) =>
  Array.from(binary)
    .map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .join('');

/** Renew a little before the access token expires rather than after a refused call. */
const expiresSoon = (token: string) => {
  const exp = claimsOf(token).exp;
  return typeof exp === 'number' && exp * 1000 - Date.now() < 30_000;
};

export const sessionFrom = (t: TokenResponse): Session => ({ accessToken: t.accessToken, refreshToken: t.refreshToken, user: t.user });

/** Runs `fn` holding a lock shared by every tab of the shop (Web Locks), or just runs it where there are none. */
async function exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  if (!locks) return fn();
  return locks.request(name, fn) as Promise<T>;
}

let renewing: Promise<Session | null> | null = null;

/**
 * New tokens for the sign-in whose access token `stale` was refused or is expiring. Null when the sign-in
 * has ended (the refresh token expired or was revoked): the reader is signed out.
 */
function renew(stale: string): Promise<Session | null> {
  renewing ??= exclusive('folio-token-refresh', async () => {
    // Another tab may have renewed already: its tokens are in storage, and our refresh token is spent.
    const latest = readStored();
    if (!latest) {
      sessionStore.set(null);
      return null;
    }
    if (latest.accessToken !== stale && !expiresSoon(latest.accessToken)) {
      current = latest;
      emit();
      return latest;
    }
    const res = await send('POST', '/api/auth/refresh', { body: { refreshToken: latest.refreshToken } }, null);
    if (res.ok) {
      const next = sessionFrom((await res.json()) as TokenResponse);
      sessionStore.set(next);
      return next;
    }
    if (res.status === 400 || res.status === 401) {
      sessionStore.set(null);
      return null;
    }
    throw await errorOf(res);
  }).finally(() => {
    renewing = null;
  });
  return renewing;
}

// ---------------------------------------------------------------------------------------------
// Calls

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  query?: Record<string, string | number | undefined | null>;
  /** Give up after this long (default 15 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const SIGNED_OUT = 'Your sign-in has expired. Please sign in again.';

export async function api<T>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
  const res = await signedIn(method, path, opts);
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204) return undefined as T;
  return readJson<T>(res);
}

/**
 * Follows a resource that has an ETag (an order): answers it when it differs from `tag`, waiting up to
 * `waitSeconds` on the server for a change (`Prefer: wait`), or `value: null` when it is still the same.
 * One request per change instead of one per second, and the change shows at once.
 */
export async function follow<T>(
  path: string,
  tag: string | null,
  waitSeconds: number,
  opts: CallOptions = {},
): Promise<{ value: T | null; tag: string | null }> {
  const conditional: Record<string, string> = tag ? { 'if-none-match': tag, prefer: `wait=${waitSeconds}` } : {};
  const res = await signedIn('GET', path, { ...opts, headers: { ...opts.headers, ...conditional }, timeoutMs: (waitSeconds + 15) * 1000 });
  if (res.status === 304) return { value: null, tag };
  if (!res.ok) throw await errorOf(res);
  return { value: await readJson<T>(res), tag: res.headers.get('etag') };
}

/** The call with the reader's access token, renewed first when it is about to expire and once more on a 401. */
async function signedIn(method: string, path: string, opts: CallOptions): Promise<Response> {
  let session = current;
  if (session && expiresSoon(session.accessToken)) {
    // Best effort: if renewing fails for want of an answer, the call below says so.
    session = await renew(session.accessToken).catch(() => current);
  }
  let res = await send(method, path, opts, session);
  if (res.status === 401 && session) {
    const renewed = await renew(session.accessToken);
    if (!renewed) throw new ApiError(401, SIGNED_OUT);
    res = await send(method, path, opts, renewed);
  }
  return res;
}

async function readJson<T>(res: Response): Promise<T> {
  const type = res.headers.get('content-type') ?? '';
  if (!type.includes('json')) throw new ApiError(res.status, 'The shop sent an answer this page cannot read. Please reload the page.');
  return (await res.json()) as T;
}

async function send(method: string, path: string, opts: CallOptions, session: Session | null): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (session) headers.authorization = `Bearer ${session.accessToken}`;
  const isCart = path.startsWith('/api/cart');
  if (isCart && !session) {
    const token = cartTokenStore.get();
    if (token) headers['x-cart-token'] = token;
  }
  Object.assign(headers, opts.headers);

  let url = path;
  if (opts.query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
    const qs = params.toString();
    if (qs) url += `?${qs}`;
  }

  const controller = new AbortController();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onAbort = () => controller.abort();
  opts.signal?.addEventListener('abort', onAbort);
  try {
    const res = await fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      signal: controller.signal,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
    if (isCart && !session && res.ok) {
      const token = res.headers.get('x-cart-token');
      if (token) cartTokenStore.set(token);
    }
    return res;
  } catch (err) {
    if (opts.signal?.aborted) throw err; // the page went away: nobody is waiting for a message
    if (timedOut) throw new ApiError(408, 'The shop took too long to answer. Please try again.', { code: 'timeout' });
    throw new ApiError(0, 'We could not reach the shop. Check your connection and try again.', { code: 'network' });
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/** "/address/postalCode" or "body/email" → "postalCode" / "email". */
const fieldKey = (field: string) => field.split(/[/.]/).filter(Boolean).at(-1) ?? field;

/** A schema message ("is required", "must be >= 1") reads as a sentence on its own. */
function sentence(message: string): string {
  const m = message.trim();
  const s = /^(is|must|should|has|was)\b/.test(m) ? `This ${m}` : m.charAt(0).toUpperCase() + m.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

async function errorOf(res: Response): Promise<ApiError> {
  const type = res.headers.get('content-type') ?? '';
  let problem: Record<string, unknown> | undefined;
  if (type.includes('json')) {
    try {
      problem = (await res.json()) as Record<string, unknown>;
    } catch {}
  }
  const fields: FieldErrors = {};
  if (problem && Array.isArray(problem.errors)) {
    for (const e of problem.errors as Array<{ field?: unknown; message?: unknown }>) {
      if (typeof e?.field === 'string' && typeof e.message === 'string') fields[fieldKey(e.field)] ??= sentence(e.message);
    }
  }
  const detail = typeof problem?.detail === 'string' && problem.detail ? problem.detail : undefined;
  const code = typeof problem?.code === 'string' ? problem.code : undefined;
  let message = detail ? sentence(detail) : fallbackMessage(res.status);
  const wait = Number(res.headers.get('retry-after'));
  const retryAfterSeconds = Number.isFinite(wait) && wait > 0 ? wait : undefined;
  if (res.status === 429 && !detail && retryAfterSeconds) message = `Too many attempts. Please wait ${retryAfterSeconds} seconds and try again.`;
  return new ApiError(res.status, message, {
    fields,
    ...(code ? { code } : {}),
    ...(problem ? { problem } : {}),
    ...(retryAfterSeconds ? { retryAfterSeconds } : {}),
  });
}

function fallbackMessage(status: number): string {
  if (status === 401) return 'Please sign in to continue.';
  if (status === 403) return 'Your account is not allowed to do this.';
  if (status === 404) return 'We could not find what you were looking for.';
  if (status === 409) return 'That is not possible right now; the page has been brought up to date.';
  if (status === 429) return 'Too many attempts. Please wait a moment and try again.';
  if (status >= 500) return 'The shop is not able to answer right now. Please try again in a moment.';
  return `Something went wrong (error ${status}). Please try again.`;
}

/** A fresh Idempotency-Key (a v4 UUID), also where crypto.randomUUID is missing (plain-http origins). */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function' && window.isSecureContext) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
