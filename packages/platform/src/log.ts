import { type Logger, type LoggerOptions, pino } from 'pino';
import { currentContext } from './context.ts';

export type { Logger } from 'pino';

export interface LoggerSettings {
  /** The service or component name, on every line. */
  name: string;
  level?: string;
}

/**
 * Structured JSON logs. Every line written while a unit of work is running carries its
 * correlation id (and request id), taken from the async context, so one checkout can be
 * followed across services with a single grep.
 */
export function createLogger({ name, level = process.env.LOG_LEVEL ?? 'info' }: LoggerSettings): Logger {
  const options: LoggerOptions = {
    name,
    level,
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin() {
      const ctx = currentContext();
      return ctx ? { correlationId: ctx.correlationId, requestId: ctx.requestId } : {};
    },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token', '*.refreshToken'],
      censor: '[redacted]',
    },
  };
  return pino(options);
}

/**
 * "Listing topics failed. (connect ECONNREFUSED 127.0.0.1:9092)": an error's top message and its distinct
 * root causes, for a log line or a probe. Kafka client errors nest aggregates four deep: logged whole, one
 * failure is kilobytes.
 */
export function summarizeError(err: unknown): string {
  const roots = new Set<string>();
  const walk = (e: unknown, depth: number): void => {
    if (!e || depth > 8) return;
    const nested = [...((e as { aggregateErrors?: unknown[] }).aggregateErrors ?? (e as { errors?: unknown[] }).errors ?? [])];
    if ((e as Error).cause) nested.push((e as Error).cause);
    if (nested.length === 0) roots.add((e as Error).message ?? String(e));
    for (const n of nested) walk(n, depth + 1);
  };
  walk(err, 0);
  const top = (err as Error)?.message ?? String(err);
  const causes = [...roots].filter((r) => r !== top).slice(0, 3);
  return causes.length > 0 ? `${top} (${causes.join('; ')})` : top;
}
