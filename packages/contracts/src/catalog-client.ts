/**
 * The catalogue's batch lookup, as the cart and the order service use it (GET /api/products?ids=…):
 * each book's title, current price and whether it can be sold, many books per call. The answer is
 * checked before use: a catalogue that is down is a 503 the reader can retry, and one that answers
 * something else is our outage (502), never the reader's mistake.
 */
import { createHttpClient, UpstreamError, UpstreamUnavailableError } from '@folio/platform/http-client';
import type { Logger } from '@folio/platform/log';
import type { Registry } from '@folio/platform/metrics';
import { ProblemError } from '@folio/platform/problem';
import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { type Money, money } from './money.ts';

export interface CatalogBook {
  id: string;
  title: string;
  price: Money;
  /** Only an active book can be sold. */
  active: boolean;
}

export interface CatalogClient {
  /** The books the catalogue knows among `ids` (unknown ids are simply absent). */
  books(ids: readonly string[]): Promise<Map<string, CatalogBook>>;
  close(): Promise<void>;
}

// Only what callers use is checked; the catalogue may send more.
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

/** The catalogue's batch lookup takes at most this many ids per call. */
const MAX_IDS = 100;

export function createCatalogClient(opts: { baseUrl: string; log: Logger; metrics?: Registry; caller: string }): CatalogClient {
  const http = createHttpClient({ name: 'catalog', baseUrl: opts.baseUrl, log: opts.log, ...(opts.metrics ? { metrics: opts.metrics } : {}) });
  const badGateway = (cause?: unknown) =>
    new ProblemError(502, `The catalogue gave an answer the ${opts.caller} cannot use; try again shortly.`, { type: 'urn:folio:problem:bad-gateway', cause });

  async function lookup(chunk: string[]): Promise<unknown> {
    try {
      return (await http.get('/api/products', { query: { ids: chunk.join(','), limit: chunk.length } })).body;
    } catch (err) {
      if (err instanceof UpstreamUnavailableError) throw err.toProblem();
      if (err instanceof UpstreamError) {
        opts.log.error({ err, status: err.status }, `the catalogue refused the ${opts.caller}'s product lookup`);
        throw badGateway(err);
      }
      throw err;
    }
  }

  return {
    async books(ids) {
      const unique = [...new Set(ids)].sort();
      const found = new Map<string, CatalogBook>();
      for (let i = 0; i < unique.length; i += MAX_IDS) {
        const chunk = unique.slice(i, i + MAX_IDS);
        const body = await lookup(chunk);
        if (!ProductsAnswer.Check(body)) {
          opts.log.error({ errors: [...ProductsAnswer.Errors(body)].slice(0, 5) }, 'the catalogue answered the product lookup in an unexpected form');
          throw badGateway();
        }
        const wanted = new Set(chunk);
        for (const item of body.items) {
          if (!wanted.has(item.id)) continue;
          found.set(item.id, { id: item.id, title: item.title, price: money(item.price.amount, item.price.currency), active: item.status === 'active' });
        }
      }
      return found;
    },
    close: () => http.close(),
  };
}
