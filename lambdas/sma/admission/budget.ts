// One time budget for every DynamoDB request of one admission (or one release): the requests are
// aborted when it runs out, and a request whose SDK is between retries, and not listening to the
// signal, is given up on all the same.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

export interface Budget {
  signal: AbortSignal;
  /** Rejects with the signal's reason when the budget runs out. */
  expired: Promise<never>;
}

export function budgetOf(timeoutMs: number): Budget {
  const signal = AbortSignal.timeout(timeoutMs);
  const expired = new Promise<never>((_, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  expired.catch(() => undefined);
  return { signal, expired };
}

/** What a request came to: its result, its condition failing, or a short code of why it failed. */
export type Outcome<T> =
  | { ok: true; value: T }
  | { ok: false; conflict: true }
  | { ok: false; conflict: false; code: string };

/** Runs a request within the budget; never rejects. A spent budget sends nothing. */
export async function within<T>(
  budget: Budget,
  send: (abortSignal: AbortSignal) => Promise<T>,
): Promise<Outcome<T>> {
  if (budget.signal.aborted) return { ok: false, conflict: false, code: 'timeout' };
  try {
    return { ok: true, value: await Promise.race([send(budget.signal), budget.expired]) };
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return { ok: false, conflict: true };
    if (budget.signal.aborted) return { ok: false, conflict: false, code: 'timeout' };
    return { ok: false, conflict: false, code: err instanceof Error ? err.name : 'unknown_error' };
  }
}
