/**
 * The cart's rules. Access: a caller only ever reaches the cart of the signed-in reader (keyed by
 * their user id from the verified token) or the guest cart of the token they hold; no request names
 * a cart by id, so there is nothing to guess. Prices are recorded from the catalogue when a book is
 * added (never from the client) and shown next to the catalogue's current price on every answer.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { CatalogBook, CatalogClient } from '@folio/contracts/catalog-client';
import { add, type Money, money, times } from '@folio/contracts/money';
import type { Tx } from '@folio/platform/db';
import type { Logger } from '@folio/platform/log';
import { problems } from '@folio/platform/problem';
import type { CartItem, CartView, MergedCartView, MergeSummary } from './cart.schemas.ts';
import {
  type CartLine,
  type CartOwner,
  type CartStore,
  guestOwner,
  type Lines,
  MAX_LINES,
  MAX_QUANTITY_PER_LINE,
  type StoredCart,
  userOwner,
} from './cart.store.ts';

/** Who is asking: a signed-in reader, or a guest with (maybe) the token of their cart. */
export type Caller = { kind: 'user'; userId: string } | { kind: 'guest'; cartToken: string | undefined };

/** The shop's currency, for the subtotal of an empty cart. */
const DEFAULT_CURRENCY = 'EUR';

/** A new guest cart token: 256 random bits. Only its hash is stored. */
const newCartToken = (): string => randomBytes(32).toString('base64url');
export const hashCartToken = (token: string): string => createHash('sha256').update(token).digest('base64url');

interface Access {
  owner: CartOwner | undefined;
  /** A guest's token, echoed on answers so the client keeps it. */
  token: string | undefined;
}

/** The access check: the only carts a caller can reach. */
function accessOf(caller: Caller): Access {
  if (caller.kind === 'user') return { owner: userOwner(caller.userId), token: undefined };
  if (caller.cartToken === undefined) return { owner: undefined, token: undefined };
  return { owner: guestOwner(hashCartToken(caller.cartToken)), token: caller.cartToken };
}

const notInCart = (productId: string) => problemWith(problems.notFound(`Book ${productId} is not in the cart (productId).`), { productId });

function requireLine(lines: Lines, productId: string): CartLine {
  const line = lines.get(productId);
  if (!line) throw notInCart(productId);
  return line;
}

/** A problem with extensions a client can branch on (e.g. which productId). */
function problemWith<P extends { extensions: Record<string, unknown> }>(problem: P, extensions: Record<string, unknown>): P {
  Object.assign(problem.extensions, extensions);
  return problem;
}

export interface CartService {
  view(caller: Caller): Promise<CartView>;
  add(caller: Caller, item: { productId: string; quantity: number }): Promise<CartView>;
  setQuantity(caller: Caller, productId: string, quantity: number): Promise<CartView>;
  remove(caller: Caller, productId: string): Promise<CartView>;
  acceptPrices(caller: Caller): Promise<CartView>;
  merge(userId: string, cartToken: string): Promise<MergedCartView>;
  orderPaid(tx: Tx, order: { orderId: string; userId: string }): Promise<void>;
  orderCancelled(order: { orderId: string; userId: string; reason: string }): void;
}

