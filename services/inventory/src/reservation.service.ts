/**
 * The rules of reservations: all or nothing, idempotent by order id, never oversold. Every change
 * runs in one transaction that locks the order's reservation first, then the stock rows in book_id
 * order (the same order everywhere, so concurrent orders cannot deadlock), asks the state machine
 * for the step, and writes the stock, the reservation and the StockChanged events together.
 */
import { INSUFFICIENT_STOCK, RESERVATION_LOST, type ReserveRequest } from '@folio/contracts/internal';
import { type Pool, type Tx, withTransaction } from '@folio/platform/db';
import type { Logger } from '@folio/platform/log';
import type { Outbox } from '@folio/platform/messaging/outbox';
import { ProblemError, problems } from '@folio/platform/problem';
import { Counter, type Registry } from 'prom-client';
import type { ShortBook } from './inventory.schemas.ts';
import { claimDue, findReservation, findReservations, insertLines, insertOrder, lockOrder, recordStep } from './reservation.repository.ts';
import {
  deltaOf,
  type Reservation,
  type ReservationCommand,
  type ReservationLine,
  type ReservationStatus,
  type Step,
  type StockEffect,
  stepFor,
} from './reservation.state.ts';
import { applyDeltas, lockStock, type Stock } from './stock.repository.ts';
import { announceAvailability } from './stock-changed.ts';

/** How far ahead a reservation may be held: the order service asks for its payment window plus a margin. */
export const MAX_HOLD_MS = 7 * 24 * 3600 * 1000;

export type Outcome =
  | { kind: 'missing' }
  | { kind: 'unchanged'; reservation: Reservation }
  | { kind: 'applied'; reservation: Reservation; from: ReservationStatus }
  | { kind: 'refused'; reservation: Reservation; reason: string }
  | { kind: 'short'; reservation: Reservation; books: ShortBook[] };

export interface ReservationService {
  /** 201 semantics: the new reservation, or the one the order already has. */
  reserve(request: ReserveRequest): Promise<{ reservation: Reservation; repeated: boolean }>;
  confirm(orderId: string): Promise<Reservation>;
  /** undefined when the order never reserved anything (releasing nothing is fine). */
  release(orderId: string): Promise<Reservation | undefined>;
  get(orderId: string): Promise<Reservation>;
  list(filter: { orderId?: string; status?: ReservationStatus; limit: number }): Promise<Reservation[]>;
  /** One sweep: expires up to `limit` reservations past their deadline; returns how many. */
  expireDue(limit: number): Promise<number>;
  /** A command in the caller's transaction (the event consumers'): refusals are logged, not thrown. */
  apply(tx: Tx, orderId: string, command: ReservationCommand): Promise<Outcome>;
}

const fieldProblem = (field: string, message: string) => problems.badRequest(`${field} ${message}`, [{ field, message }]);

function shortages(lines: readonly ReservationLine[], stock: ReadonlyMap<string, Stock>): ShortBook[] {
  return lines
    .map((l) => ({ bookId: l.bookId, requested: l.quantity, available: stock.get(l.bookId)?.available ?? 0 }))
    .filter((s) => s.requested > s.available);
}

function insufficientStock(books: ShortBook[]): ProblemError {
  const detail =
    books.length === 1
      ? `Not enough stock of book ${books[0]!.bookId}: ${books[0]!.requested} requested, ${books[0]!.available} available. Nothing was reserved.`
      : `Not enough stock of ${books.length} of the order's books. Nothing was reserved.`;
  return new ProblemError(409, detail, { type: INSUFFICIENT_STOCK, title: 'Insufficient stock', extensions: { books } });
}

function reservationLost(orderId: string, status: ReservationStatus, books: ShortBook[]): ProblemError {
  return new ProblemError(
    409,
    `The reservation of order ${orderId} was ${status} and its stock is gone (${books.length} book(s) short): it cannot be confirmed; refund the order.`,
    { type: RESERVATION_LOST, title: 'Reservation lost', extensions: { orderId, status, books } },
  );
}

/** One line per book: a book named twice is the caller's mistake, told by the field. */
function normaliseLines(lines: readonly ReservationLine[]): ReservationLine[] {
  const seen = new Map<string, number>();
  const out: ReservationLine[] = [];
  for (const [i, l] of lines.entries()) {
    const bookId = l.bookId.toLowerCase();
    const first = seen.get(bookId);
    if (first !== undefined)
      throw fieldProblem(`body/lines/${i}/bookId`, `repeats the book of body/lines/${first}; give each book once, with its total quantity`);
    seen.set(bookId, i);
    out.push({ bookId, quantity: l.quantity });
  }
  return out;
}

