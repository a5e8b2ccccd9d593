// The UpdateSipMediaApplicationCall arguments: how the agent asks the SMA handler to transfer the
// caller to a person, to take the caller's message (the use case's voicemail), or to end the call,
// and tells it the language the call went on in after a switch (what Chime then says itself
// follows it: docs/decisions/language-switch.md). The agent builds a CallUpdate and sends
// toCallUpdateArguments(update) as `Arguments`, the call's token among them; the handler reads them
// back with parseCallUpdateArguments in its CALL_UPDATE_REQUESTED decision. Chime carries the map
// as strings (at most 20 pairs): https://docs.aws.amazon.com/chime-sdk/latest/APIReference/API_voice-chime_UpdateSipMediaApplicationCall.html
import * as z from 'zod';
import { CallerVerification, HANDOFF_SUMMARY_MAX, HANDOFF_TOPIC_MAX } from './handoff-context.js';
import { queueKey } from './ids.js';
import { HangupReason, TransferUpdateReason } from './reasons.js';
import { LanguageTag } from './use-case-parts.js';

const epochMs = z.number().int().nonnegative();

/** Why the agent asks for a message: the caller chose it when offered (the only reason). */
export const MessageReason = z.enum(['caller_asked']);
export type MessageReason = z.infer<typeof MessageReason>;

/**
 * The language the call is in now, once the caller switched it (a tag of the use case's
 * `languages`, as the agent's switch_language accepted it); unset on a call that never switched.
 * The SMA checks it against the call's use case again: any other tag changes nothing.
 */
const language = LanguageTag.optional();

/** What the agent sends. `requestedAt` starts the transfer delay the caller feels. */
export const CallUpdate = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('transfer'),
    queue: queueKey,
    reason: TransferUpdateReason,
    requestedAt: epochMs,
    traceparent: z.string().optional(),
    /** The call's token as the SMA signed it (attribute sma.callToken), returned unchanged. */
    token: z.string().min(1),
    /** For the person who answers (contracts/handoff-context.ts): personal data, never logged. */
    summary: z.string().max(HANDOFF_SUMMARY_MAX).optional(),
    topic: z.string().max(HANDOFF_TOPIC_MAX).optional(),
    verification: CallerVerification.optional(),
    language,
  }),
  z.object({
    /**
     * The caller chose to leave a message: the SMA ends the agent's leg and records it as when no
     * person answers (the use case's `voicemail`). Nothing in it selects where the message goes.
     */
    action: z.literal('voicemail'),
    reason: MessageReason,
    requestedAt: epochMs,
    traceparent: z.string().optional(),
    /** The call's token as the SMA signed it (attribute sma.callToken), returned unchanged. */
    token: z.string().min(1),
    language,
  }),
  z.object({
    action: z.literal('hangup'),
    reason: HangupReason,
    requestedAt: epochMs,
    traceparent: z.string().optional(),
    /** The call's token as the SMA signed it (attribute sma.callToken), returned unchanged. */
    token: z.string().min(1),
    language,
  }),
  z.object({
    /**
     * The caller switched the call's language: the SMA keeps it with the call (its state and state
     * item), and what Chime says itself from then on is in it. Nothing else changes.
     */
    action: z.literal('language'),
    language: LanguageTag,
    requestedAt: epochMs,
    /** The call's token as the SMA signed it (attribute sma.callToken), returned unchanged. */
    token: z.string().min(1),
  }),
]);
export type CallUpdate = z.infer<typeof CallUpdate>;

/** The `Arguments` map of UpdateSipMediaApplicationCall for an update. */
export function toCallUpdateArguments(update: CallUpdate): Record<string, string> {
  if (update.action === 'language') {
    return {
      action: update.action,
      language: update.language,
      requestedAt: String(update.requestedAt),
      token: update.token,
    };
  }
  const args: Record<string, string> = {
    action: update.action,
    reason: update.reason,
    requestedAt: String(update.requestedAt),
    token: update.token,
  };
  if (update.language) args['language'] = update.language;
  if (update.action === 'transfer') {
    args['queue'] = update.queue;
    if (update.summary) args['summary'] = update.summary;
    if (update.topic) args['topic'] = update.topic;
    if (update.verification) args['verification'] = update.verification;
  }
  if (update.traceparent) args['traceparent'] = update.traceparent;
  return args;
}

