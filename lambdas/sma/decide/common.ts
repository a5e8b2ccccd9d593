// Building blocks shared by the event families: the three ways a call can move on (to a person, to
// an apology, to its end), and how a transfer is counted and reported.
import { recordingSeconds } from '../../../contracts/recordings.js';
import { chimeLineIn, type ChimeLine, type UseCase } from '../../../contracts/use-cases.js';
import { bridgeToNumber, hangupLeg, speakTo, type Action } from '../actions.js';
import type { CallState, Phase } from '../call-state.js';
import { primaryNumberOf, queueOf } from './facts.js';
import type {
  CallFacts,
  DecideContext,
  Decision,
  Disposition,
  MetricEffect,
  Note,
  NoteReason,
  StateRecord,
  TransferHop,
  TransferHopOutcome,
  TransferOutcome,
  TransferReport,
} from './types.js';

/**
 * Chime says one of its own lines to `callId`: in the language the caller switched the call to
 * (`lang`) where the use case has that line and a Polly voice for it, else in its own language and
 * voice (contracts/use-cases.ts, chimeLineIn). A call that never switched hears the use case's.
 */
export function chimeSays(
  callId: string,
  st: CallState,
  useCase: UseCase,
  line: ChimeLine,
): Action {
  const s = chimeLineIn(useCase, st.lang, line);
  return speakTo(callId, s.text, s.language, s.voice);
}

/** Phases that count as an active call (voice.calls.active went up when the call entered them). */
export function isActive(phase: Phase | undefined): boolean {
  return phase !== undefined && phase !== 'dialing' && phase !== 'ended';
}

/**
 * Whether voice.calls.active counts a call in this state: a call refused with a message is counted
 * once, in voice.calls.refused, never as a call in progress nor in voice.call.duration.
 */
export function isCounted(st: CallState): boolean {
  return isActive(st.phase) && st.end !== 'refused';
}

/** What the state item learns of a new call once: whose, from where, for which use case. */
export function newCallRecord(f: CallFacts): StateRecord {
  return {
    UseCase: f.useCase.id,
    CallerNumber: f.customerNumber,
    DialedNumber: f.ourNumber,
    Direction: f.outbound ? 'outbound' : 'inbound',
  };
}

/** The transfer step a decision took, as the state it leaves describes it. */
export function reportOf(st: CallState, step: TransferReport['step']): TransferReport {
  return {
    step,
    queue: st.queue,
    reason: st.reason,
    target: st.target,
    agentTraceparent: st.agentTrace,
  };
}

/**
 * A hop of the transfer reached (or, with another outcome, the hop it failed at), timed from the
 * agent's request (none without `requestedAt`).
 */
export function transferHop(
  st: CallState,
  hop: TransferHop,
  nowMs: number,
  outcome: TransferHopOutcome = 'reached',
): MetricEffect[] {
  if (st.requestedAt === undefined || nowMs < st.requestedAt) return [];
  return [{ metric: 'transferHop', hop, outcome, seconds: (nowMs - st.requestedAt) / 1000 }];
}

/** The hop a transfer was waiting on in this phase: where it fails if it ends now. */
export function pendingHop(st: CallState): TransferHop {
  if (st.phase === 'bridging_human') return 'bridge_answered';
  if (st.phase === 'transfer_pending') return 'ai_leg_down';
  return 'update_accepted';
}

/** A transfer reached its end (a person answered, or no one, or the caller left): counted once. */
export function transferCompleted(
  st: CallState,
  outcome: TransferOutcome,
  nowMs: number,
): Pick<Decision, 'metrics' | 'transfer'> {
  const reason = st.reason ?? 'unspecified';
  const metrics: MetricEffect[] = [{ metric: 'transfer', outcome, reason }];
  if (st.requestedAt !== undefined && outcome !== 'abandoned' && outcome !== 'refused') {
    const seconds = Math.max(0, (nowMs - st.requestedAt) / 1000);
    metrics.push({ metric: 'transferDelay', seconds, outcome });
  }
  if (outcome === 'connected' || outcome === 'fallback_connected') {
    metrics.push(...transferHop(st, 'bridge_answered', nowMs));
  } else if (outcome === 'failed' || outcome === 'abandoned') {
    metrics.push(...transferHop(st, pendingHop(st), nowMs, outcome));
  }
  return { metrics, transfer: { ...reportOf(st, 'completed'), outcome, reason } };
}

