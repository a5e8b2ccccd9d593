// What the agent keeps of a conversation in the calls table (docs/architecture.md, "DynamoDB"):
// the record of each call, beside the SMA's items of that call, and a profile per caller, keyed by
// the caller's key (contracts/callers.ts), never by the number.
//
//   pk call#<TransactionId>  sk conversation   Transcript (both sides, with times), Summary
//   pk profile#<key>         sk profile        Name, Language, Calls (the last calls' summaries)
//
// Both are personal data: the transcript and the name never go to logs (outside `pii.*`) or to
// metrics, and both expire (ExpiresAt): a record with the call's items (CALL_RECORD_TTL_DAYS), a
// profile CALLER_PROFILE_TTL_DAYS after the caller's last call. A profile lives in a partition of
// its own, so the SMA's admission query of `caller#<key>` reads no more than it did.
import * as z from 'zod';

export const CONVERSATION_SK = 'conversation';
export const profilePk = (callerKey: string) => `profile#${callerKey}`;
export const PROFILE_SK = 'profile';

/** Calls whose summaries a profile keeps, newest first. */
export const PROFILE_CALLS = 5;
/** A summary's length at most, in characters. */
export const SUMMARY_MAX = 400;

export const TranscriptLine = z.object({
  /** Who spoke: the caller or the agent. */
  role: z.enum(['caller', 'agent']),
  text: z.string(),
  /** When the line was said (epoch ms). */
  at: z.number().int(),
});
export type TranscriptLine = z.infer<typeof TranscriptLine>;

export const conversationItem = z.object({
  pk: z.string().startsWith('call#'),
  sk: z.literal(CONVERSATION_SK),
  UseCase: z.string(),
  /** The use case's language on this call. */
  Language: z.string(),
  StartedAt: z.number().int(),
  EndedAt: z.number().int(),
  Transcript: z.array(TranscriptLine),
  Summary: z.string().max(SUMMARY_MAX),
  /** How the conversation ended, from the agent's side. */
  Outcome: z.string(),
  ExpiresAt: z.number().int(),
});
export type ConversationItem = z.infer<typeof conversationItem>;

export const profileCall = z.object({
  at: z.number().int(),
  useCase: z.string(),
  summary: z.string().max(SUMMARY_MAX),
});

export const profileItem = z.object({
  pk: z.string().startsWith('profile#'),
  sk: z.literal(PROFILE_SK),
  /** What the caller said to be called, when they said it. */
  Name: z.string().min(1).max(60).optional(),
  /** The language of the caller's last call. */
  Language: z.string().optional(),
  Calls: z.array(profileCall).max(PROFILE_CALLS),
  UpdatedAt: z.number().int(),
  ExpiresAt: z.number().int(),
});
export type ProfileItem = z.infer<typeof profileItem>;
