// The call token: how the agent and the SMA know a call is one the SMA itself bridged. The SMA signs
// each call it sends to LiveKit (header X-Call-Token, attribute sma.callToken); the agent accepts a
// SIP participant only with a valid token for its TransactionId and SMA application id, and returns
// the token with every UpdateSipMediaApplicationCall, which the SMA acts on only when it verifies
// for that call. Both hold CALL_TOKEN_SECRET. docs/architecture.md, "The call token".
//
//   v1.<expires, epoch seconds>.<base64url HMAC-SHA256 over "v1|<TransactionId>|<application id>|<expires>">
//
// A call whose caller has a key (X-Caller-Key, contracts/callers.ts: what the caller's profile is
// keyed by) carries a fourth part that binds the key to the call, so a valid token cannot be paired
// with another caller's key:
//
//   ...<expires>.<call MAC>.<base64url HMAC-SHA256 over "v1-caller|<TransactionId>|<application id>|<expires>|<caller key>">
//
// The call's own check (verifyCallToken: the SMA's, Twilio's, the agent's) reads the first three
// parts alone; the agent checks the key's part too (verifyCallerKey) before it reads a profile.
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';

export const CALL_TOKEN_VERSION = 'v1';

/** At least 32 bytes of secret, as text (e.g. `openssl rand -base64 48`). */
export const callTokenSecret = z
  .string()
  .refine((s) => Buffer.byteLength(s, 'utf8') >= 32, 'must be at least 32 bytes');

export interface CallTokenClaims {
  transactionId: string;
  applicationId: string;
}

/** The claims of a call whose caller has a key: the token binds the key to the call. */
export interface CallerKeyClaims extends CallTokenClaims {
  callerKey: string;
}

/**
 * Whether the token binds the caller key: `bound`; `unbound` when the token binds none (a call the
 * SMA sent without a key); `mismatch` when it binds another key (or the token is not well formed).
 */
export type CallerKeyCheck = 'bound' | 'unbound' | 'mismatch';

export type CallTokenCheck =
  | { ok: true; expiresAtMs: number }
  | { ok: false; reason: 'missing' | 'malformed' | 'expired' | 'mismatch' };

const TOKEN = /^v1\.(\d{1,12})\.([A-Za-z0-9_-]{43})(?:\.([A-Za-z0-9_-]{43}))?$/;

function mac(claims: CallTokenClaims, expiresS: number, secret: string): Buffer {
  const text = [CALL_TOKEN_VERSION, claims.transactionId, claims.applicationId, expiresS].join('|');
  return createHmac('sha256', secret).update(text, 'utf8').digest();
}

function keyMac(claims: CallerKeyClaims, expiresS: number, secret: string): Buffer {
  const text = [
    `${CALL_TOKEN_VERSION}-caller`,
    claims.transactionId,
    claims.applicationId,
    expiresS,
    claims.callerKey,
  ].join('|');
  return createHmac('sha256', secret).update(text, 'utf8').digest();
}

/**
 * The token of a call, valid until `expiresAtMs` (rounded up to the second); with `callerKey` in
 * the claims, binding that key to the call.
 */
export function signCallToken(
  claims: CallTokenClaims & { callerKey?: string },
  expiresAtMs: number,
  secret: string,
): string {
  const expiresS = Math.ceil(expiresAtMs / 1000);
  const call = `${CALL_TOKEN_VERSION}.${expiresS}.${mac(claims, expiresS, secret).toString('base64url')}`;
  if (claims.callerKey === undefined) return call;
  const key = { ...claims, callerKey: claims.callerKey };
  return `${call}.${keyMac(key, expiresS, secret).toString('base64url')}`;
}

/**
 * Whether `token` binds `claims.callerKey` to the call. Checks the key's part only: the call's
 * own check is verifyCallToken's, made first.
 */
export function verifyCallerKey(
  token: string | undefined,
  claims: CallerKeyClaims,
  secret: string,
): CallerKeyCheck {
  const m = TOKEN.exec(token ?? '');
  if (!m) return 'mismatch';
  if (m[3] === undefined) return 'unbound';
  const given = Buffer.from(m[3], 'base64url');
  return timingSafeEqual(given, keyMac(claims, Number(m[1]), secret)) ? 'bound' : 'mismatch';
}

/** Whether `token` was signed with `secret` for exactly these claims and is not yet expired. */
export function verifyCallToken(
  token: string | undefined,
  claims: CallTokenClaims,
  secret: string,
  nowMs: number,
): CallTokenCheck {
  if (token === undefined || token === '') return { ok: false, reason: 'missing' };
  const m = TOKEN.exec(token);
  if (!m) return { ok: false, reason: 'malformed' };
  const expiresS = Number(m[1]);
  const given = Buffer.from(m[2]!, 'base64url');
  // Compared in constant time before the expiry is looked at, so timing says nothing of the MAC.
  const matches = timingSafeEqual(given, mac(claims, expiresS, secret));
  if (!matches) return { ok: false, reason: 'mismatch' };
  if (expiresS * 1000 <= nowMs) return { ok: false, reason: 'expired' };
  return { ok: true, expiresAtMs: expiresS * 1000 };
}
