// How the guard's outgoing calls fail: each within a deadline, each failure named by a short,
// low-cardinality code (a metric attribute and a log field), never swallowed.

/** What the guard calls out to, as the `operation` of guard.api.errors. */
export type Operation =
  | 'list_rooms'
  | 'list_participants'
  | 'delete_room'
  | 'query_open_calls'
  | 'get_calls'
  | 'update_call'
  | 'close_call';

export class DeadlineError extends Error {
  override name = 'TimeoutError';
}

/**
 * `work` given an abort signal that fires after `timeoutMs`; rejects then even if the work does not
 * listen (an SDK between retries).
 */
export async function withDeadline<T>(
  timeoutMs: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new DeadlineError(`no answer within ${timeoutMs} ms`);
      controller.abort(err);
      reject(err);
    }, timeoutMs);
  });
  try {
    return await Promise.race([work(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}

const snake = (s: string) =>
  s
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase()
    .slice(0, 48) || 'unknown';

/**
 * A short code for a failure: `timeout`, `network`, the server's code (LiveKit's `not_found`,
 * `unauthenticated`...), or the AWS error's name in snake case (`throttling_exception`...).
 */
export function errorCode(err: unknown): string {
  if (!(err instanceof Error)) return 'unknown';
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timeout';
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code !== '') return snake(code);
  // fetch reports an unreachable server as a TypeError ("fetch failed").
  if (err.name === 'TypeError') return 'network';
  return err.name === 'Error' ? 'unknown' : snake(err.name);
}

/** The room (or participant) is not there: for a delete, the work is already done. */
export function isNotFound(err: unknown): boolean {
  const e = err as { status?: unknown; code?: unknown } | null;
  return e?.status === 404 || e?.code === 'not_found';
}
