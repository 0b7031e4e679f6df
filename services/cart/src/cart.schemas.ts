/** TypeBox schemas of the cart API: one per DTO, reused for validation, the OpenAPI document and types. */
import { Money } from '@folio/contracts/money';
import { type Static, Type } from 'typebox';

export const MAX_QUANTITY = 99;

/** 256 random bits as base64url: 43 characters. */
export const CART_TOKEN_PATTERN = '^[A-Za-z0-9_-]{43}$';
export const CART_TOKEN_HEADER = 'x-cart-token';

export const ProductId = Type.String({ format: 'uuid', maxLength: 36, description: 'The book (catalogue product id)' });
export const Quantity = Type.Integer({ minimum: 1, maximum: MAX_QUANTITY, description: `Copies of the book, 1 to ${MAX_QUANTITY}` });
export const CartToken = Type.String({
  pattern: CART_TOKEN_PATTERN,
  minLength: 43,
  maxLength: 43,
  description: 'The opaque token of a guest cart, as the cart answer gave it (cartToken / X-Cart-Token)',
});

export const AddItemBody = Type.Object({ productId: ProductId, quantity: Quantity }, { additionalProperties: false });
export type AddItemBody = Static<typeof AddItemBody>;

export const SetQuantityBody = Type.Object({ quantity: Quantity }, { additionalProperties: false });
export type SetQuantityBody = Static<typeof SetQuantityBody>;

export const ItemParams = Type.Object({ productId: ProductId });
export type ItemParams = Static<typeof ItemParams>;

/** A guest names their cart with this header; a signed-in reader's cart is their own and the header is ignored. */
export const GuestHeaders = Type.Object({ [CART_TOKEN_HEADER]: Type.Optional(CartToken) });
export type GuestHeaders = Static<typeof GuestHeaders>;

/** The guest cart to merge into the signed-in reader's cart. */
export const MergeHeaders = Type.Object({ [CART_TOKEN_HEADER]: CartToken });
export type MergeHeaders = Static<typeof MergeHeaders>;

/** Money (integer minor units) with a description of its own. */
const money = (description: string) => Type.Object(Money.properties, { additionalProperties: false, description });

const Timestamp = Type.String({ format: 'date-time', maxLength: 40 });

export const CartItem = Type.Object(
  {
    productId: ProductId,
    title: Type.String({ maxLength: 500 }),
    quantity: Quantity,
    unitPrice: money('The price recorded when the book was added (or when a new price was accepted); what checkout charges'),
    currentPrice: money("The catalogue's price now"),
    priceChanged: Type.Boolean({ description: 'currentPrice differs from unitPrice: show both, and accept-prices before checkout' }),
    available: Type.Boolean({ description: 'The book can still be bought (active in the catalogue)' }),
    lineTotal: money('quantity × unitPrice'),
  },
  { additionalProperties: false },
);
export type CartItem = Static<typeof CartItem>;

export const CartView = Type.Object(
  {
    id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()], { description: 'null while there is no cart yet' }),
    items: Type.Array(CartItem, { maxItems: 50 }),
    subtotal: money('Sum of the line totals (recorded prices)'),
    priceChanged: Type.Boolean({ description: 'Some line has a price that changed since it was recorded: checkout refuses the cart until accept-prices' }),
    expiresAt: Type.Union([Timestamp, Type.Null()], { description: 'When the cart expires unless it is used again' }),
    cartToken: Type.Optional(CartToken),
  },
  { additionalProperties: false },
);
export type CartView = Static<typeof CartView>;

export const MergeSummary = Type.Object(
  {
    added: Type.Integer({ minimum: 0, description: 'Guest lines the account did not have' }),
    combined: Type.Integer({ minimum: 0, description: 'Guest lines added to a line of the same book' }),
    capped: Type.Array(ProductId, { maxItems: 50, description: `Lines whose summed quantity was capped at ${MAX_QUANTITY}` }),
    skipped: Type.Array(ProductId, {
      maxItems: 50,
      description: 'Guest lines left out: the cart already had the maximum number of lines, or another currency',
    }),
  },
  { additionalProperties: false },
);
export type MergeSummary = Static<typeof MergeSummary>;

export const MergedCartView = Type.Object(
  {
    ...CartView.properties,
    merged: MergeSummary,
  },
  { additionalProperties: false },
);
export type MergedCartView = Static<typeof MergedCartView>;
