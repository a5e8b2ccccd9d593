// The call's recording (use cases with `recording.enabled`, contracts/recordings.ts): the outcome
// of StartCallRecording on the caller's leg, sent alone before the bridge to the agent (./start.ts).
// Started: Chime says the use case's announcement, then the caller is bridged to the agent, and the
// recording's key is written with the call. Failed: the caller is bridged all the same, the failure
// logged; a recording never stops a call.
import { splitLocation } from '../../../contracts/recordings.js';
import { speakTo } from '../actions.js';
import type { CallState } from '../call-state.js';
import type { SmaEvent } from '../events.js';
import { agentBridge } from './start.js';
import { noChange, type CallFacts, type DecideContext, type Decision } from './types.js';

/** The recording is being started, before the agent: its outcome decides what comes next. */
const starting = (st: CallState) => st.rec === 'pending' && st.phase === 'bridging_ai';

export function onRecordingResult(
  ev: SmaEvent,
  st: CallState,
  f: CallFacts,
  ctx: DecideContext,
): Decision {
  if (!starting(st) || f.legA === undefined) {
    return noChange(st, [{ level: 'info', msg: 'stale recording result', reason: 'stale_event' }]);
  }
  const params = ev.action?.params;
  const where =
    params?.type === 'StartCallRecording' && params.location !== undefined
      ? splitLocation(params.location)
      : undefined;
  const bridge = agentBridge(ev, f, ctx);
  if (ev.type !== 'ACTION_SUCCESSFUL') {
    const { rec: _rec, ...state } = st;
    return {
      ...noChange(state, [
        {
          level: 'warn',
          msg: 'recording did not start; the call goes on unrecorded',
          reason: 'recording_failed',
          fields: { errorType: ev.error?.type },
          pii: { errorMessage: ev.error?.message },
        },
      ]),
      actions: [bridge],
    };
  }
  const recording = f.useCase.recording;
  const notice = recording
    ? [speakTo(f.legA, recording.announcement, f.useCase.language, f.useCase.voice.chime)]
    : [];
  return {
    ...noChange({ ...st, rec: ctx.nowMs }, [
      {
        level: 'info',
        msg: 'recording started',
        reason: 'recording_started',
        fields: { located: where !== undefined },
      },
    ]),
    actions: [...notice, bridge],
    // Chime names the object only in this result; without it the recording has no item.
    ...(where ? { recording: { started: { ...where, atMs: ctx.nowMs } } } : {}),
  };
}

/**
 * The announcement failed before the bridge (a failed Speak drops the rest of its list): the
 * caller is bridged to the agent without it.
 */
export function onAnnouncementFailed(
  ev: SmaEvent,
  st: CallState,
  f: CallFacts,
  ctx: DecideContext,
): Decision | undefined {
  if (typeof st.rec !== 'number' || st.phase !== 'bridging_ai' || f.legB !== undefined) {
    return undefined;
  }
  if (f.legA === undefined) return undefined;
  return { ...noChange(st), actions: [agentBridge(ev, f, ctx)] };
}
