// HANGUP: one leg is gone. Chime does not hang up the other leg itself (DG call-and-bridge), so the
// handler mirrors it, or, while the caller is still there, keeps them from being dropped.
// Key on the leg ActionData.Parameters names (ParticipantTag, CallId), not on ActionData.Type: DG
// case-5 shows a LEG-B HANGUP whose Type is the action that was running.
import { hangupLeg } from '../actions.js';
import type { CallState } from '../call-state.js';
import type { SmaEvent } from '../events.js';
import { bridgeToQueue, dispositionOf, finish, transferCompleted } from './common.js';
import { failOverToPerson } from './results.js';
import { takeMessage } from './voicemail.js';
import { noChange, type CallFacts, type DecideContext, type Decision } from './types.js';

function whichLeg(ev: SmaEvent): {
  tag: 'LEG-A' | 'LEG-B' | undefined;
  callId: string | undefined;
} {
  const { tag, callId } = ev.action?.leg ?? { tag: undefined, callId: undefined };
  if (tag) return { tag, callId };
  if (callId !== undefined && callId === ev.legA?.callId) return { tag: 'LEG-A', callId };
  if (callId !== undefined && callId === ev.legB?.callId) return { tag: 'LEG-B', callId };
  return { tag: undefined, callId };
}

function callerHungUp(st: CallState, f: CallFacts, ctx: DecideContext): Decision {
  if (st.phase === 'ended') return noChange(st);
  const disposition = dispositionOf(st.phase, st);
  const done = finish(st, f, ctx, disposition, f.legB ? [hangupLeg(f.legB)] : []);
  if (st.phase === 'transfer_pending' || st.phase === 'bridging_human') {
    const abandoned = transferCompleted(st, 'abandoned', ctx.nowMs);
    return {
      ...done,
      record: { ...done.record, TransferOutcome: 'abandoned' },
      metrics: [...done.metrics, ...abandoned.metrics],
      transfer: abandoned.transfer,
    };
  }
  return done;
}

function otherLegHungUp(
  st: CallState,
  f: CallFacts,
  ctx: DecideContext,
  callId: string | undefined,
): Decision {
  const isOldAgentLeg = callId !== undefined && callId === st.aiLeg;
  switch (st.phase) {
    case 'transfer_pending':
      return bridgeToQueue(st, f, ctx, 'primary');
    case 'message_pending':
      return takeMessage(st, f, ctx);
    case 'bridging_ai':
    case 'ai_connected':
    case undefined:
      // The agent leg dropped with no transfer in progress.
      if (f.legA === undefined) return finish(st, f, ctx, dispositionOf(st.phase, st));
      return failOverToPerson(st, f, ctx, st.phase === undefined ? 'state_lost' : 'agent_error');
    case 'bridging_human':
      // Either the old agent leg's late HANGUP, or the queue leg failing before it connected, for
      // which ACTION_FAILED follows and decides.
      return noChange(st);
    case 'human_connected':
      if (isOldAgentLeg) return noChange(st);
      return finish(st, f, ctx, 'transferred', f.legA ? [hangupLeg(f.legA)] : []);
    case 'ending':
      // Our own list (apology, then Hangup of LEG-A) is running; adding to it would cut it short.
      return noChange(st);
    default:
      return noChange(st);
  }
}

export function decideHangup(
  ev: SmaEvent,
  st: CallState,
  f: CallFacts,
  ctx: DecideContext,
): Decision {
  const { tag, callId } = whichLeg(ev);
  if (tag === 'LEG-A') return callerHungUp(st, f, ctx);
  if (tag === 'LEG-B') return otherLegHungUp(st, f, ctx, callId);
  return noChange(st, [{ level: 'warn', msg: 'hangup of an unknown leg', reason: 'unknown_leg' }]);
}
