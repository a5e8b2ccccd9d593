// Building blocks shared by the event families: who the caller is, which use case applies, and the
// three ways a call can move on (to a person, to an apology, to its end).
import type { UseCase } from '../../../contracts/use-cases.js';
import { bridgeToNumber, hangupLeg, speakTo, type Action } from '../actions.js';
import type { CallState, Phase } from '../call-state.js';
import type { SmaEvent } from '../events.js';
import type {
  DecideContext,
  Decision,
  Disposition,
  MetricEffect,
  Note,
  StateRecord,
  TransferOutcome,
} from './types.js';

const E164 = /^\+[1-9]\d{1,14}$/;

export function isOutbound(ev: SmaEvent): boolean {
  return ev.legA?.direction?.toLowerCase() === 'outbound';
}

/** The customer's number: who called us, or whom we called. */
export function customerNumber(ev: SmaEvent): string | undefined {
  return isOutbound(ev) ? ev.legA?.to : ev.legA?.from;
}

/** Our own number on this call: the one dialed, or the one we called from. */
export function ourNumber(ev: SmaEvent): string | undefined {
  return isOutbound(ev) ? ev.legA?.from : ev.legA?.to;
}

/**
 * CallerIdNumber must be E.164 and either a number we own or LEG-A's From
 * (https://docs.aws.amazon.com/chime-sdk/latest/dg/call-and-bridge.html). Inbound: the caller's own
 * number, so Connect and the agent see who is calling; a withheld caller falls back to the number
 * they dialed. Outbound: LEG-A's From, which is ours.
 */
export function callerIdFor(ev: SmaEvent, uc: UseCase): string {
  const candidates = [ev.legA?.from, ev.legA?.to, uc.dialedNumbers[0]];
  return (
    candidates.find((n): n is string => n !== undefined && E164.test(n)) ?? uc.dialedNumbers[0]!
  );
}

/** The use case: remembered in the call state, else from our number on the call, else the default. */
export function resolveUseCase(
  ev: SmaEvent,
  st: CallState,
  ctx: DecideContext,
): { useCase: UseCase; note?: Note } {
  const cat = ctx.config.useCases;
  const known = cat.byIdOrUndefined(st.useCase) ?? cat.byDialedNumber(ourNumber(ev));
  if (known) return { useCase: known };
  return {
    useCase: cat.defaultUseCase,
    note: { level: 'warn', msg: 'default use case', reason: 'unknown_dialed_number' },
  };
}

export function legACallId(ev: SmaEvent): string | undefined {
  return ev.legA?.status === 'Disconnected' ? undefined : ev.legA?.callId;
}

export function liveLegB(ev: SmaEvent): string | undefined {
  return ev.legB?.status === 'Disconnected' ? undefined : ev.legB?.callId;
}

/** Phases that count as an active call (voice.calls.active went up when the call entered them). */
export function isActive(phase: Phase | undefined): boolean {
  return phase !== undefined && phase !== 'dialing' && phase !== 'ended';
}

export function transferEffects(
  st: CallState,
  outcome: TransferOutcome,
  nowMs: number,
): MetricEffect[] {
  const effects: MetricEffect[] = [{ metric: 'transfer', outcome, reason: st.reason ?? 'unknown' }];
  if (st.requestedAt !== undefined && outcome !== 'abandoned' && outcome !== 'refused') {
    const seconds = Math.max(0, (nowMs - st.requestedAt) / 1000);
    effects.push({ metric: 'transferDelay', seconds, outcome });
  }
  return effects;
}

/** Bridge the caller to a queue's number (primary or fallback). */
export function bridgeToQueue(
  ev: SmaEvent,
  st: CallState,
  ctx: DecideContext,
  target: 'primary' | 'fallback',
  prefix: Action[] = [],
): Decision {
  const { useCase } = resolveUseCase(ev, st, ctx);
  const queueKey = st.queue ?? useCase.defaultQueue;
  const queue = useCase.queues[queueKey] ?? useCase.queues[useCase.defaultQueue]!;
  const number = target === 'fallback' ? queue.fallbackNumber : queue.number;
  if (number === undefined) return apologize(ev, st, ctx, 'no_fallback_number');
  const state: CallState = {
    ...st,
    useCase: useCase.id,
    queue: queueKey,
    target,
    phase: 'bridging_human',
  };
  return {
    actions: [
      ...prefix,
      bridgeToNumber({
        number,
        callerId: callerIdFor(ev, useCase),
        timeoutS: ctx.config.queueRingTimeoutS,
      }),
    ],
    state,
    record: { Phase: 'bridging_human', TransferInProgress: true, PendingTransferToPstn: number },
    metrics: [],
    notes: [
      {
        level: 'info',
        msg: 'bridging to queue',
        reason: st.reason ?? 'unknown',
        fields: { queue: queueKey, target },
      },
    ],
  };
}

/**
 * No person can be reached: Chime says the use case's apology to the caller, then hangs up LEG-A.
 * A LEG-B still up is hung up when LEG-A's hang-up comes back (mirrored like any caller hang-up):
 * hanging it up first would put a HANGUP event, and its answer, in the middle of the apology.
 * The transfer, if any, is recorded as failed.
 */
export function apologize(
  ev: SmaEvent,
  st: CallState,
  ctx: DecideContext,
  reason: string,
): Decision {
  const { useCase } = resolveUseCase(ev, st, ctx);
  const legA = legACallId(ev);
  const actions: Action[] = [];
  if (legA) {
    actions.push(speakTo(legA, useCase.messages.apology, useCase.language, useCase.voice.chime));
    actions.push(hangupLeg(legA));
  }
  const transferring = st.queue !== undefined;
  return {
    actions,
    state: { ...st, phase: 'ending', end: 'failed' },
    record: {
      Phase: 'ending',
      TransferInProgress: false,
      PendingTransferToPstn: null,
      ...(transferring ? { TransferOutcome: 'failed' as const } : {}),
    },
    metrics: transferring ? transferEffects(st, 'failed', ctx.nowMs) : [],
    notes: [{ level: 'warn', msg: 'no person reachable; apologising', reason }],
  };
}

/** The call is over: close its record and count it, once. */
export function finish(
  ev: SmaEvent,
  st: CallState,
  ctx: DecideContext,
  disposition: Disposition,
  actions: Action[] = [],
): Decision {
  const wasActive = isActive(st.phase);
  const record: StateRecord = {
    Phase: 'ended',
    EndedAt: ctx.nowMs,
    Disposition: disposition,
    TransferInProgress: false,
    PendingTransferToPstn: null,
  };
  const metrics: MetricEffect[] = [];
  if (wasActive) {
    metrics.push({ metric: 'activeCalls', delta: -1 });
    const start = ev.legA?.startMs;
    if (start !== undefined && ctx.nowMs >= start) {
      metrics.push({ metric: 'callDuration', seconds: (ctx.nowMs - start) / 1000, disposition });
    }
  }
  return {
    actions,
    state: { ...st, phase: 'ended' },
    record,
    metrics,
    notes: [{ level: 'info', msg: 'call ended', reason: disposition }],
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
