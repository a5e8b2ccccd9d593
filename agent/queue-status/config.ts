// The worker's queue-status settings, from its environment (docs/configuration.md lists each).
// Without CONNECT_REGION no queue is checked: callers are transferred without a word about the
// wait, as before.
import * as z from 'zod';
import { REGION_PATTERN } from '../call-context.js';

export const queueStatusEnvSchema = z.object({
  /** The region of the Amazon Connect instance the use cases' queues are in. */
  CONNECT_REGION: z.string().regex(REGION_PATTERN, 'must be an AWS region (us-east-1)').optional(),
  /** How long a queue's figures are served before they are read again. */
  CONNECT_STATUS_FRESH_MS: z.coerce.number().int().min(1000).max(60_000).default(5000),
  /** Connect requests one worker sends per second at most (Connect's quota: about 5 per account). */
  CONNECT_MAX_REQUESTS_PER_SECOND: z.coerce.number().min(0.1).max(5).default(1),
  /** How long a queue's hours (weekly, and effective: overrides applied) are kept before re-reading. */
  CONNECT_HOURS_REFRESH_MS: z.coerce.number().int().min(1000).max(3_600_000).default(300_000),
  /** Each Connect request's deadline. */
  CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(10_000).default(1000),
});

export interface QueueStatusConfig {
  region: string;
  freshMs: number;
  hoursRefreshMs: number;
  maxRequestsPerSecond: number;
  timeoutMs: number;
}

export class QueueStatusConfigError extends Error {
  override name = 'QueueStatusConfigError';
}

/** The settings, or undefined when queue checks are off (no CONNECT_REGION). */
export function loadQueueStatusConfig(
  env: Record<string, string | undefined>,
): QueueStatusConfig | undefined {
  const res = queueStatusEnvSchema.safeParse(env);
  if (!res.success) {
    const lines = res.error.issues.map((i) => `  ${String(i.path[0])}: ${i.message}`);
    throw new QueueStatusConfigError(`queue status configuration is invalid:\n${lines.join('\n')}`);
  }
  const e = res.data;
  if (e.CONNECT_REGION === undefined) return undefined;
  return {
    region: e.CONNECT_REGION,
    freshMs: e.CONNECT_STATUS_FRESH_MS,
    hoursRefreshMs: e.CONNECT_HOURS_REFRESH_MS,
    maxRequestsPerSecond: e.CONNECT_MAX_REQUESTS_PER_SECOND,
    timeoutMs: e.CONNECT_TIMEOUT_MS,
  };
}
