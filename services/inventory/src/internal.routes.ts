/**
 * The internal reservation API (contract: @folio/contracts/internal), called by the order service.
 * Under /internal, which the edge gateway never routes; every call is idempotent so a saga step can
 * be repeated after a crash.
 */
import { ReservationResult, ReserveRequest } from '@folio/contracts/internal';
import type { App } from '@folio/platform/http';
import { problemResponses } from '@folio/platform/problem';
import { OrderIdParams, ReleaseResult, ReservationView } from './inventory.schemas.ts';
import type { ReservationService } from './reservation.service.ts';
import type { Reservation } from './reservation.state.ts';

const TAGS = ['internal'];

export function toResult(r: Reservation): ReservationResult {
  return { orderId: r.orderId, status: r.status, lines: r.lines, expiresAt: r.expiresAt.toISOString() };
}

export function toView(r: Reservation): ReservationView {
  const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
  return {
    ...toResult(r),
    createdAt: r.createdAt.toISOString(),
    confirmedAt: r.status === 'confirmed' ? r.confirmedAt.toISOString() : null,
    releasedAt: r.status === 'reserved' ? null : iso(r.releasedAt),
    restockedAt: r.status === 'confirmed' ? iso(r.restockedAt) : null,
  };
}

export function registerInternalRoutes(app: App, deps: { reservations: ReservationService }): void {
  const { reservations } = deps;

  app.post(
    '/internal/reservations',
    {
      schema: {
        tags: TAGS,
        summary: 'Reserve the stock of an order, all or nothing',
        description:
          'Idempotent by orderId: a repeat answers the reservation the order has. 409 INSUFFICIENT_STOCK (`books`: every short line) when any line lacks stock; then nothing is reserved. An unknown book has 0 available.',
        body: ReserveRequest,
        response: { 201: ReservationResult, ...problemResponses(400, 409) },
      },
    },
    async (request, reply) => {
      const { reservation } = await reservations.reserve(request.body);
      return reply.code(201).send(toResult(reservation));
    },
  );

  app.post(
    '/internal/reservations/:orderId/confirm',
    {
      schema: {
        tags: TAGS,
        summary: 'Confirm a reservation: its copies leave the stock for good',
        description:
          'Idempotent. A reservation that was released or expired meanwhile is taken again if the stock allows, else 409 RESERVATION_LOST (the order is refunded).',
        params: OrderIdParams,
        response: { 200: ReservationResult, ...problemResponses(400, 404, 409) },
      },
    },
    async (request) => toResult(await reservations.confirm(request.params.orderId)),
  );

  app.post(
    '/internal/reservations/:orderId/release',
    {
      schema: {
        tags: TAGS,
        summary: 'Release a reservation: its copies become available again',
        description: 'Idempotent; an order without a reservation answers status "none". A confirmed reservation cannot be released (409).',
        params: OrderIdParams,
        response: { 200: ReleaseResult, ...problemResponses(400, 409) },
      },
    },
    async (request) => {
      const reservation = await reservations.release(request.params.orderId);
      return reservation ? toResult(reservation) : { orderId: request.params.orderId.toLowerCase(), status: 'none' as const, lines: [], expiresAt: null };
    },
  );

  app.get(
    '/internal/reservations/:orderId',
    {
      schema: {
        tags: TAGS,
        summary: 'The reservation of an order',
        params: OrderIdParams,
        response: { 200: ReservationView, ...problemResponses(400, 404) },
      },
    },
    async (request) => toView(await reservations.get(request.params.orderId)),
  );
}