const ordersOf = (reservations: readonly Reservation[]): string[] => reservations.map((r) => r.orderId);
const bookIdsOf = (lines: readonly ReservationLine[]): string[] => lines.map((l) => l.bookId);
const deltasOf = (effect: StockEffect, lines: readonly ReservationLine[]) => lines.map((l) => deltaOf(effect, l));
/** Lines in book id order, as they are read back from the database. */
const byBookId = (lines: readonly ReservationLine[]): ReservationLine[] => [...lines].sort((a, b) => (a.bookId < b.bookId ? -1 : a.bookId > b.bookId ? 1 : 0));

const sameLines = (a: readonly ReservationLine[], b: readonly ReservationLine[]): boolean => {
  const key = (lines: readonly ReservationLine[]) =>
    lines
      .map((l) => `${l.bookId}:${l.quantity}`)
      .sort()
      .join(',');
  return key(a) === key(b);
};

export function createReservationService(deps: { pool: Pool; outbox: Outbox; log: Logger; metrics: Registry }): ReservationService {
  const { pool, outbox, log } = deps;
  const steps = new Counter({
    name: 'folio_inventory_reservation_steps_total',
    help: 'Reservation commands, by command and outcome (applied, unchanged, refused, missing, short, repeated)',
    labelNames: ['command', 'outcome'],
    registers: [deps.metrics],
  });

  /** Locks the order, asks the state machine, applies the step. */
  async function apply(tx: Tx, orderId: string, command: ReservationCommand): Promise<Outcome> {
    const outcome = await decideAndApply(tx, orderId, command);
    steps.inc({ command, outcome: outcome.kind });
    return outcome;
  }

  async function decideAndApply(tx: Tx, orderId: string, command: ReservationCommand): Promise<Outcome> {
    if (!(await lockOrder(tx, orderId))) return { kind: 'missing' };
    const current = await findReservation(tx, orderId);
    if (!current) throw new Error(`reservation of order ${orderId} has no lines`);
    const step: Step = stepFor(current, command);
    switch (step.kind) {
      case 'unchanged':
        return { kind: 'unchanged', reservation: current };
      case 'refuse':
        log.warn({ orderId, status: current.status, command, reason: step.reason }, 'illegal reservation transition refused');
        return { kind: 'refused', reservation: current, reason: step.reason };
      case 'apply': {
        const stock = await lockStock(tx, bookIdsOf(current.lines));
        if (step.effect === 'retake') {
          const short = shortages(current.lines, stock);
          if (short.length > 0) return { kind: 'short', reservation: current, books: short };
        }
        const changes = await applyDeltas(tx, deltasOf(step.effect, current.lines), { locked: true });
        await recordStep(tx, [orderId], step.to, step.effect);
        await announceAvailability(tx, outbox, changes);
        const reservation = (await findReservation(tx, orderId))!;
        log.info({ orderId, from: current.status, to: step.to, effect: step.effect }, `reservation ${command}: ${current.status} → ${step.to}`);
        return { kind: 'applied', reservation, from: current.status };
      }
      default: {
        const never: never = step;
        throw new Error(`unknown step ${JSON.stringify(never)}`);
      }
    }
  }

  return {
    apply,

    async reserve(request) {
      const lines = normaliseLines(request.lines);
      const orderId = request.orderId.toLowerCase();
      const expiresAt = new Date(request.expiresAt);
      const result = await withTransaction(pool, async (tx) => {
        // The order's row first: a concurrent repeat waits here for the first attempt's outcome.
        const opened = await insertOrder(tx, orderId, expiresAt);
        if (!opened) {
          const existing = await findReservation(tx, orderId);
          if (!existing) throw new Error(`reservation of order ${orderId} has no lines`);
          if (!sameLines(existing.lines, lines)) {
            throw problems.conflict(`Order ${orderId} already has a reservation, for other books or quantities; an order's lines do not change.`, {
              orderId,
            });
          }
          return { reservation: existing, repeated: true };
        }
        const ahead = expiresAt.getTime() - Date.now();
        if (ahead <= 0) throw fieldProblem('body/expiresAt', 'is in the past; a reservation is held until a future time');
        if (ahead > MAX_HOLD_MS) throw fieldProblem('body/expiresAt', 'is more than 7 days ahead; reservations are held for a payment window');

        const short = shortages(lines, await lockStock(tx, bookIdsOf(lines)));
        if (short.length > 0) throw insufficientStock(short); // rolls back the order's row too: nothing is reserved
        const changes = await applyDeltas(tx, deltasOf('hold', lines), { locked: true });
        await insertLines(tx, orderId, lines, expiresAt);
        await announceAvailability(tx, outbox, changes);
        const reservation: Reservation = { orderId, status: 'reserved', lines: byBookId(lines), expiresAt, createdAt: opened.createdAt };
        return { reservation, repeated: false };
      }).catch((err: unknown) => {
        if (err instanceof ProblemError && err.type === INSUFFICIENT_STOCK) steps.inc({ command: 'reserve', outcome: 'short' });
        throw err;
      });
      steps.inc({ command: 'reserve', outcome: result.repeated ? 'repeated' : 'applied' });
      if (!result.repeated) log.info({ orderId, lines: lines.length, expiresAt }, 'stock reserved');
      return result;
    },

    async confirm(orderId) {
      return withTransaction(pool, async (tx) => {
        const outcome = await apply(tx, orderId, 'confirm');
        switch (outcome.kind) {
          case 'missing':
            throw problems.notFound(`Order ${orderId} has no reservation.`);
          case 'unchanged':
          case 'applied':
            return outcome.reservation;
          case 'short':
            log.warn({ orderId, status: outcome.reservation.status, books: outcome.books }, 'lapsed reservation cannot be confirmed: stock gone');
            throw reservationLost(orderId, outcome.reservation.status, outcome.books);
          case 'refused':
            throw problems.conflict(`The reservation of order ${orderId} cannot be confirmed: ${outcome.reason}.`, {
              orderId,
              status: outcome.reservation.status,
            });
          default: {
            const never: never = outcome;
            throw new Error(`unknown outcome ${JSON.stringify(never)}`);
          }
        }
      });
    },

    async release(orderId) {
      return withTransaction(pool, async (tx) => {
        const outcome = await apply(tx, orderId, 'release');
        switch (outcome.kind) {
          case 'missing':
            return undefined;
          case 'unchanged':
          case 'applied':
            return outcome.reservation;
          case 'refused':
          case 'short':
            throw problems.conflict(
              `The reservation of order ${orderId} is ${outcome.reservation.status}: ${'reason' in outcome ? outcome.reason : 'it cannot be released'}.`,
              { orderId, status: outcome.reservation.status },
            );
          default: {
            const never: never = outcome;
            throw new Error(`unknown outcome ${JSON.stringify(never)}`);
          }
        }
      });
    },

    async get(orderId) {
      const reservation = await findReservation(pool, orderId);
      if (!reservation) throw problems.notFound(`Order ${orderId} has no reservation.`);
      return reservation;
    },

    list(filter) {
      return findReservations(pool, {
        ...(filter.orderId ? { orderIds: [filter.orderId.toLowerCase()] } : {}),
        ...(filter.status ? { status: filter.status } : {}),
        limit: filter.limit,
      });
    },

    async expireDue(limit) {
      const expired = await withTransaction(pool, async (tx) => {
        const orderIds = await claimDue(tx, limit);
        if (orderIds.length === 0) return [];
        const due = await findReservations(tx, { orderIds });
        const expiring: Reservation[] = [];
        for (const r of due) {
          const step = stepFor(r, 'expire');
          // Claimed as reserved under lock, so the table says apply; anything else is refused and logged, never applied.
          if (step.kind === 'apply' && step.to === 'expired' && step.effect === 'free') expiring.push(r);
          else log.warn({ orderId: r.orderId, status: r.status, step }, 'illegal reservation transition refused');
        }
        if (expiring.length === 0) return [];
        // One UPDATE per book for the whole batch, hence one StockChanged per book.
        const changes = await applyDeltas(
          tx,
          expiring.flatMap((r) => deltasOf('free', r.lines)),
        );
        await recordStep(tx, ordersOf(expiring), 'expired', 'free');
        await announceAvailability(tx, outbox, changes);
        return expiring;
      });
      if (expired.length > 0) {
        steps.inc({ command: 'expire', outcome: 'applied' }, expired.length);
        log.info({ orders: expired.map((r) => r.orderId) }, `${expired.length} reservation(s) expired, stock freed`);
      }
      return expired.length;
    },
  };
}
