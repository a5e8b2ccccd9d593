// Reason codes: closed sets. A reason travels as an UpdateSipMediaApplicationCall argument, is kept
// in the call's state and becomes the `reason` attribute of the voice.transfers metric, so only
// these values ever reach a label or a log field; anything else a model or a forged request sends
// is read as `unspecified`.
import * as z from 'zod';

/** Why the agent asks the SMA for a person (the `reason` of a transfer update). */
export const AgentTransferReason = z.enum([
  /** The caller asked for a person. */
  'caller_asked',
  /** The caller needs something the agent does not handle. */
  'out_of_scope',
  /** The agent could not understand the caller. */
  'not_understood',
  /** The agent's own speech or language provider failed. */
  'agent_error',
]);
export type AgentTransferReason = z.infer<typeof AgentTransferReason>;

/** Why the SMA sends the caller to a person on its own, without the agent asking. */
export const FailoverReason = z.enum([
  /** The bridge to the agent was not answered or failed. */
  'agent_unavailable',
  /** The agent's leg hung up while the caller was still there and no transfer was in progress. */
  'agent_error',
  /** The call's state was lost (no TransactionAttributes) when the agent's leg went away. */
  'state_lost',
]);
export type FailoverReason = z.infer<typeof FailoverReason>;

/** Every value of the `reason` attribute of voice.transfers and of a call's TransferReason. */
export const TransferReason = z.enum([
  ...AgentTransferReason.options,
  'agent_unavailable',
  'state_lost',
  /** A transfer the SMA refused because its queue is not one of the use case's. */
  'invalid_queue',
  /** The agent sent no reason, or one outside this set. */
  'unspecified',
]);
export type TransferReason = z.infer<typeof TransferReason>;

/** Why the agent asks the SMA to end the call (the `reason` of a hang-up update). */
export const HangupReason = z.enum([
  /** The caller said they were done. */
  'caller_done',
]);
export type HangupReason = z.infer<typeof HangupReason>;

/** A transfer reason from outside (an update's arguments, a stored state): in the set or `unspecified`. */
export function transferReasonOf(value: unknown): TransferReason {
  const parsed = TransferReason.safeParse(value);
  return parsed.success ? parsed.data : 'unspecified';
}

/**
 * Why a call, or a request about one, was refused: the `reason` attribute of voice.calls.refused.
 * `forged` and `foreign_sma` are produced today; the others are reserved for the admission checks
 * still to come and are never produced yet (a dashboard may list them, no alert should rely on them).
 */
export const RefusedReason = z.enum([
  /** A call or an update whose call token is missing, malformed, expired or for another call. */
  'forged',
  /** The SMA handler was invoked by an SMA application or AWS account other than its own. */
  'foreign_sma',
  /** Reserved: a caller whose identity could not be verified. */
  'unverified',
  /** Reserved: a caller on the block list. */
  'blocked',
  /** Reserved: no capacity left for another call. */
  'over_capacity',
  /** Reserved: a caller over the call rate limit. */
  'rate_limited',
]);
export type RefusedReason = z.infer<typeof RefusedReason>;
