// The call token: how the agent and the SMA know a call is one the SMA itself bridged. The SMA signs
// each call it sends to LiveKit (header X-Call-Token, attribute sma.callToken); the agent accepts a
// SIP participant only with a valid token for its TransactionId and SMA application id, and returns
// the token with every UpdateSipMediaApplicationCall, which the SMA acts on only when it verifies
// for that call. Both hold CALL_TOKEN_SECRET. docs/architecture.md, "The call token".
//
//   v1.<expires, epoch seconds>.<base64url HMAC-SHA256 over "v1|<TransactionId>|<application id>|<expires>">
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

export type CallTokenCheck =
  | { ok: true; expiresAtMs: number }
  | { ok: false; reason: 'missing' | 'malformed' | 'expired' | 'mismatch' };

const TOKEN = /^v1\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

function mac(claims: CallTokenClaims, expiresS: number, secret: string): Buffer {
  const text = [CALL_TOKEN_VERSION, claims.transactionId, claims.applicationId, expiresS].join('|');
  return createHmac('sha256', secret).update(text, 'utf8').digest();
}

/** The token of a call, valid until `expiresAtMs` (rounded up to the second). */
export function signCallToken(
  claims: CallTokenClaims,
  expiresAtMs: number,
  secret: string,
): string {
  const expiresS = Math.ceil(expiresAtMs / 1000);
  return `${CALL_TOKEN_VERSION}.${expiresS}.${mac(claims, expiresS, secret).toString('base64url')}`;
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
