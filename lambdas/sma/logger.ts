// Structured logs (pino) on stderr: CloudWatch takes both streams in Lambda, and `sma:replay`
// keeps stdout for responses. Phone numbers and other personal data go only under `pii`, which is
// removed unless LOG_PII=true.
import { pino, type DestinationStream, type Logger } from 'pino';
import { piiRedaction } from '../../otel/logging.js';

export type { Logger };

export function createLogger(
  opts: { level: string; pii: boolean; name?: string },
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      name: opts.name ?? 'sma',
      level: opts.level,
      base: undefined,
      redact: piiRedaction(opts.pii),
    },
    // Synchronous: a frozen Lambda environment must not lose buffered lines.
    destination ?? pino.destination({ fd: 2, sync: true }),
  );
}
