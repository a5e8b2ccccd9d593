// The logging rules every process shares: pino at LOG_LEVEL, and personal data (phone numbers,
// digits, transcripts) only under a `pii` field, which is removed from every line unless
// LOG_PII=true (a development setting).
import * as z from 'zod';

export const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** The logging variables, spread into each process's environment schema. */
export const loggingEnv = {
  LOG_LEVEL: LogLevel.default('info'),
  LOG_PII: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
};

/** pino's `redact` option: drop `pii` unless personal data may be logged. */
export function piiRedaction(logPii: boolean): string[] | { paths: string[]; remove: true } {
  return logPii ? [] : { paths: ['pii'], remove: true };
}
