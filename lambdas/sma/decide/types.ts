// What a decision is made of and what it produces. decide() is pure: no AWS SDK, no environment,
// no clock reads (the time comes in as `nowMs`), so the same event always yields the same actions.
import type { UseCaseCatalog } from '../../../contracts/use-cases.js';
import type { Action } from '../actions.js';
import type { CallState } from '../call-state.js';

export interface DecideConfig {
  voiceConnectorArn: string;
  /** Ring timeout of the bridge to the agent: covers LiveKit agent dispatch and join. */
  aiRingTimeoutS: number;
  /** Ring timeout of the bridge to a human queue's number. */
  queueRingTimeoutS: number;
  useCases: UseCaseCatalog;
}

export interface DecideContext {
  config: DecideConfig;
  /** When the handler received the event (epoch ms); used only for records and metrics. */
  nowMs: number;
}

export type Disposition = 'ai_completed' | 'transferred' | 'abandoned' | 'failed';
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
  TransferReason?: string;
  TransferRequestedAt?: number;
  TransferOutcome?: TransferOutcome;
  HumanConnectedAt?: number;
  EndedAt?: number;
  Disposition?: Disposition;
}

export type MetricEffect =
  | { metric: 'activeCalls'; delta: 1 | -1 }
  | { metric: 'transfer'; outcome: TransferOutcome; reason: string }
  | { metric: 'transferDelay'; seconds: number; outcome: TransferOutcome }
  | { metric: 'callDuration'; seconds: number; disposition: Disposition };

/** A log line the shell writes; `reason` is a fixed snake_case code. */
export interface Note {
  level: 'info' | 'warn' | 'error';
  msg: string;
  reason: string;
  /** Extra non-PII fields. */
  fields?: Record<string, string | number | boolean | undefined>;
}

export interface Decision {
  actions: Action[];
  state: CallState;
  record: StateRecord;
  metrics: MetricEffect[];
  notes: Note[];
}

export function noChange(state: CallState, notes: Note[] = []): Decision {
  return { actions: [], state, record: {}, metrics: [], notes };
}
