// A time budget for the requests a call waits on (journal writes, admission, use case reads, call
// updates, Connect): its signal aborts the requests when it runs out, and `expired` rejects at the same moment,
// so that a request whose SDK is between retries, not listening to the signal, is given up all the
// same. `within` runs one DynamoDB request in a budget and says what it came to.
//
// The budget is called spent one turn of the event loop after its timer fires. After the loop has
// been held up (a long synchronous stretch, a busy machine), Node runs the timers that came due
// before it reads the sockets, so a reply that arrived in time would otherwise lose to the budget:
// the write is done in DynamoDB and reported as a timeout. `setImmediate` runs after the sockets
// are read.

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

export interface TimeBudget {
  signal: AbortSignal;
  /** Rejects with the signal's reason when the budget runs out; never unhandled. */
  expired: Promise<never>;
}

export function timeBudget(timeoutMs: number): TimeBudget {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    // Not unref'd: an unref'd immediate lets the loop sleep in its poll until the next event.
    setImmediate(() =>
      controller.abort(
        new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
      ),
    );
  }, timeoutMs);
  // Like AbortSignal.timeout: a budget does not keep the process alive.
  timer.unref();
  const { signal } = controller;
  const expired = new Promise<never>((_, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  expired.catch(() => undefined);
  return { signal, expired };
}

/** `work`, or the budget's reason if it runs out first. */
export function raceBudget<T>(work: Promise<T>, budget: TimeBudget): Promise<T> {
  return Promise.race([work, budget.expired]);
}

/** A failed request's short code: `timeout` once the budget is spent, else the error's name. */
export function failureCode(err: unknown, budget: TimeBudget): string {
  if (budget.signal.aborted) return 'timeout';
  return err instanceof Error ? err.name : 'unknown_error';
}

/** What a request came to: its result, its condition failing, or a short code of why it failed. */
export type Outcome<T> =
  | { ok: true; value: T }
  | { ok: false; conflict: true }
  | { ok: false; conflict: false; code: string };

/** Runs a request within the budget; never rejects. A spent budget sends nothing. */
export async function within<T>(
  budget: TimeBudget,
  send: (abortSignal: AbortSignal) => Promise<T>,
): Promise<Outcome<T>> {
  if (budget.signal.aborted) return { ok: false, conflict: false, code: 'timeout' };
  try {
    return { ok: true, value: await raceBudget(send(budget.signal), budget) };
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return { ok: false, conflict: true };
    return { ok: false, conflict: false, code: failureCode(err, budget) };
  }
}
