// Outcomes of the actions we returned: ACTION_SUCCESSFUL, ACTION_FAILED, ACTION_INTERRUPTED and
// INVALID_LAMBDA_RESPONSE. ActionData carries the last (or the failed) action with its parameters.
import type { FailoverReason } from '../../../contracts/reasons.js';
import { hangupLeg } from '../actions.js';
import type { CallState } from '../call-state.js';
import type { SmaEvent } from '../events.js';
import {
  apologize,
  bridgeToQueue,
  chimeSays,
  finish,
  transferCompleted,
  transferHop,
} from './common.js';
import { onAnnouncementFailed, onRecordingResult } from './recording.js';
import { offerVoicemail, onVoicemailResult, takeMessage } from './voicemail.js';
import { primaryNumberOf, queueOf } from './facts.js';
import {
  noChange,
  type CallFacts,
  type DecideContext,
  type Decision,
  type Note,
  type NoteReason,
} from './types.js';

type BridgeKind = 'ai' | 'human' | undefined;

const stale = (st: CallState, msg: string) =>
  noChange(st, [{ level: 'info', msg, reason: 'stale_event' }]);

/** Which of our bridges a CallAndBridge in ActionData was: AWS endpoint = agent, PSTN = a queue. */
function bridgeOf(ev: SmaEvent): { kind: BridgeKind; uri: string | undefined } {
  const params = ev.action?.params;
  if (params?.type !== 'CallAndBridge') return { kind: undefined, uri: undefined };
  const { kind, uri } = params.endpoint;
  return { kind: kind === 'AWS' ? 'ai' : kind === 'PSTN' ? 'human' : undefined, uri };
}

function currentTargetNumber(st: CallState, f: CallFacts): string | undefined {
  const q = queueOf(f.useCase, st.queue ?? f.useCase.defaultQueue);
  if (!q) return undefined;
  return st.target === 'fallback' ? q.fallbackNumber : primaryNumberOf(q, st);
}

/**
 * The agent could not be reached or dropped, or the call may not reach it: the caller goes to the
 * default queue instead.
 */
export function failOverToPerson(
  st: CallState,
  f: CallFacts,
  ctx: DecideContext,
  reason: FailoverReason,
  msg = 'agent leg failed; sending caller to a person',
): Decision {
  const { useCase, legA } = f;
  if (legA === undefined) return finish(st, f, ctx, 'abandoned');
  const next: CallState = {
    ...st,
    useCase: useCase.id,
    queue: useCase.defaultQueue,
    reason,
    requestedAt: ctx.nowMs,
  };
  const notice = chimeSays(legA, st, useCase, 'connecting');
  const d = bridgeToQueue(next, f, ctx, 'primary', [notice]);
  return {
    ...d,
    record: {
      ...d.record,
      TransferQueue: useCase.defaultQueue,
      TransferReason: reason,
      TransferRequestedAt: ctx.nowMs,
    },
    notes: [{ level: 'warn', msg, reason }, ...d.notes],
  };
}

/** The queue's number did not answer: its fallback number, else an apology. */
function queueFailed(
  st: CallState,
  f: CallFacts,
  ctx: DecideContext,
  why: NoteReason,
  fields?: Note['fields'],
): Decision {
  const q = queueOf(f.useCase, st.queue ?? f.useCase.defaultQueue);
  if (st.target !== 'fallback' && q?.fallbackNumber !== undefined) {
    const d = bridgeToQueue(st, f, ctx, 'fallback');
    return {
      ...d,
      // The primary bridge's hop failed; the fallback's answer is the transfer's outcome.
      metrics: [...transferHop(st, 'bridge_answered', ctx.nowMs, 'fallback'), ...d.metrics],
      notes: [{ level: 'warn', msg: 'queue did not answer; trying fallback', reason: why, fields }],
    };
  }
  return offerVoicemail(st, f, ctx, why, fields) ?? apologize(st, f, ctx, why, fields);
}

