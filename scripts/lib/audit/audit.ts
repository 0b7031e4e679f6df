/**
 * The consistency audit: reads every service's database (snapshot.ts) and runs the checks over what
 * it read. Used by `npm run audit` (scripts/audit.ts), the end-to-end suites and the benchmark.
 *
 * Seed 004 §11 states "Total Orders = Total Payments; Paid Orders = Successful Payments; Cancelled Orders
 * = Failed Payments" for one payment per order. Folio lets an order take several attempts, at most one of
 * which captures money, so the audit reads them per order: every order has attempts and every attempt an
 * order; a paid order's money was captured by exactly one attempt; a cancelled order kept no money (its
 * attempts all failed, were cancelled or timed out, or a late capture was refunded). seed-equations.ts
 * prints both sides of each equation.
 *
 * Every check names its rules in its header. Changes younger than the grace (graceSeconds) may still be in
 * flight between services and are not judged.
 */
import { afterPaid } from './after-paid.ts';
import { type Check, type CheckResult, contextOf } from './check.ts';
import { deadlines } from './deadlines.ts';
import { oneSuccess } from './one-success.ts';
import { orderStatus } from './order-status.ts';
import { reservationsFollowOrders } from './reservations.ts';
import { seedEquations } from './seed-equations.ts';
import { AUDITED_SERVICES, type AuditedService, readSnapshot } from './snapshot.ts';
import { stockHeld } from './stock-held.ts';
import { stockLedger } from './stock-ledger.ts';

export type { CheckResult, Offender } from './check.ts';
export { AUDITED_SERVICES, AuditDatabaseError, type AuditedService } from './snapshot.ts';

/** The checks, in report order (numbered as in the issue). */
export const CHECKS: readonly Check[] = [seedEquations, oneSuccess, orderStatus, stockHeld, stockLedger, reservationsFollowOrders, afterPaid, deadlines];

export const DEFAULT_GRACE_SECONDS = 60;

export interface AuditOptions {
  /** The connection URL of a service's own database. */
  databaseUrl: (service: AuditedService) => string;
  /** How long a change may be in flight before its effects are expected (default 60 s). */
  graceSeconds?: number;
  /** The audit's "now" (default: the order database's clock when it was read). */
  now?: Date;
}

export interface AuditReport {
  /** The instant the audit judged by. */
  at: string;
  graceSeconds: number;
  /** The database each service was read from (host:port/name, no credentials). */
  databases: Record<string, string>;
  checks: CheckResult[];
  /** Offenders over every check: 0 means consistent. */
  violations: number;
  ok: boolean;
}

function describe(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Reads the databases and runs every check. Throws AuditDatabaseError when a database cannot be read. */
export async function runAudit(opts: AuditOptions): Promise<AuditReport> {
  const graceSeconds = opts.graceSeconds ?? DEFAULT_GRACE_SECONDS;
  const snapshot = await readSnapshot(opts.databaseUrl);
  const ctx = contextOf(snapshot, graceSeconds, opts.now ?? snapshot.now);
  const checks = CHECKS.map((check) => check(ctx));
  const violations = checks.reduce((n, c) => n + c.offenders.length, 0);
  const databases = Object.fromEntries(AUDITED_SERVICES.map((s) => [s, describe(opts.databaseUrl(s))]));
  return { at: ctx.now.toISOString(), graceSeconds, databases, checks, violations, ok: violations === 0 };
}
