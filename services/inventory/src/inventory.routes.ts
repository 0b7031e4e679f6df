/** Thin handlers of the public and admin API under /api/inventory: parse (the schemas do), call the service, shape the answer. */
import { authenticate, principalOf, requireRole, type TokenVerifier } from '@folio/platform/auth';
import type { App } from '@folio/platform/http';
import { problemResponses } from '@folio/platform/problem';
import { toView } from './internal.routes.ts';
import {
  BookIdParams,
  DEFAULT_RESERVATION_LIMIT,
  ReservationList,
  ReservationListQuery,
  RestockBody,
  StockList,
  StockListQuery,
  StockView,
} from './inventory.schemas.ts';
import type { ReservationService } from './reservation.service.ts';
import type { Stock } from './stock.repository.ts';
import type { StockService } from './stock.service.ts';

const TAGS = ['inventory'];

export const toStockView = (s: Stock): StockView => ({ bookId: s.bookId, onHand: s.onHand, reserved: s.reserved, available: s.available });

export function registerInventoryRoutes(app: App, deps: { stock: StockService; reservations: ReservationService; verifier: TokenVerifier }): void {
  const { stock, reservations } = deps;
  // In preValidation, so a caller without the right token is told so before anything about the input.
  const adminOnly = { preValidation: [authenticate(deps.verifier), requireRole('admin')] };

  app.get(
    '/api/inventory',
    {
      schema: {
        tags: TAGS,
        summary: 'Stock of several books',
        description: 'Books without stock are left out.',
        querystring: StockListQuery,
        response: { 200: StockList, ...problemResponses(400) },
      },
    },
    async (request) => ({ items: (await stock.list(request.query.ids)).map(toStockView) }),
  );

  // Listed before /:bookId for the reader only: the router prefers a static segment to a parameter in any order.
  app.get(
    '/api/inventory/reservations',
    {
      ...adminOnly,
      schema: {
        tags: TAGS,
        summary: 'Reservations, newest first (admin)',
        security: [{ bearerAuth: [] }],
        querystring: ReservationListQuery,
        response: { 200: ReservationList, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { orderId, status, limit } = request.query;
      const items = await reservations.list({
        limit: limit ?? DEFAULT_RESERVATION_LIMIT,
        ...(orderId ? { orderId } : {}),
        ...(status ? { status } : {}),
      });
      return { items: items.map(toView) };
    },
  );

  app.get(
    '/api/inventory/:bookId',
    {
      schema: {
        tags: TAGS,
        summary: 'Stock of a book',
        params: BookIdParams,
        response: { 200: StockView, ...problemResponses(400, 404) },
      },
    },
    async (request) => toStockView(await stock.get(request.params.bookId)),
  );

  app.post(
    '/api/inventory/:bookId/restock',
    {
      ...adminOnly,
      schema: {
        tags: TAGS,
        summary: 'Add delivered copies of a book (admin)',
        description: 'Opens the book’s stock if it has none yet.',
        security: [{ bearerAuth: [] }],
        params: BookIdParams,
        body: RestockBody,
        response: { 200: StockView, ...problemResponses(400, 401, 403, 409) },
      },
    },
    async (request) => toStockView(await stock.restock(principalOf(request), request.params.bookId, request.body.quantity)),
  );
}
