/**
 * Where active carts live. Two implementations behind one interface: Redis (distributed mode,
 * redis-cart.store.ts) and PostgreSQL (embedded mode without Redis, pg-cart.store.ts). Both keep
 * the PostgreSQL history of carts (cart-history.repository.ts) and give the same guarantees:
 *
 * - every change of a cart runs under that cart's lock, so concurrent requests never lose an update;
 * - a cart expires CART_TTL_SECONDS after it was last read or written (sliding expiry);
 * - a merge locks the guest cart first, then the account's cart (one fixed order, so two operations
 *   never wait on each other in a cycle), and removes the guest cart in the same step that fills the
 *   account's cart, so a repeated or concurrent merge finds nothing left to add.
 */
import type { Money } from '@folio/contracts/money';
import type { Tx } from '@folio/platform/db';

/** Whose cart: the signed-in reader's, or the guest cart named by the hash of its token. */
export type CartOwner = { kind: 'user'; userId: string; key: string } | { kind: 'guest'; tokenHash: string; key: string };

export const userOwner = (userId: string): CartOwner => ({ kind: 'user', userId, key: `u:${userId}` });
export const guestOwner = (tokenHash: string): CartOwner => ({ kind: 'guest', tokenHash, key: `g:${tokenHash}` });

export interface CartLine {
  productId: string;
  /** The catalogue's title when the line was last priced, shown if the catalogue no longer knows the book. */
  title: string;
  quantity: number;
  /** The price recorded when the book was added (or when the reader accepted a new price). */
  unitPrice: Money;
  addedAt: string;
}

export interface StoredCart {
  id: string;
  createdAt: string;
  expiresAt: string;
  /** In the order they were added. */
  lines: CartLine[];
}

/** The lines of one cart by product id, handed to a change to edit in place. */
export type Lines = Map<string, CartLine>;

/**
 * Edits a cart under its lock. It may throw a ProblemError (a broken rule): nothing is written then.
 * It must not do I/O: it runs while the lock is held.
 */
export type CartChange = (lines: Lines) => void;

/** Combines a guest cart into the account's cart (both edited in place: `into` receives the lines). */
export type MergeRule<R> = (into: Lines, from: Lines) => R;

export interface MergeResult<R> {
  /** The account's cart after the merge; undefined when nothing was merged and the account has no cart. */
  cart: StoredCart | undefined;
  /** What the rule returned; undefined when there was no live guest cart (nothing merged). */
  outcome: R | undefined;
}

export interface CartStore {
  readonly kind: 'redis' | 'postgres';
  /** The live cart of the owner with its expiry renewed, or undefined when there is none (or it expired). */
  read(owner: CartOwner): Promise<StoredCart | undefined>;
  /**
   * Applies the change under the cart's lock and renews the expiry. Without a live cart: creates one when
   * `create` is set (the change sees no lines), else answers undefined without calling the change.
   */
  update(owner: CartOwner, change: CartChange, opts: { create: boolean }): Promise<StoredCart | undefined>;
  /**
   * Moves the guest cart's lines into the user's cart with the rule, then ends the guest cart (history:
   * converted, merged into the account's cart). Without a live guest cart it changes nothing.
   */
  merge<R>(guest: CartOwner, user: CartOwner, rule: MergeRule<R>): Promise<MergeResult<R | undefined>>;
  /** The order was paid: empties and ends the owner's cart (history: converted), inside the caller's transaction. */
  convert(tx: Tx, owner: CartOwner, orderId: string): Promise<boolean>;
  /** One pass of the abandon sweep: ends up to `limit` expired carts (history: abandoned); returns how many rows it handled. */
  sweepExpired(limit: number): Promise<number>;
}

export const MAX_QUANTITY_PER_LINE = 99;
export const MAX_LINES = 50;

export function sortedLines(lines: Iterable<CartLine>): CartLine[] {
  return [...lines].sort((a, b) => (a.addedAt < b.addedAt ? -1 : a.addedAt > b.addedAt ? 1 : a.productId < b.productId ? -1 : 1));
}

/** The lines as written to the history's `lines` snapshot. */
export const snapshotOf = (lines: Iterable<CartLine>): string => JSON.stringify(sortedLines(lines));
