/**
 * The inventory's internal reservation API (contracts/internal.ts). Every call is idempotent by order id,
 * so each is sent with an idempotency key and retried by the client on timeouts and outages.
 */
import { INSUFFICIENT_STOCK, RESERVATION_LOST, ReservationResult, type ReserveRequest, ShortBook } from '@folio/contracts/internal';
import { createHttpClient } from '@folio/platform/http-client';
import { type Static, Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { answerOf, badGateway, type ClientDeps, clientOptions, requestOr } from './upstream.ts';

const checkReservation = answerOf(ReservationResult);
const ShortBooks = Compile(Type.Array(ShortBook));
export type ShortBookLine = Static<typeof ShortBook>;

export type ReserveOutcome = { ok: true; reservation: ReservationResult } | { ok: false; short: ShortBookLine[] };
export type ConfirmOutcome = { ok: true; reservation: ReservationResult } | { ok: false; lost: true; detail: string };

export interface InventoryClient {
  /** All or nothing: the reservation, or every book that lacked stock. */
  reserve(request: ReserveRequest): Promise<ReserveOutcome>;
  /** The stock leaves for good; `lost` when the reservation lapsed and the stock is gone. */
  confirm(orderId: string): Promise<ConfirmOutcome>;
  /** Gives the reserved stock back. Idempotent; a reservation that does not exist counts as released, a confirmed one stays. */
  release(orderId: string): Promise<void>;
  close(): Promise<void>;
}

export function createInventoryClient(deps: ClientDeps): InventoryClient {
  const http = createHttpClient(clientOptions('inventory', deps));
  const path = (orderId: string, action: string) => `/internal/reservations/${encodeURIComponent(orderId)}/${action}`;
  return {
    async reserve(request) {
      const result = await requestOr(http, deps.log, (h) => h.post('/internal/reservations', request, { idempotencyKey: `reserve:${request.orderId}` }), [409]);
      if (result.ok) return { ok: true, reservation: checkReservation('inventory', deps.log, result.value.body) };
      const { problem } = result.refusal;
      const books = (problem as { books?: unknown }).books;
      if (problem.type !== INSUFFICIENT_STOCK || !ShortBooks.Check(books)) {
        deps.log.error({ problem }, 'the inventory refused a reservation with an unexpected conflict');
        throw badGateway('inventory');
      }
      return { ok: false, short: books };
    },
    async confirm(orderId) {
      const result = await requestOr(http, deps.log, (h) => h.post(path(orderId, 'confirm'), undefined, { idempotencyKey: `confirm:${orderId}` }), [409]);
      if (result.ok) return { ok: true, reservation: checkReservation('inventory', deps.log, result.value.body) };
      const { problem } = result.refusal;
      if (problem.type !== RESERVATION_LOST) {
        deps.log.error({ problem, orderId }, 'the inventory refused a confirmation with an unexpected conflict');
        throw badGateway('inventory');
      }
      return { ok: false, lost: true, detail: String(problem.detail ?? 'reservation lost') };
    },
    async release(orderId) {
      const result = await requestOr(http, deps.log, (h) => h.post(path(orderId, 'release'), undefined, { idempotencyKey: `release:${orderId}` }), [404, 409]);
      // 409: confirmed meanwhile — its stock left for good and is the order's to give back by a refund, not ours to release.
      if (!result.ok) deps.log.warn({ orderId, status: result.refusal.status, detail: result.refusal.problem.detail }, 'reservation not released');
    },
    close: () => http.close(),
  };
}
