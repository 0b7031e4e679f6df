/**
 * The reader's cart, shared by the header (its count) and the pages that change it. A guest's cart is
 * named by the X-Cart-Token api.ts keeps; a signed-in reader's cart is their own. It is read again when
 * the reader signs in or out, and when a page asks (after an order was paid the cart service clears it).
 */
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import { api, messageOf } from './api.ts';
import { CART_MERGED_EVENT, useSession } from './session.tsx';
import type { Cart } from './types.ts';

export interface CartValue {
  cart: Cart | null;
  /** Set when the last read failed (the header then shows no count rather than a wrong one). */
  error: string | null;
  count: number;
  refresh(): Promise<Cart | null>;
  add(productId: string, quantity: number): Promise<Cart>;
  setQuantity(productId: string, quantity: number): Promise<Cart>;
  remove(productId: string): Promise<Cart>;
  acceptPrices(): Promise<Cart>;
}

const CartContext = createContext<CartValue | null>(null);

export function CartProvider({ children }: { children: ReactNode }) {
  const { user } = useSession();
  const [cart, setCart] = useState<Cart | null>(null);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);

  const refresh = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const next = await api<Cart>('GET', '/api/cart');
      if (mine === generation.current) {
        setCart(next);
        setError(null);
      }
      return next;
    } catch (err) {
      if (mine === generation.current) setError(messageOf(err));
      return null;
    }
  }, []);

  // Whose cart it is changes with the reader.
  const userId = user?.id ?? null;
  useEffect(() => {
    void userId;
    setCart(null);
    void refresh();
  }, [userId, refresh]);

  useEffect(() => {
    const onMerged = () => void refresh();
    window.addEventListener(CART_MERGED_EVENT, onMerged);
    return () => window.removeEventListener(CART_MERGED_EVENT, onMerged);
  }, [refresh]);

  const apply = useCallback((next: Cart) => {
    generation.current++;
    setCart(next);
    setError(null);
    return next;
  }, []);

  const value = useMemo<CartValue>(
    () => ({
      cart,
      error,
      count: cart ? cart.items.reduce((n, i) => n + i.quantity, 0) : 0,
      refresh,
      add: async (productId, quantity) => apply(await api<Cart>('POST', '/api/cart/add', { body: { productId, quantity } })),
      setQuantity: async (productId, quantity) => apply(await api<Cart>('PATCH', `/api/cart/items/${encodeURIComponent(productId)}`, { body: { quantity } })),
      remove: async (productId) => apply(await api<Cart>('DELETE', `/api/cart/items/${encodeURIComponent(productId)}`)),
      acceptPrices: async () => apply(await api<Cart>('POST', '/api/cart/accept-prices')),
    }),
    [cart, error, refresh, apply],
  );

  return <CartContext.Provider value={value}>{children}</CartContext.Provider>;
}

export function useCart(): CartValue {
  const value = useContext(CartContext);
  if (!value) throw new Error('useCart outside CartProvider');
  return value;
}
