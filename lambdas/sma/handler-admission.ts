// The shell's side of admission (docs/architecture.md, "Access and limits"): it asks before a new
// inbound call is decided and frees the slot once a decision takes the call from the agent.
// decide() only reads the verdict and says when to release.
import { admissionSubject, type DecideConfig } from './decide/index.js';
import type { Admission, AdmissionCheck, CallAdmission, LeaseRelease } from './admission/types.js';
import type { SmaEvent } from './events.js';
import type { Logger } from './logger.js';

export const ADMISSION_CHECKS = Object.keys({
  access: true,
  rate: true,
  capacity: true,
} satisfies Record<AdmissionCheck, true>) as AdmissionCheck[];

/** Beyond this from the invocation, LEG-A's start is not taken as the call's time. */
const CALL_START_TRUSTED_MS = 60_000;

/**
 * When admission dates a new call: LEG-A's start, so that a retried NEW_INBOUND_CALL asks the very
 * same question (same hour, same lease) and gets the same answer; the invocation's time when Chime
 * leaves the start out or it is far from now.
 */
export function admissionTime(ev: SmaEvent, nowMs: number): number {
  const startMs = ev.legA?.startMs;
  return startMs !== undefined && Math.abs(nowMs - startMs) <= CALL_START_TRUSTED_MS
    ? startMs
    : nowMs;
}

/**
 * An error for a log line: its type and where it was thrown stay plain; its text, which may quote
 * what it was given (a caller's number, Chime's or AWS's words), goes under `pii`.
 */
export function errorFields(err: unknown): {
  errorType: string;
  at?: string;
  pii: { errorMessage: string };
} {
  if (!(err instanceof Error))
    return { errorType: 'unknown_error', pii: { errorMessage: String(err) } };
  const frames = (err.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));
  return {
    errorType: err.name,
    at:
      frames
        .slice(0, 5)
        .map((l) => l.trim())
        .join(' | ') || undefined,
    pii: { errorMessage: err.message },
  };
}

/**
 * The verdict on a new inbound call, asked before it is decided; undefined for every other event.
 * Calls we place are not checked: we chose to place them. The adapter never rejects; should it, the
 * call goes as with DynamoDB down: an open use case admits it, any other sends it to people.
 */
export async function askAdmission(
  admission: CallAdmission,
  config: DecideConfig,
  ev: SmaEvent,
  nowMs: number,
  log: Logger,
): Promise<Admission | undefined> {
  const subject = admissionSubject(ev, config);
  if (!subject) return undefined;
  const { useCase, callerNumber } = subject;
  try {
    const verdict = await admission.admit({
      transactionId: ev.transactionId,
      useCase,
      callerNumber,
      nowMs: admissionTime(ev, nowMs),
    });
    if (verdict.errors?.length) {
      log.warn({ reason: 'admission_errors', errors: verdict.errors }, 'admission checks failed');
    }
    return verdict;
  } catch (err) {
    log.error({ reason: 'admission_failed', ...errorFields(err) }, 'admission failed');
    const verdict = useCase.access.mode === 'open' ? 'admit' : 'unknown';
    return { verdict, unchecked: ADMISSION_CHECKS };
  }
}

/** Frees the slot of a call that left the agent; a failure is logged (the lease expires anyway). */
export async function releaseLease(
  admission: CallAdmission,
  lease: LeaseRelease,
  log: Logger,
): Promise<void> {
  const errors = await admission
    .release(lease)
    .catch((err: unknown) => [errorFields(err).errorType]);
  if (errors.length > 0) log.warn({ reason: 'lease_release_failed', errors }, 'lease not released');
}
