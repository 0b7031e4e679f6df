/**
 * Who is signed in, for every page: the session (tokens kept by api.ts, see there why in localStorage),
 * sign-in, registration and sign-out. Signing in carries the guest's cart over (POST /api/cart/merge with
 * the guest's X-Cart-Token), so what a reader put in the cart before signing in is still there.
 */
import { createContext, type ReactNode, useCallback, useContext, useMemo, useSyncExternalStore } from 'react';
import { ApiError, api, cartTokenStore, claimsOf, type Session, sessionFrom, sessionStore } from './api.ts';
import type { MergedCart, TokenResponse, User } from './types.ts';

export interface SessionValue {
  session: Session | null;
  user: User | null;
  /** From the access token's `roles` claim: for what the page shows; the services decide what is allowed. */
  isAdmin: boolean;
  /** Signs in; answers a sentence about the guest cart that was carried over, if there was one. */
  signIn(email: string, password: string): Promise<string | null>;
  register(name: string, email: string, password: string): Promise<string | null>;
  signOut(): Promise<void>;
}

/** Dispatched on window once a guest cart was merged: the cart is read again. */
export const CART_MERGED_EVENT = 'folio:cart-merged';

const SessionContext = createContext<SessionValue | null>(null);

/** Moves the guest's cart into the reader's own cart, once; a sentence for the reader when something moved. */
async function mergeGuestCart(): Promise<string | null> {
  const token = cartTokenStore.get();
  if (!token) return null;
  try {
    const merged = await api<MergedCart>('POST', '/api/cart/merge', { headers: { 'x-cart-token': token } });
    cartTokenStore.set(null);
    window.dispatchEvent(new Event(CART_MERGED_EVENT));
    const moved = merged.merged.added + merged.merged.combined;
    if (moved === 0) return null;
    const skipped = merged.merged.skipped.length ? ` ${merged.merged.skipped.length} could not be added (your cart is full).` : '';
    return `The ${moved === 1 ? 'book' : `${moved} books`} you picked before signing in ${moved === 1 ? 'is' : 'are'} in your cart.${skipped}`;
  } catch (err) {
    // A token the cart service does not accept will never merge: forget it. Anything else: try at the next sign-in.
    if (err instanceof ApiError && err.status >= 400 && err.status < 500) cartTokenStore.set(null);
    return null;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const session = useSyncExternalStore(sessionStore.subscribe, sessionStore.get);

  const signIn = useCallback(async (email: string, password: string) => {
    const tokens = await api<TokenResponse>('POST', '/api/auth/login', { body: { email, password } });
    sessionStore.set(sessionFrom(tokens));
    return mergeGuestCart();
  }, []);

  const register = useCallback(
    async (name: string, email: string, password: string) => {
      await api<User>('POST', '/api/auth/register', { body: { name, email, password } });
      return signIn(email, password);
    },
    [signIn],
  );

  const signOut = useCallback(async () => {
    const s = sessionStore.get();
    sessionStore.set(null);
    if (s) await api('POST', '/api/auth/logout', { body: { refreshToken: s.refreshToken }, timeoutMs: 5_000 }).catch(() => {});
  }, []);

  const value = useMemo<SessionValue>(() => {
    const roles = session ? (claimsOf(session.accessToken).roles ?? session.user.roles) : [];
    return { session, user: session?.user ?? null, isAdmin: roles.includes('admin'), signIn, register, signOut };
  }, [session, signIn, register, signOut]);

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}