/** The map as it reaches the handler: strings, any of which a forged request could leave out. */
const wireArguments = z.object({
  action: z.enum(['transfer', 'voicemail', 'hangup', 'language']),
  queue: z.string().optional(),
  reason: z.string().optional(),
  requestedAt: z.string().optional(),
  traceparent: z.string().optional(),
  token: z.string().optional(),
  summary: z.string().optional(),
  topic: z.string().optional(),
  verification: z.string().optional(),
  language: z.string().optional(),
});

/**
 * An update as the handler reads it. Only `action` is required to read it; the decision then acts
 * on it only when `token` verifies for the call (contracts/call-token.ts). Anything else missing or
 * malformed degrades rather than refuses (the caller still reaches a person): the queue is checked
 * against the use case by the decision, an unknown reason reads `unspecified`, a malformed
 * `requestedAt` is left out. `language` is as sent (trimmed, at most 35 characters): the decision
 * takes it only when it is one of the use case's `languages` (offeredLanguage), and otherwise goes
 * on with the rest of the update in the call's current language.
 */
export type ReceivedCallUpdate =
  | {
      action: 'transfer';
      /** As sent, trimmed; empty means the use case's default queue. */
      queue: string;
      /** The agent's own reasons only: one the SMA gives itself (`state_lost`) reads `unspecified`. */
      reason: TransferUpdateReason | 'unspecified';
      requestedAt: number | undefined;
      traceparent: string | undefined;
      /** Checked by the decision against the call (contracts/call-token.ts), never logged. */
      token: string | undefined;
      /** Cut to HANDOFF_SUMMARY_MAX; personal data, never logged. */
      summary: string | undefined;
      topic: string | undefined;
      verification: CallerVerification | undefined;
      language: string | undefined;
    }
  | {
      action: 'voicemail';
      reason: MessageReason | 'unspecified';
      requestedAt: number | undefined;
      traceparent: string | undefined;
      /** Checked by the decision against the call (contracts/call-token.ts), never logged. */
      token: string | undefined;
      language: string | undefined;
    }
  | {
      action: 'hangup';
      reason: HangupReason | 'unspecified';
      requestedAt: number | undefined;
      traceparent: string | undefined;
      /** Checked by the decision against the call (contracts/call-token.ts), never logged. */
      token: string | undefined;
      language: string | undefined;
    }
  | {
      action: 'language';
      requestedAt: number | undefined;
      /** Checked by the decision against the call (contracts/call-token.ts), never logged. */
      token: string | undefined;
      language: string | undefined;
    };

function agentReasonOf(value: string | undefined): TransferUpdateReason | 'unspecified' {
  const parsed = TransferUpdateReason.safeParse(value);
  return parsed.success ? parsed.data : 'unspecified';
}

export function parseCallUpdateArguments(raw: unknown): ReceivedCallUpdate | undefined {
  const parsed = wireArguments.safeParse(raw);
  if (!parsed.success) return undefined;
  const a = parsed.data;
  const requestedAt =
    a.requestedAt !== undefined && /^\d{1,16}$/.test(a.requestedAt)
      ? Number(a.requestedAt)
      : undefined;
  const language = a.language?.trim().slice(0, 35) || undefined;
  if (a.action === 'language') return { action: 'language', requestedAt, token: a.token, language };
  const common = { requestedAt, traceparent: a.traceparent, token: a.token, language };
  if (a.action === 'hangup') {
    return {
      action: 'hangup',
      reason: HangupReason.safeParse(a.reason).data ?? 'unspecified',
      ...common,
    };
  }
  if (a.action === 'voicemail') {
    return {
      action: 'voicemail',
      reason: MessageReason.safeParse(a.reason).data ?? 'unspecified',
      ...common,
    };
  }
  return {
    action: 'transfer',
    queue: a.queue?.trim() ?? '',
    reason: agentReasonOf(a.reason),
    ...common,
    summary: a.summary?.trim().slice(0, HANDOFF_SUMMARY_MAX) || undefined,
    topic: a.topic?.trim().slice(0, HANDOFF_TOPIC_MAX) || undefined,
    verification: CallerVerification.safeParse(a.verification).data,
  };
}
