// The lab's SMA as the agent worker knows it: the application id and region the lab's simulated
// Chime calls carry, and the development call-token secret the lab's SMA handler signs with
// (lab/chime/local-sma-env.ts). Every agent worker the lab starts takes calls from this SMA only;
// tests that place a call straight to livekit-sip sign its token here, as the SMA would.
import { signCallToken } from '../../contracts/call-token.js';
import { DEVELOPMENT_CALL_TOKEN_SECRET } from '../chime/local-sma-env.js';

export const LAB_SMA = { applicationId: 'local-sma', region: 'us-east-1' } as const;

/** The worker's variables (agent/config.ts) that make it take the lab SMA's calls and no others. */
export const LAB_AGENT_CALL_ENV = {
  CALL_TOKEN_SECRET: DEVELOPMENT_CALL_TOKEN_SECRET,
  SMA_APPLICATION_ID: LAB_SMA.applicationId,
  SMA_REGION: LAB_SMA.region,
} as const;

/** Longer than any call a test or benchmark places. */
const LAB_CALL_TOKEN_TTL_MS = 15 * 60_000;

export interface LabCallTokenOptions {
  /** Another SMA's application id (default: the lab's). */
  applicationId?: string;
  /** Signing time (default now); a past one makes an expired token. */
  nowMs?: number;
  ttlMs?: number;
}

/** The token the lab's SMA would sign for the call `transactionId`. */
export function labCallToken(transactionId: string, opts: LabCallTokenOptions = {}): string {
  const expiresAtMs = (opts.nowMs ?? Date.now()) + (opts.ttlMs ?? LAB_CALL_TOKEN_TTL_MS);
  const applicationId = opts.applicationId ?? LAB_SMA.applicationId;
  return signCallToken(
    { transactionId, applicationId },
    expiresAtMs,
    DEVELOPMENT_CALL_TOKEN_SECRET,
  );
}
