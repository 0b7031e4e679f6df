/**
 * Check 4 — confirmed plus reserved never exceed the stock (inventory database, per book).
 *
 * The inventory counts copies on the shelf (on_hand), of which `reserved` are promised to open orders;
 * confirmed (sold) copies have left on_hand for good. So "sold + reserved ≤ initial + restocked" is,
 * with check 5's ledger, "reserved ≤ on_hand":
 * 1. 0 ≤ reserved ≤ on_hand: every copy promised to an order is on the shelf (nothing oversold).
 * 2. reserved = Σ quantity of the book's reservation lines still held: the counter is what the
 *    reservations promise, not a number of its own.
 * Both are enforced by the inventory schema (CHECK stock_reserved_within_on_hand and the deferred
 * constraint triggers); the audit checks them anyway, independently of the code that writes them.
 */
import type { AuditContext, CheckResult, Offender } from './check.ts';

export function stockHeld(ctx: AuditContext): CheckResult {
  const offenders: Offender[] = [];
  for (const s of ctx.snapshot.stock) {
    if (s.reserved < 0 || s.reserved > s.onHand) {
      offenders.push({
        id: s.bookId,
        detail: `book has ${s.reserved} copies reserved but ${s.onHand} on hand: sold ${s.sold} + reserved ${s.reserved} exceed the ${s.sold + s.onHand} copies received`,
      });
    }
    if (s.reserved !== s.held) {
      offenders.push({ id: s.bookId, detail: `book counts ${s.reserved} reserved copies, but its open reservations hold ${s.held}` });
    }
  }
  return {
    name: 'stock-held',
    description: 'Confirmed plus reserved copies never exceed the stock (reserved ≤ on hand, and = the open reservations)',
    checked: ctx.snapshot.stock.length,
    unit: 'books',
    offenders,
  };
}
