// Callers in the calls table: how a phone number becomes a key that is not the number, and the
// items kept under it (docs/architecture.md, "Access and limits"). The SMA reads them on each new
// call; the verification API and `npm run access` write them.
//
//   pk caller#<key>  sk verified             a confirmed number (ExpiresAt: when it lapses)
//   pk caller#<key>  sk access#<use case|*>  List allow|block (for one use case, or all)
//   pk caller#<key>  sk code                 a pending one-time code (hashed), its attempts
//   pk caller#<key>  sk calls#<hour>         the calls of one clock hour (a string set of ids)
//   pk caller#<key>  sk sends#<window>       codes sent to the number in one window
//   pk source#<key>  sk sends#<window>       codes requested from one source address
//   pk limit#all | limit#usecase#<id>  sk leases   the calls holding a slot (a string set)
//
// <key> is HMAC-SHA256(CALLER_KEY_SECRET, number) in base64url: the same number always gives the
// same key, and without the secret a key cannot be turned back into a number by trying them all.
import { createHmac } from 'node:crypto';
import * as z from 'zod';

/** At least 32 bytes of secret, as text, used only for caller keys. */
export const callerKeySecret = z
  .string()
  .refine((s) => Buffer.byteLength(s, 'utf8') >= 32, 'must be at least 32 bytes');

/** A phone number's (or a source address's) key: 43 base64url characters. */
export function callerKey(value: string, secret: string): string {
  return createHmac('sha256', secret).update(value, 'utf8').digest('base64url');
}

export const callerPk = (key: string) => `caller#${key}`;
export const sourcePk = (key: string) => `source#${key}`;

export const VERIFIED_SK = 'verified';
export const CODE_SK = 'code';
/** The access item of one use case, or of all (`*`). */
export const accessSk = (useCaseId: string | '*') => `access#${useCaseId}`;
export const AccessList = z.enum(['allow', 'block']);
export type AccessList = z.infer<typeof AccessList>;

/** The clock hour of an epoch-ms time, as a sort key: `calls#2026-12-06T03`. */
export const callsSk = (nowMs: number) => `calls#${new Date(nowMs).toISOString().slice(0, 13)}`;
export const sendsSk = (windowStartMs: number) =>
  `sends#${new Date(windowStartMs).toISOString().slice(0, 16)}`;

/** Where the deployment's and each use case's call slots are leased. */
export const ALL_CALLS_PK = 'limit#all';
export const useCaseLimitPk = (useCaseId: string) => `limit#usecase#${useCaseId}`;
export const LEASES_SK = 'leases';
/** One call's lease: `<expires, epoch ms>#<TransactionId>`, so an expired one can be found. */
export const leaseOf = (transactionId: string, expiresAtMs: number) =>
  `${expiresAtMs}#${transactionId}`;
/** The call a lease belongs to. */
export const leaseTransaction = (lease: string) => lease.slice(lease.indexOf('#') + 1);
export function leaseExpiry(lease: string): number {
  const ms = Number(lease.slice(0, lease.indexOf('#')));
  return Number.isFinite(ms) ? ms : 0;
}
