// What a decision is made of and what it produces. decide() is pure: no AWS SDK, no environment,
// no clock reads (the time comes in as `nowMs`), so the same event always yields the same actions.
import type {
  FailoverReason,
  HangupReason,
  RefusedReason,
  TransferReason,
} from '../../../contracts/reasons.js';
import type { UseCase, UseCaseCatalog } from '../../../contracts/use-cases.js';
import type { TransferStep } from '../../../otel/sma-tracing.js';
import type { Action } from '../actions.js';
import type { Admission, AdmissionCheck, LeaseRelease } from '../admission/types.js';
import type { CallState, TransferTarget } from '../call-state.js';
import type { TransferHopOutcome } from '../../../otel/instruments.js';

export interface DecideConfig {
  voiceConnectorArn: string;
  /** Ring timeout of the bridge to the agent: covers LiveKit agent dispatch and join. */
  aiRingTimeoutS: number;
  /** Ring timeout of the bridge to a human queue's number. */
  queueRingTimeoutS: number;
  useCases: UseCaseCatalog;
  /** How the calls bridged to the agent are signed, and their updates checked (contracts/call-token.ts). */
  callToken: { secret: string; ttlMs: number };
  /** CALLER_KEY_SECRET: the caller's key sent to the agent (contracts/headers.ts); unset: none. */
  callerKeySecret?: string;
  /** RECORDINGS_BUCKET: where recordings go; unset: no call is recorded, whatever its use case. */
  recordingsBucket?: string;
}

export interface DecideContext {
  config: DecideConfig;
  /** When the handler received the event (epoch ms); used only for records and metrics. */
  nowMs: number;
  /**
   * The verdict on a NEW_INBOUND_CALL, asked by the shell before deciding; unset (calls we place,
   * every other event) reads as admitted.
   */
  admission?: Admission;
}

/** `refused`: kept from the agent with a message (counted in voice.calls.refused, not as a call). */
export type Disposition = 'ai_completed' | 'transferred' | 'abandoned' | 'failed' | 'refused';
export type TransferOutcome =
  'connected' | 'fallback_connected' | 'failed' | 'abandoned' | 'refused';

/** Fields of the DynamoDB state item (docs/architecture.md); `null` removes the attribute. */
export interface StateRecord {
  Phase?: string;
  UseCase?: string;
  CallerNumber?: string;
  DialedNumber?: string;
  Direction?: string;
  AnsweredAt?: number;
  AiConnectedAt?: number;
  TransferInProgress?: boolean;
  PendingTransferToPstn?: string | null;
  TransferQueue?: string;
  TransferReason?: TransferReason;
  TransferRequestedAt?: number;
  TransferOutcome?: TransferOutcome;
  HumanConnectedAt?: number;
  EndedAt?: number;
  Disposition?: Disposition;
  /** Why the agent ended the call, when it did. */
  EndReason?: EndReason;
  /** Why admission kept the call from the agent. */
  Refused?: AdmissionRefusal;
  /** The admission checks DynamoDB did not answer in time. */
  Unchecked?: AdmissionCheck[];
  /** The language the caller switched to (contracts/call-state.ts, CALL_STATE_LANGUAGE). */
  Language?: string;
}

/** The agent's reason to end a call (contracts/reasons.ts), `unspecified` when it sent none. */
export type EndReason = HangupReason | 'unspecified';

/** The refusals admission makes (the others, `forged` and `foreign_sma`, refuse requests). */
export type AdmissionRefusal = Extract<Admission, { verdict: 'refuse' }>['reason'];

export type MetricEffect =
  | { metric: 'activeCalls'; delta: 1 | -1 }
  | { metric: 'transfer'; outcome: TransferOutcome; reason: TransferReason }
  | { metric: 'transferDelay'; seconds: number; outcome: TransferOutcome }
  | { metric: 'transferHop'; seconds: number; hop: TransferHop; outcome: TransferHopOutcome }
  | { metric: 'callDuration'; seconds: number; disposition: Disposition }
  | { metric: 'refused'; reason: RefusedReason }
  | { metric: 'unchecked'; check: AdmissionCheck };

/**
 * The hops of a transfer, each timed from the agent's `requestedAt` (voice.call.transfer_hop):
 * the SMA accepted the update, the AI leg is down and the bridge to the queue placed, the bridge
 * answered (the last is voice.call.transfer_delay's own time, for transfers that reached someone).
 */
