// Outcomes of the actions we returned: ACTION_SUCCESSFUL, ACTION_FAILED, ACTION_INTERRUPTED and
// INVALID_LAMBDA_RESPONSE. ActionData carries the last (or the failed) action with its parameters.
import { hangupLeg, speakTo } from '../actions.js';
import type { CallState } from '../call-state.js';
import type { SmaEvent } from '../events.js';
import {
  apologize,
  bridgeToQueue,
  finish,
  isOutbound,
  legACallId,
  liveLegB,
  resolveUseCase,
  transferEffects,
} from './common.js';
import { noChange, type DecideContext, type Decision } from './types.js';

type BridgeKind = 'ai' | 'human' | undefined;

/** Which of our bridges a CallAndBridge in ActionData was: AWS endpoint = agent, PSTN = a queue. */
function bridgeOf(ev: SmaEvent): { kind: BridgeKind; uri: string | undefined } {
  const endpoints = ev.action?.parameters['Endpoints'];
  const first = Array.isArray(endpoints)
    ? (endpoints[0] as Record<string, unknown> | undefined)
    : undefined;
  const type = first?.['BridgeEndpointType'];
  const uri = typeof first?.['Uri'] === 'string' ? (first['Uri'] as string) : undefined;
  if (type === 'AWS') return { kind: 'ai', uri };
  if (type === 'PSTN') return { kind: 'human', uri };
  return { kind: undefined, uri };
}

function currentTargetNumber(ev: SmaEvent, st: CallState, ctx: DecideContext): string | undefined {
  const { useCase } = resolveUseCase(ev, st, ctx);
  const q = useCase.queues[st.queue ?? useCase.defaultQueue];
  return st.target === 'fallback' ? q?.fallbackNumber : q?.number;
}

/** The agent could not be reached or dropped: the caller goes to the default queue instead. */
export function failOverToPerson(
  ev: SmaEvent,
  st: CallState,
  ctx: DecideContext,
  reason: string,
): Decision {
  const { useCase } = resolveUseCase(ev, st, ctx);
  const legA = legACallId(ev);
  if (legA === undefined) return finish(ev, st, ctx, 'abandoned');
  const next: CallState = {
    ...st,
    useCase: useCase.id,
    queue: useCase.defaultQueue,
    reason,
    requestedAt: ctx.nowMs,
  };
  const notice = speakTo(legA, useCase.messages.connecting, useCase.language, useCase.voice.chime);
  const d = bridgeToQueue(ev, next, ctx, 'primary', [notice]);
  return {
    ...d,
    record: {
      ...d.record,
      TransferQueue: useCase.defaultQueue,
      TransferReason: reason,
      TransferRequestedAt: ctx.nowMs,
    },
    notes: [
      { level: 'warn', msg: 'agent leg failed; sending caller to a person', reason },
      ...d.notes,
    ],
  };
}

/** The queue's number did not answer: its fallback number, else an apology. */
function queueFailed(ev: SmaEvent, st: CallState, ctx: DecideContext, why: string): Decision {
  const { useCase } = resolveUseCase(ev, st, ctx);
  const q = useCase.queues[st.queue ?? useCase.defaultQueue];
  if (st.target !== 'fallback' && q?.fallbackNumber !== undefined) {
    const d = bridgeToQueue(ev, st, ctx, 'fallback');
    return {
      ...d,
      notes: [{ level: 'warn', msg: 'queue did not answer; trying fallback', reason: why }],
    };
  }
  return apologize(ev, st, ctx, why);
}

function onBridgeSucceeded(ev: SmaEvent, st: CallState, ctx: DecideContext): Decision {
  const { kind } = bridgeOf(ev);
  if (st.phase === 'bridging_ai' && kind !== 'human') {
    return {
      actions: [],
      state: { ...st, phase: 'ai_connected', aiLeg: liveLegB(ev) ?? st.aiLeg },
      record: {
        Phase: 'ai_connected',
        AiConnectedAt: ctx.nowMs,
        ...(isOutbound(ev) ? {} : { AnsweredAt: ctx.nowMs }),
      },
      metrics: [],
      notes: [{ level: 'info', msg: 'agent connected', reason: 'bridged' }],
    };
  }
  if (st.phase === 'bridging_human' && kind !== 'ai') {
    const outcome = st.target === 'fallback' ? 'fallback_connected' : 'connected';
    return {
      actions: [],
      state: { ...st, phase: 'human_connected' },
      record: {
        Phase: 'human_connected',
        HumanConnectedAt: ctx.nowMs,
        AnsweredAt: ctx.nowMs,
        TransferInProgress: false,
        PendingTransferToPstn: null,
        TransferOutcome: outcome,
      },
      metrics: transferEffects(st, outcome, ctx.nowMs),
      notes: [{ level: 'info', msg: 'person connected', reason: outcome }],
    };
  }
  return noChange(st, [
    { level: 'info', msg: 'stale bridge result ignored', reason: 'stale_event' },
  ]);
}

