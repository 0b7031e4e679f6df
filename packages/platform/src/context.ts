import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/**
 * What travels with one unit of work (an HTTP request, a consumed message) so that
 * logs, outgoing HTTP calls and published events all carry the same correlation id.
 */
export interface WorkContext {
  correlationId: string;
  requestId?: string;
}

export const CORRELATION_HEADER = 'x-correlation-id';
export const REQUEST_ID_HEADER = 'x-request-id';

const storage = new AsyncLocalStorage<WorkContext>();

export function runWithContext<T>(ctx: WorkContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

export function currentContext(): WorkContext | undefined {
  return storage.getStore();
}

/** The correlation id of the work in progress, or a fresh one for work that started on its own (a sweeper tick). */
export function correlationId(): string {
  return storage.getStore()?.correlationId ?? randomUUID();
}

/** Accepts a caller-supplied id only if it is a sane token, so logs cannot be polluted through a header. */
export function sanitizeId(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(value) ? value : undefined;
}
