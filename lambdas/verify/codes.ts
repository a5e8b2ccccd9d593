// One-time codes: made, hashed for storage and checked. A code is never stored, logged or compared
// as itself: the table keeps HMAC-SHA256(CALLER_KEY_SECRET, caller key + code), so reading the
// table gives neither the number nor the code.
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';

export const CODE_DIGITS = 6;
/** How long a code can be confirmed after it was sent. */
export const CODE_TTL_MS = 10 * 60_000;
/** Confirmations one code allows, right or wrong; after them it is locked until it expires. */
export const MAX_ATTEMPTS = 5;
/** How long a confirmed number stays in the table (the SMA checks each use case's own days). */
export const VERIFIED_TTL_MS = 365 * 86_400_000;

export const codeSchema = z
  .string()
  .regex(new RegExp(`^\\d{${CODE_DIGITS}}$`), `must be the ${CODE_DIGITS} digits of the SMS`);

/** Six uniformly random digits (leading zeros kept). */
export function newCode(): string {
  return String(randomInt(0, 10 ** CODE_DIGITS)).padStart(CODE_DIGITS, '0');
}

/** What the table keeps of a code: bound to the caller's key, so a hash is useless elsewhere. */
export function hashCode(secret: string, key: string, code: string): string {
  return createHmac('sha256', secret).update(`${key}:${code}`, 'utf8').digest('base64url');
}

/** Whether `code` is the one whose hash was stored, in time independent of where they differ. */
export function codeMatches(
  secret: string,
  key: string,
  code: string,
  storedHash: string,
): boolean {
  const expected = Buffer.from(storedHash, 'base64url');
  const actual = Buffer.from(hashCode(secret, key, code), 'base64url');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The start of the fixed window holding `nowMs` (windows are aligned on the epoch). */
export function windowStart(nowMs: number, windowMs: number): number {
  return Math.floor(nowMs / windowMs) * windowMs;
}

/** Epoch seconds, rounded up: DynamoDB's TTL attribute. */
export const epochSeconds = (ms: number) => Math.ceil(ms / 1000);

/** The SMS: the code and the service's name, nothing about the caller. */
export function smsText(serviceName: string, code: string): string {
  const minutes = CODE_TTL_MS / 60_000;
  return `${code} is your ${serviceName} verification code. It expires in ${minutes} minutes. Do not share it.`;
}
