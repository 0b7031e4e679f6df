/**
 * The catalogue as the cart sees it: titles, current prices and whether a book can be bought,
 * for many books in one call (GET /api/products?ids=…). Its answer is checked before use: a
 * catalogue that answers something else is our outage (502), not the reader's mistake.
 */
import { type Money, money } from '@folio/contracts/money';
import { createHttpClient, UpstreamError, UpstreamUnavailableError } from '@folio/platform/http-client';
import type { Logger } from '@folio/platform/log';
import { ProblemError } from '@folio/platform/problem';
import type { Registry } from 'prom-client';
import { Type } from 'typebox';
import { Compile } from 'typebox/compile';

export interface CatalogBook {
  id: string;
  title: string;
  price: Money;
  /** Only an active book can be added to a cart. */
  active: boolean;
}

export interface Catalog {
  /** The books the catalogue knows among `ids` (unknown ids are simply absent), fetched in one call. */
  books(ids: readonly string[]): Promise<Map<string, CatalogBook>>;
  close(): Promise<void>;
}

// Only what the cart uses is checked; the catalogue may send more.
const ProductsAnswer = Compile(
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

const TITLE_MAX = 500;

export function createCatalogClient(opts: { baseUrl: string; log: Logger; metrics?: Registry }): Catalog {
  const http = createHttpClient({ name: 'catalog', baseUrl: opts.baseUrl, log: opts.log, ...(opts.metrics ? { metrics: opts.metrics } : {}) });
  return {
    async books(ids) {
      const unique = [...new Set(ids)].sort();
      const found = new Map<string, CatalogBook>();
      if (unique.length === 0) return found;
      let body: unknown;
      try {
        ({ body } = await http.get('/api/products', { query: { ids: unique.join(','), limit: unique.length } }));
      } catch (err) {
        if (err instanceof UpstreamUnavailableError) throw err.toProblem();
        if (err instanceof UpstreamError) {
          opts.log.error({ err, status: err.status }, 'the catalogue refused the cart’s product lookup');
          throw badGateway(err);
        }
        throw err;
      }
      if (!ProductsAnswer.Check(body)) {
        opts.log.error({ errors: [...ProductsAnswer.Errors(body)].slice(0, 5) }, 'the catalogue answered the product lookup in an unexpected form');
        throw badGateway();
      }
      const wanted = new Set(unique);
      for (const item of body.items) {
        if (!wanted.has(item.id)) continue;
        found.set(item.id, {
          id: item.id,
          title: item.title.length > TITLE_MAX ? `${item.title.slice(0, TITLE_MAX - 1)}…` : item.title,
          price: money(item.price.amount, item.price.currency),
          active: item.status === 'active',
        });
      }
      return found;
    },
    close: () => http.close(),
  };
}

const badGateway = (cause?: unknown) =>
  new ProblemError(502, 'The catalogue gave an answer the cart cannot use; try again shortly.', { type: 'urn:folio:problem:bad-gateway', cause });
