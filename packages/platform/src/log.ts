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