/** Bridge the caller to a queue's number (primary or fallback). */
export function bridgeToQueue(
  st: CallState,
  f: CallFacts,
  ctx: DecideContext,
  target: 'primary' | 'fallback',
  prefix: Action[] = [],
): Decision {
  const { useCase } = f;
  const queueKey = st.queue ?? useCase.defaultQueue;
  const queue = queueOf(useCase, queueKey) ?? useCase.queues[useCase.defaultQueue]!;
  const number = target === 'fallback' ? queue.fallbackNumber : primaryNumberOf(queue, st);
  if (number === undefined) return apologize(st, f, ctx, 'no_fallback_number');
  const state: CallState = {
    ...st,
    useCase: useCase.id,
    queue: queueKey,
    target,
    phase: 'bridging_human',
    // The rolling number is the primary bridge's only: a fallback dials the plain fallback number.
    line: target === 'fallback' ? undefined : st.line,
  };
  const timeoutS = ctx.config.queueRingTimeoutS;
  // The agent's leg is down: the hop the agent's request waited on (not a fallback's bridge).
  const legDown = st.phase === 'transfer_pending' ? transferHop(st, 'ai_leg_down', ctx.nowMs) : [];
  return {
    actions: [...prefix, bridgeToNumber({ number, callerId: f.callerId, timeoutS })],
    state,
    record: { Phase: 'bridging_human', TransferInProgress: true, PendingTransferToPstn: number },
    metrics: legDown,
    notes: [
      {
        level: 'info',
        msg: 'bridging to queue',
        reason: st.reason ?? 'unspecified',
        fields: { queue: queueKey, target },
      },
    ],
    transfer: reportOf(state, 'bridging'),
  };
}

/**
 * No person can be reached: Chime says the use case's apology to the caller, then hangs up LEG-A.
 * A LEG-B still up is hung up when LEG-A's hang-up comes back (mirrored like any caller hang-up):
 * hanging it up first would put a HANGUP event, and its answer, in the middle of the apology.
 * The transfer, if any, is recorded as failed.
 */
export function apologize(
  st: CallState,
  f: CallFacts,
  ctx: DecideContext,
  reason: NoteReason,
  fields?: Note['fields'],
): Decision {
  const { useCase, legA } = f;
  const actions: Action[] = [];
  if (legA) {
    actions.push(chimeSays(legA, st, useCase, 'apology'));
    actions.push(hangupLeg(legA));
  }
  const transferring = st.queue !== undefined;
  return {
    actions,
    state: { ...st, phase: 'ending', end: 'failed', line: undefined },
    record: {
      Phase: 'ending',
      TransferInProgress: false,
      PendingTransferToPstn: null,
      ...(transferring ? { TransferOutcome: 'failed' as const } : {}),
    },
    ...(transferring ? transferCompleted(st, 'failed', ctx.nowMs) : { metrics: [] }),
    notes: [{ level: 'warn', msg: 'no person reachable; apologising', reason, fields }],
  };
}

/** The call is over: close its record and count it, once. */
export function finish(
  st: CallState,
  f: CallFacts,
  ctx: DecideContext,
  disposition: Disposition,
  actions: Action[] = [],
): Decision {
  const record: StateRecord = {
    Phase: 'ended',
    EndedAt: ctx.nowMs,
    Disposition: disposition,
    TransferInProgress: false,
    PendingTransferToPstn: null,
  };
  const metrics: MetricEffect[] = [];
  if (isCounted(st)) {
    metrics.push({ metric: 'activeCalls', delta: -1 });
    const start = f.legAStartMs;
    if (start !== undefined && ctx.nowMs >= start) {
      metrics.push({ metric: 'callDuration', seconds: (ctx.nowMs - start) / 1000, disposition });
    }
  }
  // The recording of the caller's leg ends with the call: its length is known now.
  const recorded = typeof st.rec === 'number';
  return {
    actions,
    state: { ...st, phase: 'ended' },
    record,
    metrics,
    notes: [{ level: 'info', msg: 'call ended', reason: disposition }],
    ...(recorded ? { recording: { seconds: recordingSeconds(st.rec as number, ctx.nowMs) } } : {}),
  };
}

/** How a call that ends now should be counted, from the phase it was in. */
export function dispositionOf(phase: Phase | undefined, st: CallState): Disposition {
  switch (phase) {
    case 'ai_connected':
      return 'ai_completed';
    case 'human_connected':
      return 'transferred';
    case 'ending':
      return st.end ?? 'failed';
    default:
      return 'abandoned';
  }
}
