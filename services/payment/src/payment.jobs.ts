/**
 * The payment service's background jobs. Every instance runs them; each pass claims its rows with
 * FOR UPDATE SKIP LOCKED and a lease, so instances share the work and a row is never worked twice at once.
 */
import type { Job } from '@folio/platform/jobs';
import type { PaymentService } from './payment.service.ts';

/** Rows per pass; each may cost a gateway call, and a full batch makes the next pass start at once. */
const BATCH = 20;

export function paymentJobs(service: PaymentService, intervalMs: number): Job[] {
  const job = (name: string, run: (limit: number) => Promise<number>): Job => ({ name, intervalMs, batchSize: BATCH, run: () => run(BATCH) });
  return [
    // Pending payments whose session could not be created (gateway down): keep trying until the deadline.
    job('payment-session-creation', service.createMissingSessions),
    // Pending payments past their deadline: paid at the gateway after all (a missed callback) → success; else expired → timeout.
    job('payment-timeouts', service.expireOverdue),
    // Pending payments whose session is already final at the gateway: the callback was missed.
    job('payment-reconciliation', service.reconcile),
    // Refunds recorded while the gateway was unreachable.
    job('payment-refund-retries', service.retryRefunds),
    // Sessions of cancelled or replaced attempts that are still open at the gateway.
    job('payment-session-expiry', service.expireAbandonedSessions),
  ];
}