export type TransferHop = 'update_accepted' | 'ai_leg_down' | 'bridge_answered';
export type { TransferHopOutcome };

/** Why a call update is refused. */
export type RefusalCode =
  | 'invalid_update_arguments'
  | 'call_token_missing'
  | 'call_token_malformed'
  | 'call_token_expired'
  | 'call_token_mismatch'
  | 'transfer_already_in_progress'
  | 'transfer_not_possible'
  | 'queue_looks_like_number'
  | 'unknown_queue'
  | 'hangup_not_possible'
  | 'voicemail_not_offered'
  | 'voicemail_not_possible'
  | 'language_not_offered'
  | 'language_not_possible';

/** The codes a note can carry: written in the decisions or from a closed set, never the event. */
export type NoteReason =
  | RefusalCode
  | TransferReason
  | FailoverReason
  | TransferOutcome
  | Disposition
  | 'call_started'
  | 'unknown_dialed_number'
  | 'unknown_use_case'
  | 'outbound_not_allowed'
  | 'state_inferred'
  | 'bridged'
  | 'stale_event'
  | 'unknown_leg'
  | 'agent_hangup'
  | 'requested_at_missing'
  | 'queue_bridge_failed'
  | 'no_fallback_number'
  | 'invalid_lambda_response'
  | 'unexpected_action_failure'
  | AdmissionRefusal
  | 'admission_unknown'
  | 'admission_unchecked'
  | 'recording_started'
  | 'recording_failed'
  | 'recording_no_bucket'
  | 'voicemail_offered'
  | 'voicemail_requested'
  | 'voicemail_recorded'
  | 'voicemail_failed'
  | 'language_switched';

/** A log line the shell writes. */
export interface Note {
  level: 'info' | 'warn' | 'error';
  msg: string;
  reason: NoteReason;
  /** Extra non-PII fields. */
  fields?: Record<string, string | number | boolean | undefined>;
  /** Texts from outside that may hold personal data (Chime's error messages): logged as `pii`. */
  pii?: Record<string, string | undefined>;
}

/** The transfer step a decision took, for its `sma.transfer` span (otel/sma-spans.ts). */
export interface TransferReport {
  step: TransferStep;
  /** With `completed` and a counted `refused`: the outcome of voice.transfers. */
  outcome?: TransferOutcome;
  queue: string | undefined;
  reason: TransferReason | undefined;
  target: TransferTarget | undefined;
  /** The agent's `traceparent` argument: its transfer decision span. */
  agentTraceparent: string | undefined;
}

export interface Decision {
  actions: Action[];
  state: CallState;
  record: StateRecord;
  metrics: MetricEffect[];
  notes: Note[];
  /** Set when this decision requested, refused, bridged or completed a transfer. */
  transfer?: TransferReport;
  /** Set when the call leaves the agent holding a slot: the shell frees it. */
  release?: LeaseRelease;
  /** Set when the call's recording started or ended: the shell writes its item. */
  recording?: RecordingWrite;
}

/** What the recording item (contracts/recordings.ts) learns from a decision. */
export type RecordingWrite =
  | { started: { bucket: string; key: string; atMs: number } }
  | { seconds: number }
  | { voicemail: { bucket: string; key: string; atMs: number; queue: string | undefined } };

/**
 * What is known of the call for this invocation, resolved once at the top of decide() from the
 * event and the state it continues from.
 */
export interface CallFacts {
  useCase: UseCase;
  /** How the use case was found, when that deserves a line (defaulted, or a name refused). */
  useCaseNote: Note | undefined;
  outbound: boolean;
  /** The customer's number: who called us, or whom we called. */
  customerNumber: string | undefined;
  /** Our own number on this call: the one dialed, or the one we called from. */
  ourNumber: string | undefined;
  /** LEG-A's CallId while the caller is there. */
  legA: string | undefined;
  /** The current LEG-B's CallId while it is up. */
  legB: string | undefined;
  /** LEG-A's start (epoch ms), for the call's duration. */
  legAStartMs: number | undefined;
  /** CallerIdNumber of our bridges. */
  callerId: string;
}

export function noChange(state: CallState, notes: Note[] = []): Decision {
  return { actions: [], state, record: {}, metrics: [], notes };
}
