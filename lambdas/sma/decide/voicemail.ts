// A message instead of a dead end (use cases with `voicemail.enabled`, docs/architecture.md,
// "Recordings"): when the queue and its fallback do not answer, Chime says the use case's prompt
// and records the caller (RecordAudio, to RECORDINGS_BUCKET), then thanks them and the call ends.
// The transfer is still counted as failed; the message's key is written with the call. A failed
// recording gets the apology, as a call without voicemail does.
// The caller may also choose a message when the agent offers it (a busy or closed team): the
// agent's `voicemail` update (./update.ts) hangs up the agent leg, then the same prompt, recording
// and thanks follow; the call counts as completed by the agent, with no transfer.
import { VOICEMAIL_PREFIX } from '../../../contracts/recordings.js';
import { hangupLeg, recordMessage } from '../actions.js';
import type { CallState } from '../call-state.js';
import type { SmaEvent } from '../events.js';
import { apologize, chimeSays, finish } from './common.js';
import { noChange, type CallFacts, type DecideContext, type Decision, type Note } from './types.js';

/** No person answered: the message, when the use case takes one; undefined: the apology. */
export function offerVoicemail(
  st: CallState,
  f: CallFacts,
  ctx: DecideContext,
  why: Note['reason'],
  fields?: Note['fields'],
): Decision | undefined {
  const vm = f.useCase.voicemail;
  const bucket = ctx.config.recordingsBucket;
  if (!vm?.enabled || bucket === undefined || f.legA === undefined) return undefined;
  // What the apology records and counts (the transfer failed), with the message in its place.
  const failed = apologize(st, f, ctx, why, fields);
  return {
    ...failed,
    actions: [
      chimeSays(f.legA, st, f.useCase, 'voicemailPrompt'),
      recordMessage(f.legA, bucket, VOICEMAIL_PREFIX, vm.maxSeconds),
    ],
    notes: [
      { level: 'warn', msg: 'no person reachable; taking a message', reason: why, fields },
      { level: 'info', msg: 'voicemail offered', reason: 'voicemail_offered' },
    ],
  };
}

/** The use case takes messages and there is somewhere to keep them. */
export function takesMessages(f: CallFacts, ctx: DecideContext): boolean {
  return f.useCase.voicemail?.enabled === true && ctx.config.recordingsBucket !== undefined;
}

/**
 * The agent leg is down after the caller chose a message (phase `message_pending`): the prompt and
 * the recording, the call ending as the agent's (`ai_completed`) once the message is kept.
 */
export function takeMessage(st: CallState, f: CallFacts, ctx: DecideContext): Decision {
  const vm = f.useCase.voicemail;
  const bucket = ctx.config.recordingsBucket;
  const state: CallState = { ...st, phase: 'ending', end: 'ai_completed' };
  if (f.legA === undefined) return finish(state, f, ctx, 'abandoned');
  if (!vm?.enabled || bucket === undefined) return apologize(st, f, ctx, 'voicemail_not_offered');
  return {
    actions: [
      chimeSays(f.legA, st, f.useCase, 'voicemailPrompt'),
      recordMessage(f.legA, bucket, VOICEMAIL_PREFIX, vm.maxSeconds),
    ],
    state,
    record: { Phase: 'ending' },
    metrics: [],
    notes: [{ level: 'info', msg: 'taking the message', reason: 'voicemail_offered' }],
  };
}

/** RecordAudio's outcome: thanks and the end of the call, the message's key kept with it. */
export function onVoicemailResult(
  ev: SmaEvent,
  st: CallState,
  f: CallFacts,
  ctx: DecideContext,
): Decision {
  if (st.phase !== 'ending' || f.legA === undefined) return noChange(st);
  const { useCase, legA } = f;
  const params = ev.action?.params;
  const recorded =
    ev.type === 'ACTION_SUCCESSFUL' && params?.type === 'RecordAudio' && params.bucket && params.key
      ? { bucket: params.bucket, key: params.key }
      : undefined;
  if (!recorded) {
    return {
      ...noChange(st, [
        {
          level: 'warn',
          msg: 'message not recorded; apologising',
          reason: 'voicemail_failed',
          fields: { errorType: ev.error?.type },
        },
      ]),
      actions: [chimeSays(legA, st, useCase, 'apology'), hangupLeg(legA)],
    };
  }
  return {
    ...noChange(st, [{ level: 'info', msg: 'message recorded', reason: 'voicemail_recorded' }]),
    actions: [chimeSays(legA, st, useCase, 'voicemailThanks'), hangupLeg(legA)],
    recording: { voicemail: { ...recorded, atMs: ctx.nowMs, queue: st.queue } },
  };
}
