/** The catalogue: the current title, price and status of many books in one call (GET /api/products?ids=…). */
import { type Money, money } from '@folio/contracts/money';
import { createHttpClient } from '@folio/platform/http-client';
import { Type } from 'typebox';
import { answerOf, type ClientDeps, clientOptions, request } from './upstream.ts';

const ProductsAnswer = answerOf(
  Type.Object({
    items: Type.Array(
      Type.Object({
        id: Type.String({ maxLength: 100 }),
        title: Type.String({ maxLength: 2000 }),
        price: Type.Object({ amount: Type.Integer({ minimum: 0 }), currency: Type.String({ pattern: '^[A-Z]{3}$' }) }),
        status: Type.String({ maxLength: 50 }),
      }),
    ),
  }),
);

export interface CatalogBook {
  id: string;
  title: string;
  price: Money;
  active: boolean;
}

export interface CatalogClient {
  /** The books the catalogue knows among ids (unknown ones are absent). */
  books(ids: readonly string[]): Promise<Map<string, CatalogBook>>;
  close(): Promise<void>;
}

/** The catalogue's batch lookup takes at most this many ids (a cart holds at most 50 books). */
const MAX_IDS = 100;

export function createCatalogClient(deps: ClientDeps): CatalogClient {
  const http = createHttpClient(clientOptions('catalog', deps));
  return {
    async books(ids) {
      const unique = [...new Set(ids)].sort();
      const found = new Map<string, CatalogBook>();
      for (let i = 0; i < unique.length; i += MAX_IDS) {
        const chunk = unique.slice(i, i + MAX_IDS);
        const { body } = await request(http, deps.log, (h) => h.get('/api/products', { query: { ids: chunk.join(','), limit: chunk.length } }));
        for (const item of ProductsAnswer('catalog', deps.log, body).items) {
          if (!chunk.includes(item.id)) continue;
          found.set(item.id, { id: item.id, title: item.title, price: money(item.price.amount, item.price.currency), active: item.status === 'active' });
        }
      }
      return found;
    },
    close: () => http.close(),
  };
}
