/**
 * Check 5 — stock + units sold = initial + restocked (inventory database, per book).
 *
 * 1. on_hand + sold = initial + restocked: every copy the shop received is on the shelf or sold.
 * 2. sold = Σ quantity of the book's confirmed reservation lines: the units sold are the copies the
 *    confirmed orders took (a refund returns copies through `restocked`; `sold` never goes down).
 * 3. Σ quantity of confirmed lines returned by a refund (restocked_at set) ≤ restocked: copies came back
 *    only through the restocked counter (which also counts deliveries, hence ≤).
 * Rule 1 is also the schema's CHECK stock_copies_accounted; rules 2 and 3 are not enforced there.
 */
import type { AuditContext, CheckResult, Offender } from './check.ts';

export function stockLedger(ctx: AuditContext): CheckResult {
  const offenders: Offender[] = [];
  for (const s of ctx.snapshot.stock) {
    if (s.onHand + s.sold !== s.initial + s.restocked) {
      offenders.push({
        id: s.bookId,
        detail: `book: on hand ${s.onHand} + sold ${s.sold} = ${s.onHand + s.sold}, but initial ${s.initial} + restocked ${s.restocked} = ${s.initial + s.restocked}`,
      });
    }
    if (s.sold !== s.confirmed) {
      offenders.push({ id: s.bookId, detail: `book counts ${s.sold} copies sold, but its confirmed reservations took ${s.confirmed}` });
    }
    if (s.returned > s.restocked) {
      offenders.push({ id: s.bookId, detail: `book had ${s.returned} copies returned by refunds, but counts only ${s.restocked} restocked` });
    }
  }
  return {
    name: 'stock-ledger',
    description: 'Stock + units sold = initial + restocked, and units sold = the confirmed reservations',
    checked: ctx.snapshot.stock.length,
    unit: 'books',
    offenders,
  };
}
