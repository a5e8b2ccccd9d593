// HANGUP: one leg is gone. Chime does not hang up the other leg itself (DG call-and-bridge), so the
// handler mirrors it, or, while the caller is still there, keeps them from being dropped.
// Key on ActionData.Parameters (ParticipantTag, CallId), not on ActionData.Type: DG case-5 shows
// a LEG-B HANGUP whose Type is the action that was running.
import type { CallState } from '../call-state.js';
import type { SmaEvent } from '../events.js';
import {
  bridgeToQueue,
  dispositionOf,
  finish,
  legACallId,
  liveLegB,
  transferEffects,
} from './common.js';
import { failOverToPerson } from './results.js';
import { noChange, type DecideContext, type Decision } from './types.js';
import { hangupLeg } from '../actions.js';

function whichLeg(ev: SmaEvent): {
  tag: 'LEG-A' | 'LEG-B' | undefined;
  callId: string | undefined;
} {
  const params = ev.action?.parameters ?? {};
  const callId = typeof params['CallId'] === 'string' ? params['CallId'] : undefined;
  const rawTag =
    typeof params['ParticipantTag'] === 'string'
      ? params['ParticipantTag'].toUpperCase()
      : undefined;
  if (rawTag === 'LEG-A' || rawTag === 'LEG-B') return { tag: rawTag, callId };
  if (callId !== undefined && callId === ev.legA?.callId) return { tag: 'LEG-A', callId };
  if (callId !== undefined && callId === ev.legB?.callId) return { tag: 'LEG-B', callId };
  return { tag: undefined, callId };
}

function callerHungUp(ev: SmaEvent, st: CallState, ctx: DecideContext): Decision {
  if (st.phase === 'ended') return noChange(st);
  const legB = liveLegB(ev);
  const disposition = dispositionOf(st.phase, st);
  const done = finish(ev, st, ctx, disposition, legB ? [hangupLeg(legB)] : []);
  if (st.phase === 'transfer_pending' || st.phase === 'bridging_human') {
    return {
      ...done,
      record: { ...done.record, TransferOutcome: 'abandoned' },
      metrics: [...done.metrics, ...transferEffects(st, 'abandoned', ctx.nowMs)],
    };
  }
  return done;
}

function otherLegHungUp(
  ev: SmaEvent,
  st: CallState,
  ctx: DecideContext,
  callId: string | undefined,
): Decision {
  const callerThere = legACallId(ev) !== undefined;
  const isOldAgentLeg = callId !== undefined && callId === st.aiLeg;
  switch (st.phase) {
    case 'transfer_pending':
      return bridgeToQueue(ev, st, ctx, 'primary');
    case 'bridging_ai':
    case 'ai_connected':
    case undefined:
      // The agent leg dropped with no transfer in progress.
      if (!callerThere) return finish(ev, st, ctx, dispositionOf(st.phase, st));
      return failOverToPerson(ev, st, ctx, st.phase === undefined ? 'state_lost' : 'agent_error');
    case 'bridging_human':
      // Either the old agent leg's late HANGUP, or the queue leg failing before it connected, for
      // which ACTION_FAILED follows and decides.
      return noChange(st);
    case 'human_connected': {
      if (isOldAgentLeg) return noChange(st);
      const legA = legACallId(ev);
      return finish(ev, st, ctx, 'transferred', legA ? [hangupLeg(legA)] : []);
    }
    case 'ending':
      // Our own list (apology, then Hangup of LEG-A) is running; adding to it would cut it short.
      return noChange(st);
    default:
      return noChange(st);
  }
}

export function decideHangup(ev: SmaEvent, st: CallState, ctx: DecideContext): Decision {
  const { tag, callId } = whichLeg(ev);
  if (tag === 'LEG-A') return callerHungUp(ev, st, ctx);
  if (tag === 'LEG-B') return otherLegHungUp(ev, st, ctx, callId);
  return noChange(st, [{ level: 'warn', msg: 'hangup of an unknown leg', reason: 'unknown_leg' }]);
}
