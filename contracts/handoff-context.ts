// The context a person in Amazon Connect gets with a transferred caller (docs/architecture.md,
// "Context for the person"): what the agent hands over with its transfer request, how the SMA keeps
// it for the call under a claimed "rolling" Connect number, and the flat string attributes the
// connect-context Lambda (lambdas/connect-context/) returns to Connect's contact flow.
//
// The summary is personal data (it quotes the caller): it lives only in the claim item, bounded by
// its expiry, and in the Connect contact's attributes; it is never logged outside `pii.*`, never a
// metric label or a key. Keys name the use case, the queue and the pool slot, never a number.
import * as z from 'zod';
import { queueKey, useCaseId } from './ids.js';

/**
 * Longest summary the agent sends (characters): a few sentences, for the person's screen (the
 * contact's attributes). The whisper reads the topic, not the summary: the caller waits through it.
 */
export const HANDOFF_SUMMARY_MAX = 400;
/** Longest topic (characters): the use case's frequent question the caller's words matched. */
export const HANDOFF_TOPIC_MAX = 80;

/**
 * What the agent knows of who the caller is: `verified` (the use case admits only numbers confirmed
 * by a one-time code or on its allow list, and this caller reached the agent), `unverified` (an
 * open use case: the number was not checked).
 */
export const CallerVerification = z.enum(['verified', 'unverified']);
export type CallerVerification = z.infer<typeof CallerVerification>;

/** The handed-over context as the SMA stores it for the call. */
export const HandoffContext = z.object({
  summary: z.string().max(HANDOFF_SUMMARY_MAX),
  /** Empty when no frequent question matched. */
  topic: z.string().max(HANDOFF_TOPIC_MAX),
  /** The transfer's reason (a TransferReason, contracts/reasons.ts). */
  reason: z.string().max(32),
  verification: CallerVerification,
  /** The call's trace id (32 hex digits): where the person's team finds the call's telemetry. */
  traceId: z.string().regex(/^[0-9a-f]{32}$/),
  useCase: useCaseId,
  queue: queueKey,
});
export type HandoffContext = z.infer<typeof HandoffContext>;

/** The claim item of one rolling number: `pk` names the use case's queue, `sk` the pool slot. */
export const handoffPk = (useCase: string, queue: string) => `handoff#${useCase}#${queue}`;
export const handoffSk = (slot: number) => `line#${String(slot).padStart(2, '0')}`;

/** At most this many rolling numbers per queue (the pool's slots are two digits). */
export const ROLLING_NUMBERS_MAX = 50;

/**
 * The attributes Connect gets, and nothing else: the flow sets them on the contact and the whisper
 * reads them (infra/connect/). An unknown number gets an empty map.
 */
export const ConnectContextAttribute = {
  found: 'callbridgeContext',
  summary: 'callbridgeSummary',
  topic: 'callbridgeTopic',
  reason: 'callbridgeReason',
  verification: 'callbridgeVerification',
  traceId: 'callbridgeTraceId',
  queue: 'callbridgeQueue',
  /** The sentence the agent whisper reads to the person before the caller is connected. */
  whisper: 'callbridgeWhisper',
} as const;

const REASON_WORDS: Record<string, string> = {
  caller_asked: 'the caller asked for a person',
  out_of_scope: 'the assistant could not help with this',
  not_understood: 'the assistant could not understand the caller',
  agent_error: 'the assistant had a problem',
};

const VERIFICATION_WORDS: Record<CallerVerification, string> = {
  verified: "The caller's number is verified.",
  unverified: "The caller's number is not verified.",
};

/**
 * What the whisper says to the person, in a few seconds (the caller is connected after it): the
 * topic, why, and whether the number is verified. The summary is on the person's screen.
 */
export function whisperOf(c: HandoffContext): string {
  const why = REASON_WORDS[c.reason] ?? 'the assistant transferred the call';
  const topic = c.topic.replace(/[.?!]+$/, '').trim();
  const about = topic ? ` About: ${topic}.` : '';
  return `From the assistant: ${why}.${about} ${VERIFICATION_WORDS[c.verification]}`;
}

/** The attributes returned to Connect for a found context. */
export function connectAttributesOf(c: HandoffContext): Record<string, string> {
  const a = ConnectContextAttribute;
  return {
    [a.found]: 'true',
    [a.summary]: c.summary,
    [a.topic]: c.topic,
    [a.reason]: c.reason,
    [a.verification]: c.verification,
    [a.traceId]: c.traceId,
    [a.queue]: c.queue,
    [a.whisper]: whisperOf(c),
  };
}