export function createCartService(deps: { store: CartStore; catalog: CatalogClient; log: Logger }): CartService {
  const { store, catalog, log } = deps;

  /**
   * The answer for a cart: every line with the catalogue's current title and price, from one catalogue
   * call (`books`, fetched before a change, is reused when it covers the cart).
   */
  async function render(cart: StoredCart | undefined, token: string | undefined, books?: Map<string, CatalogBook>): Promise<CartView> {
    if (!cart) return { id: null, items: [], subtotal: money(0, DEFAULT_CURRENCY), priceChanged: false, expiresAt: null };
    const missing = cart.lines.filter((l) => !books?.has(l.productId)).map((l) => l.productId);
    const known = missing.length > 0 ? new Map([...(books ?? []), ...(await catalog.books(missing))]) : (books ?? new Map<string, CatalogBook>());
    const items: CartItem[] = cart.lines.map((line) => {
      const book = known.get(line.productId);
      // A book the catalogue no longer lists cannot be bought; its recorded price and title are all there is.
      const currentPrice = book?.price ?? line.unitPrice;
      return {
        productId: line.productId,
        title: book?.title ?? line.title,
        quantity: line.quantity,
        unitPrice: line.unitPrice,
        currentPrice,
        priceChanged: !samePrice(currentPrice, line.unitPrice),
        available: book?.active ?? false,
        lineTotal: times(line.unitPrice, line.quantity),
      };
    });
    const currency = items[0]?.unitPrice.currency ?? DEFAULT_CURRENCY;
    return {
      id: cart.id,
      items,
      subtotal: items.reduce((sum, i) => add(sum, i.lineTotal), money(0, currency)),
      priceChanged: items.some((i) => i.priceChanged),
      expiresAt: cart.expiresAt,
      ...(token ? { cartToken: token } : {}),
    };
  }

  /** The book as the catalogue has it now, if it can be added to a cart. */
  function sellable(books: Map<string, CatalogBook>, productId: string): CatalogBook {
    const book = books.get(productId);
    if (!book) throw problemWith(problems.notFound(`There is no book ${productId} in the catalogue (productId).`), { productId });
    if (!book.active)
      throw problemWith(problems.unprocessable(`Book ${productId} is no longer sold, so it cannot be added to a cart (productId).`), { productId });
    return book;
  }

  function addLine(lines: Lines, book: CatalogBook, quantity: number): void {
    const line = lines.get(book.id);
    if (line) {
      const total = line.quantity + quantity;
      if (total > MAX_QUANTITY_PER_LINE) {
        throw problemWith(
          problems.unprocessable(
            `At most ${MAX_QUANTITY_PER_LINE} copies of a book fit in a cart; it already holds ${line.quantity} of ${book.id}, so add at most ${MAX_QUANTITY_PER_LINE - line.quantity} (quantity).`,
          ),
          { productId: book.id, field: 'quantity' },
        );
      }
      // The recorded price stays: a changed price is shown (priceChanged), never silently taken.
      line.quantity = total;
      return;
    }
    if (lines.size >= MAX_LINES) {
      throw problemWith(problems.unprocessable(`A cart holds at most ${MAX_LINES} different books; remove one before adding ${book.id} (productId).`), {
        productId: book.id,
      });
    }
    const other = [...lines.values()].find((l) => l.unitPrice.currency !== book.price.currency);
    if (other) {
      throw problemWith(
        problems.unprocessable(`Book ${book.id} is priced in ${book.price.currency} but the cart holds ${other.unitPrice.currency} prices (productId).`),
        { productId: book.id },
      );
    }
    lines.set(book.id, { productId: book.id, title: book.title, quantity, unitPrice: book.price, addedAt: new Date().toISOString() });
  }

  return {
    async view(caller) {
      const { owner, token } = accessOf(caller);
      const cart = owner ? await store.read(owner) : undefined;
      return render(cart, cart ? token : undefined);
    },

    async add(caller, { productId, quantity }) {
      const { owner, token } = accessOf(caller);
      // One catalogue call for the new book and the lines already there, reused for the answer.
      const current = owner ? await store.read(owner) : undefined;
      const books = await catalog.books([productId, ...(current?.lines.map((l) => l.productId) ?? [])]);
      const book = sellable(books, productId);
      const change = (lines: Lines) => addLine(lines, book, quantity);
      if (caller.kind === 'user') return render(await store.update(owner!, change, { create: true }), undefined, books);
      const existing = owner ? await store.update(owner, change, { create: false }) : undefined;
      if (existing) return render(existing, token, books);
      // No cart behind the token (none sent, or it expired): a new cart with a token minted here, never one the client chose.
      const fresh = newCartToken();
      return render(await store.update(guestOwner(hashCartToken(fresh)), change, { create: true }), fresh, books);
    },

    async setQuantity(caller, productId, quantity) {
      const { owner, token } = accessOf(caller);
      const cart = owner
        ? await store.update(
            owner,
            (lines) => {
              requireLine(lines, productId).quantity = quantity;
            },
            { create: false },
          )
        : undefined;
      if (!cart) throw notInCart(productId);
      return render(cart, token);
    },

    async remove(caller, productId) {
      const { owner, token } = accessOf(caller);
      const cart = owner
        ? await store.update(
            owner,
            (lines) => {
              requireLine(lines, productId);
              lines.delete(productId);
            },
            { create: false },
          )
        : undefined;
      if (!cart) throw notInCart(productId);
      return render(cart, token);
    },

    async acceptPrices(caller) {
      const { owner, token } = accessOf(caller);
      const current = owner ? await store.read(owner) : undefined;
      if (!owner || !current) return render(undefined, undefined);
      const books = await catalog.books(current.lines.map((l) => l.productId));
      const cart = await store.update(
        owner,
        (lines) => {
          for (const line of lines.values()) {
            const book = books.get(line.productId);
            // A line added since the lookup was priced just now; a book the catalogue dropped keeps its price (it cannot be bought anyway).
            if (!book) continue;
            line.unitPrice = book.price;
            line.title = book.title;
          }
        },
        { create: false },
      );
      return render(cart, cart ? token : undefined, books);
    },

    async merge(userId, cartToken) {
      const user = userOwner(userId);
      const guest = guestOwner(hashCartToken(cartToken));
      const { cart, outcome } = await store.merge(guest, user, mergeLines);
      const merged = outcome ?? { added: 0, combined: 0, capped: [], skipped: [] };
      if (outcome) log.info({ cart: cart?.id, ...merged }, 'guest cart merged into the account’s cart');
      return { ...(await render(cart, undefined)), merged };
    },

    async orderPaid(tx, { orderId, userId }) {
      const cleared = await store.convert(tx, userOwner(userId), orderId);
      log.info({ orderId, userId, cleared }, cleared ? 'order paid: cart cleared' : 'order paid: no active cart to clear');
    },

    orderCancelled({ orderId, userId, reason }) {
      log.info({ orderId, userId, reason }, 'order cancelled: kept cart for retry');
    },
  };
}

const samePrice = (a: Money, b: Money): boolean => a.amount === b.amount && a.currency === b.currency;

/**
 * Guest lines into the account's cart: the same book's quantities are summed (capped at the per-line
 * maximum) at the account's recorded price; a book only the guest had keeps the guest's recorded price.
 * Lines beyond the cart's maximum, or in another currency, are left out and named.
 */
export function mergeLines(into: Lines, from: Lines): MergeSummary {
  const summary: MergeSummary = { added: 0, combined: 0, capped: [], skipped: [] };
  for (const line of [...from.values()].sort((a, b) => (a.addedAt < b.addedAt ? -1 : 1))) {
    const mine = into.get(line.productId);
    if (mine) {
      const total = mine.quantity + line.quantity;
      mine.quantity = Math.min(total, MAX_QUANTITY_PER_LINE);
      if (total > MAX_QUANTITY_PER_LINE) summary.capped.push(line.productId);
      summary.combined++;
      continue;
    }
    const currency = [...into.values()][0]?.unitPrice.currency;
    if (into.size >= MAX_LINES || (currency !== undefined && currency !== line.unitPrice.currency)) {
      summary.skipped.push(line.productId);
      continue;
    }
    into.set(line.productId, { ...line });
    summary.added++;
  }
  return summary;
}