function onBridgeFailed(ev: SmaEvent, st: CallState, ctx: DecideContext): Decision {
  const { kind, uri } = bridgeOf(ev);
  const why = ev.error?.type ?? 'bridge_failed';
  if (st.phase === 'bridging_ai' && kind !== 'human') {
    return failOverToPerson(ev, st, ctx, 'agent_unavailable');
  }
  if (st.phase === 'bridging_human' && kind !== 'ai') {
    if (uri !== undefined && uri !== currentTargetNumber(ev, st, ctx)) {
      return noChange(st, [
        { level: 'info', msg: 'stale bridge failure ignored', reason: 'stale_event' },
      ]);
    }
    return queueFailed(ev, st, ctx, why);
  }
  return noChange(st, [
    { level: 'info', msg: 'stale bridge failure ignored', reason: 'stale_event' },
  ]);
}

function hungUpCallId(ev: SmaEvent): string | undefined {
  const id = ev.action?.parameters['CallId'];
  return typeof id === 'string' ? id : undefined;
}

export function decideResult(ev: SmaEvent, st: CallState, ctx: DecideContext): Decision {
  const actionType = ev.action?.type;
  if (ev.type === 'ACTION_INTERRUPTED' || ev.type === 'DIGITS_RECEIVED') {
    // Chime ignores actions returned for an interruption (DG update-sip-call).
    return noChange(st);
  }
  if (ev.type === 'INVALID_LAMBDA_RESPONSE') {
    const note = {
      level: 'error' as const,
      msg: 'Chime rejected the previous response',
      reason: 'invalid_lambda_response',
      fields: { errorType: ev.error?.type, errorMessage: ev.error?.message },
    };
    if (st.phase === undefined || st.phase === 'bridging_ai') {
      const d = failOverToPerson(ev, st, ctx, 'agent_unavailable');
      return { ...d, notes: [note, ...d.notes] };
    }
    if (st.phase === 'bridging_human') {
      const d = queueFailed(ev, st, ctx, 'invalid_lambda_response');
      return { ...d, notes: [note, ...d.notes] };
    }
    return noChange(st, [note]);
  }
  const succeeded = ev.type === 'ACTION_SUCCESSFUL';
  switch (actionType) {
    case 'CallAndBridge':
      return succeeded ? onBridgeSucceeded(ev, st, ctx) : onBridgeFailed(ev, st, ctx);
    case 'Hangup':
      if (st.phase === 'transfer_pending') {
        // Our Hangup of the agent leg is done (or the leg was already gone): bridge to the queue.
        // Whichever of this and LEG-B's HANGUP comes first moves the phase on; the other is a no-op.
        return bridgeToQueue(ev, st, ctx, 'primary');
      }
      if (st.phase === 'ending' && succeeded && hungUpCallId(ev) === ev.legA?.callId) {
        const legB = liveLegB(ev);
        return finish(ev, st, ctx, st.end ?? 'failed', legB ? [hangupLeg(legB)] : []);
      }
      return noChange(st);
    case 'Speak':
      if (!succeeded && st.phase === 'ending') {
        // A failed Speak drops the rest of the list, including our Hangup of LEG-A.
        const legA = legACallId(ev);
        return { ...noChange(st), actions: legA ? [hangupLeg(legA)] : [] };
      }
      return noChange(st);
    default:
      return noChange(
        st,
        succeeded
          ? []
          : [
              {
                level: 'warn',
                msg: 'action failed',
                reason: 'unexpected_action_failure',
                fields: { actionType },
              },
            ],
      );
  }
}
