/** The reader's cart, read on their behalf (GET /api/cart with their Authorization header). */
import { createHttpClient } from '@folio/platform/http-client';
import { type Static, Type } from 'typebox';
import { answerOf, type ClientDeps, clientOptions, request } from './upstream.ts';

const Amount = Type.Object({ amount: Type.Integer({ minimum: 0 }), currency: Type.String({ pattern: '^[A-Z]{3}$' }) });
const CartAnswer = Type.Object({
  items: Type.Array(
    Type.Object({
      productId: Type.String({ format: 'uuid' }),
      title: Type.String({ maxLength: 2000 }),
      quantity: Type.Integer({ minimum: 1, maximum: 99 }),
      unitPrice: Amount,
      currentPrice: Amount,
      priceChanged: Type.Boolean(),
      available: Type.Boolean(),
    }),
    { maxItems: 100 },
  ),
});
export type CartAnswer = Static<typeof CartAnswer>;
export type CartItem = CartAnswer['items'][number];
const checkCart = answerOf(CartAnswer);

export interface CartClient {
  /** The cart of the reader whose bearer token `authorization` carries. */
  read(authorization: string): Promise<CartAnswer>;
  close(): Promise<void>;
}

export function createCartClient(deps: ClientDeps): CartClient {
  const http = createHttpClient(clientOptions('cart', deps));
  return {
    async read(authorization) {
      const { body } = await request(http, deps.log, (h) => h.get('/api/cart', { headers: { authorization } }));
      return checkCart('cart', deps.log, body);
    },
    close: () => http.close(),
  };
}
