// How Chime calls an SMA Lambda (https://docs.aws.amazon.com/chime-sdk/latest/dg/timeouts.html):
// synchronously; if no answer came within 5 s it invokes again with the same event (same
// Sequence: the handler must be idempotent per Sequence); if nothing came back after 20 s it hangs
// up; a function error is retried once, and when the retries have run out the call ends (480).
//
// The guide does not say how many times a silent function is re-invoked within the 20 s. This
// reads "waits 5 seconds … before retrying an invocation" per attempt: every attempt that has not
// answered after `retryAfterMs` starts another one (0, 5, 10 and 15 s with the defaults), the
// first answer to arrive is used, and later answers are ignored.

export interface InvokeTiming {
  retryAfterMs: number;
  giveUpAfterMs: number;
  /** How many function errors are retried (Chime: once). */
  errorRetries: number;
}

export const CHIME_INVOKE_TIMING: InvokeTiming = {
  retryAfterMs: 5_000,
  giveUpAfterMs: 20_000,
  errorRetries: 1,
};

export interface InvokeFailure {
  ok: false;
  reason: 'timeout' | 'function-error';
  attempts: number;
  error?: unknown;
}
export type InvokeResult = { ok: true; answer: unknown; attempts: number } | InvokeFailure;

/** A line for the timeline: why Chime ended the call. */
export function whyDropped(f: InvokeFailure, giveUpAfterMs: number): string {
  if (f.reason === 'timeout')
    return `no answer from the handler within ${giveUpAfterMs} ms (${f.attempts} invocations)`;
  const what = f.error instanceof Error ? f.error.message : String(f.error);
  return `the handler failed ${f.attempts} times, the call ends with 480 (${what})`;
}

/** Invokes `handler` with `event` as Chime does; never rejects. */
export function invokeLikeChime(
  handler: (event: unknown) => Promise<unknown>,
  event: unknown,
  timing: InvokeTiming,
): Promise<InvokeResult> {
  return new Promise((resolve) => {
    let attempts = 0;
    let errors = 0;
    let settled = false;
    const timers = new Set<NodeJS.Timeout>();
    const finish = (result: InvokeResult) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      resolve(result);
    };
    const attempt = () => {
      attempts += 1;
      const retry = setTimeout(() => {
        timers.delete(retry);
        attempt();
      }, timing.retryAfterMs);
      timers.add(retry);
      // Each attempt gets its own copy, as each Lambda invocation gets its own JSON.
      new Promise<unknown>((r) => r(handler(structuredClone(event)))).then(
        (answer) => finish({ ok: true, answer, attempts }),
        (error: unknown) => {
          clearTimeout(retry);
          timers.delete(retry);
          if (settled) return;
          errors += 1;
          if (errors <= timing.errorRetries) attempt();
          else finish({ ok: false, reason: 'function-error', attempts, error });
        },
      );
    };
    const giveUp = setTimeout(
      () => finish({ ok: false, reason: 'timeout', attempts }),
      timing.giveUpAfterMs,
    );
    timers.add(giveUp);
    attempt();
  });
}
