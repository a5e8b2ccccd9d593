// The identifiers every part agrees on: phone numbers, queue keys, use-case ids and the agent's
// name. Each is written here once; docs/architecture.md, "Contracts", describes them.
import * as z from 'zod';

/**
 * E.164 as Chime validates it for CallAndBridge and CreateSipMediaApplicationCall: a plus, a
 * non-zero digit, at most 15 digits in all.
 * https://docs.aws.amazon.com/chime-sdk/latest/dg/call-and-bridge.html
 */
export const E164_PATTERN = /^\+[1-9]\d{1,14}$/;

export const e164 = z.string().regex(E164_PATTERN, 'must be an E.164 number like +15550100311');

export function isE164(value: string | undefined): value is string {
  return value !== undefined && E164_PATTERN.test(value);
}

/**
 * Queue keys are names, never numbers: the agent (and so the caller) can only name a key, and the
 * SMA handler maps it to a number from its own use cases.
 */
export const queueKey = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,31}$/, 'must be a lower-case name like "general" or "billing"');

export const useCaseId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'must be a lower-case name like "city-services"');

/**
 * The name the agent worker registers under and the SIP dispatch rule dispatches (AGENT_NAME
 * overrides it in both; they must agree).
 */
export const DEFAULT_AGENT_NAME = 'callbridge-agent';
