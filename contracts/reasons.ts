// Reason codes: closed sets. A reason travels as an UpdateSipMediaApplicationCall argument, is kept
// in the call's state and becomes the `reason` attribute of the voice.transfers metric, so only
// these values ever reach a label or a log field; anything else a model or a forged request sends
// is read as `unspecified`.
import * as z from 'zod';

/**
 * Why the agent's conversation hands the caller to a person: the set its model is shown
 * (transfer_to_human), its dialogue engine's and its provider-failure policy's.
 */
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

/**
 * Why the agent asks the SMA for a person (the `reason` of a transfer update): its conversation's
 * reasons, or one the agent gives itself and never offers the model.
 */
export const TransferUpdateReason = z.enum([
  ...AgentTransferReason.options,
  /**
   * The caller's audio stopped reaching the agent while the caller was still in the room: the
   * line died without a BYE (livekit-sip killed or its host lost; agent/media-watch.ts).
   */
  'line_lost',
]);
export type TransferUpdateReason = z.infer<typeof TransferUpdateReason>;

/** Why the SMA sends the caller to a person on its own, without the agent asking. */
export const FailoverReason = z.enum([
  /** The bridge to the agent was not answered or failed. */
  'agent_unavailable',
  /** The agent's leg hung up while the caller was still there and no transfer was in progress. */
  'agent_error',
  /** The call's state was lost (no TransactionAttributes) when the agent's leg went away. */
  'state_lost',
  /** Access or limits kept a new call from the agent, or could not be checked in time. */
  'not_admitted',
]);
export type FailoverReason = z.infer<typeof FailoverReason>;

/** Every value of the `reason` attribute of voice.transfers and of a call's TransferReason. */
export const TransferReason = z.enum([
  ...TransferUpdateReason.options,
  'agent_unavailable',
  'state_lost',
  'not_admitted',
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
  /** The caller said nothing through the agent's check-ins (the use case's `limits.silence`). */
  'caller_silent',
  /** The call reached the use case's `limits.maxCallSeconds`. */
  'max_duration',
]);
export type HangupReason = z.infer<typeof HangupReason>;

/** A transfer reason from outside (an update's arguments, a stored state): in the set or `unspecified`. */
export function transferReasonOf(value: unknown): TransferReason {
  const parsed = TransferReason.safeParse(value);
  return parsed.success ? parsed.data : 'unspecified';
}

/**
 * Why a call, or a request about one, was refused: the `reason` attribute of voice.calls.refused.
 * docs/architecture.md, "The call token" and "Access and limits".
 */
export const RefusedReason = z.enum([
  /** A call or an update whose call token is missing, malformed, expired or for another call. */
  'forged',
  /** The SMA handler was invoked by an SMA application or AWS account other than its own. */
  'foreign_sma',
  /** A caller the use case's access mode keeps out: not verified, not on the allow list, or withheld. */
  'unverified',
  /** A caller on the block list. */
  'blocked',
  /** No slot left under the deployment's or the use case's cap on concurrent calls. */
  'over_capacity',
  /** A caller over the use case's calls per hour. */
  'rate_limited',
]);
export type RefusedReason = z.infer<typeof RefusedReason>;