function onBridgeSucceeded(
  ev: SmaEvent,
  st: CallState,
  f: CallFacts,
  ctx: DecideContext,
): Decision {
  const { kind } = bridgeOf(ev);
  if (st.phase === 'bridging_ai' && kind !== 'human') {
    return {
      actions: [],
      state: { ...st, phase: 'ai_connected', aiLeg: f.legB ?? st.aiLeg },
      record: {
        Phase: 'ai_connected',
        AiConnectedAt: ctx.nowMs,
        ...(f.outbound ? {} : { AnsweredAt: ctx.nowMs }),
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
      ...transferCompleted(st, outcome, ctx.nowMs),
      notes: [{ level: 'info', msg: 'person connected', reason: outcome }],
    };
  }
  return stale(st, 'stale bridge result ignored');
}

function onBridgeFailed(ev: SmaEvent, st: CallState, f: CallFacts, ctx: DecideContext): Decision {
  const { kind, uri } = bridgeOf(ev);
  if (st.phase === 'bridging_ai' && kind !== 'human') {
    return failOverToPerson(st, f, ctx, 'agent_unavailable');
  }
  if (st.phase === 'bridging_human' && kind !== 'ai') {
    if (uri !== undefined && uri !== currentTargetNumber(st, f)) {
      return stale(st, 'stale bridge failure ignored');
    }
    return queueFailed(st, f, ctx, 'queue_bridge_failed', { errorType: ev.error?.type });
  }
  return stale(st, 'stale bridge failure ignored');
}

/** Chime rejected our previous answer: treated as a failure of the bridge it carried. */
function onInvalidResponse(
  ev: SmaEvent,
  st: CallState,
  f: CallFacts,
  ctx: DecideContext,
): Decision {
  const note: Note = {
    level: 'error',
    msg: 'Chime rejected the previous response',
    reason: 'invalid_lambda_response',
    // Chime's text may quote what we sent (a caller's number): personal data.
    fields: { errorType: ev.error?.type },
    pii: { errorMessage: ev.error?.message },
  };
  if (st.phase === undefined || st.phase === 'bridging_ai') {
    const d = failOverToPerson(st, f, ctx, 'agent_unavailable');
    return { ...d, notes: [note, ...d.notes] };
  }
  if (st.phase === 'bridging_human') {
    const d = queueFailed(st, f, ctx, 'invalid_lambda_response');
    return { ...d, notes: [note, ...d.notes] };
  }
  return noChange(st, [note]);
}

function onHangupDone(ev: SmaEvent, st: CallState, f: CallFacts, ctx: DecideContext): Decision {
  if (st.phase === 'transfer_pending') {
    // Our Hangup of the agent leg is done (or the leg was already gone): bridge to the queue.
    // Whichever of this and LEG-B's HANGUP comes first moves the phase on; the other is a no-op.
    return bridgeToQueue(st, f, ctx, 'primary');
  }
  // Likewise for a message: the agent leg is down, the prompt and the recording follow.
  if (st.phase === 'message_pending') return takeMessage(st, f, ctx);
  const succeeded = ev.type === 'ACTION_SUCCESSFUL';
  if (st.phase === 'ending' && succeeded && ev.action?.leg.callId === ev.legA?.callId) {
    return finish(st, f, ctx, st.end ?? 'failed', f.legB ? [hangupLeg(f.legB)] : []);
  }
  return noChange(st);
}

export function decideResult(
  ev: SmaEvent,
  st: CallState,
  f: CallFacts,
  ctx: DecideContext,
): Decision {
  // Chime ignores actions returned for an interruption (DG update-sip-call).
  if (ev.type === 'ACTION_INTERRUPTED' || ev.type === 'DIGITS_RECEIVED') return noChange(st);
  if (ev.type === 'INVALID_LAMBDA_RESPONSE') return onInvalidResponse(ev, st, f, ctx);
  const succeeded = ev.type === 'ACTION_SUCCESSFUL';
  switch (ev.action?.params.type) {
    case 'CallAndBridge':
      return succeeded ? onBridgeSucceeded(ev, st, f, ctx) : onBridgeFailed(ev, st, f, ctx);
    case 'Hangup':
      return onHangupDone(ev, st, f, ctx);
    case 'StartCallRecording':
      return onRecordingResult(ev, st, f, ctx);
    case 'RecordAudio':
      return onVoicemailResult(ev, st, f, ctx);
    case 'Speak':
      if (!succeeded) {
        const unannounced = onAnnouncementFailed(ev, st, f, ctx);
        if (unannounced) return unannounced;
      }
      if (!succeeded && st.phase === 'ending') {
        // A failed Speak drops the rest of the list, including our Hangup of LEG-A.
        return { ...noChange(st), actions: f.legA ? [hangupLeg(f.legA)] : [] };
      }
      return noChange(st);
    default:
      if (succeeded) return noChange(st);
      return noChange(st, [
        {
          level: 'warn',
          msg: 'action failed',
          reason: 'unexpected_action_failure',
          fields: { actionType: ev.action?.type },
        },
      ]);
  }
}
