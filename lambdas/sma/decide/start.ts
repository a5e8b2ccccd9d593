// A call begins: inbound (NEW_INBOUND_CALL) or placed by us (NEW_OUTBOUND_CALL, RINGING,
// CALL_ANSWERED). Either way the caller is bridged to the LiveKit agent through the Voice Connector.
import { signCallToken } from '../../../contracts/call-token.js';
import { buildCallHeaders } from '../../../contracts/headers.js';
import { callerKey } from '../../../contracts/callers.js';
import { isE164 } from '../../../contracts/ids.js';
import { callTraceparent } from '../../../otel/traceparent.js';
import { RECORDINGS_PREFIX } from '../../../contracts/recordings.js';
import { bridgeToAgent, hangupLeg, startRecording, type Action } from '../actions.js';
import type { CallState } from '../call-state.js';
import type { SmaEvent } from '../events.js';
import { isActive, newCallRecord } from './common.js';
import { admissionUnknown, refuseCall, withUnchecked } from './refusal.js';
import { noChange, type CallFacts, type DecideContext, type Decision } from './types.js';

/**
 * CallAndBridge (endpoint type AWS) to the use case's LiveKit number, with the header contract and
 * the call's token, which the agent checks and returns with every update it sends. The token's
 * validity runs from LEG-A's start, which the event carries, so that a retried event gets the very
 * same answer; the time of the invocation stands in only when Chime leaves the start out.
 */
export function agentBridge(ev: SmaEvent, f: CallFacts, ctx: DecideContext): Action {
  const applicationId = ev.applicationId ?? '';
  const { secret, ttlMs } = ctx.config.callToken;
  const fromMs = ev.legA?.startMs ?? ctx.nowMs;
  // The agent keys the caller's profile by it, and never learns the number. The token binds it to
  // the call, so no other caller's key can be paired with this call's token.
  const key =
    // Inbound calls only (LEG-A's From is then the caller); the bridge may follow the start of the
    // call's recording, in StartCallRecording's result.
    ctx.config.callerKeySecret && isE164(ev.legA?.from) && !f.outbound
      ? callerKey(ev.legA.from, ctx.config.callerKeySecret)
      : undefined;
  const headers = buildCallHeaders({
    transactionId: ev.transactionId,
    applicationId,
    region: ev.region ?? '',
    useCase: f.useCase.id,
    traceparent: callTraceparent(ev.transactionId),
    callToken: signCallToken(
      { transactionId: ev.transactionId, applicationId, ...(key ? { callerKey: key } : {}) },
      fromMs + ttlMs,
      secret,
    ),
    ...(key ? { callerKey: key } : {}),
  });
  return bridgeToAgent({
    arn: ctx.config.voiceConnectorArn,
    uri: f.useCase.livekitNumber,
    callerId: f.callerId,
    timeoutS: ctx.config.aiRingTimeoutS,
    headers,
  });
}

export function bridgeCallerToAgent(
  ev: SmaEvent,
  st: CallState,
  f: CallFacts,
  ctx: DecideContext,
): Decision {
  return {
    actions: [agentBridge(ev, f, ctx)],
    state: { phase: 'bridging_ai', useCase: f.useCase.id },
    record: { Phase: 'bridging_ai', ...newCallRecord(f) },
    metrics: isActive(st.phase) ? [] : [{ metric: 'activeCalls', delta: 1 }],
    notes: [
      ...(f.useCaseNote ? [f.useCaseNote] : []),
      {
        level: 'info',
        msg: 'bridging to agent',
        reason: 'call_started',
        fields: { useCase: f.useCase.id },
      },
    ],
  };
}

/**
 * A use case that records starts the recording of the caller's leg before anything else, alone in
 * its answer: Chime reports an action's outcome only after the last one of a list, and
 * StartCallRecording's ACTION_SUCCESSFUL carries the recording's key. Its result (./results.ts)
 * then says the announcement and bridges to the agent; a failed start bridges all the same.
 */
function recordingFirst(d: Decision, f: CallFacts, ctx: DecideContext): Decision {
  if (!f.useCase.recording?.enabled || f.legA === undefined) return d;
  const bucket = ctx.config.recordingsBucket;
  if (bucket === undefined) {
    const note = {
      level: 'warn' as const,
      msg: 'use case records but no RECORDINGS_BUCKET is set; not recorded',
      reason: 'recording_no_bucket' as const,
    };
    return { ...d, notes: [...d.notes, note] };
  }
  return {
    ...d,
    actions: [startRecording(f.legA, `${bucket}/${RECORDINGS_PREFIX}`)],
    state: { ...d.state, rec: 'pending' },
  };
}

/**
 * A new inbound call, as admission judged it (the shell asked before deciding; no verdict reads as
 * admitted). Calls we place are not checked: we chose to place them.
 */
function admitted(ev: SmaEvent, st: CallState, f: CallFacts, ctx: DecideContext): Decision {
  const admission = ctx.admission ?? { verdict: 'admit', unchecked: [] };
  switch (admission.verdict) {
    case 'admit': {
      const d = recordingFirst(bridgeCallerToAgent(ev, st, f, ctx), f, ctx);
      const lease = admission.leaseExpiresAtMs;
      const held = lease === undefined ? d : { ...d, state: { ...d.state, lease } };
      return withUnchecked(held, admission.unchecked);
    }
    case 'refuse':
      return withUnchecked(refuseCall(st, f, ctx, admission.reason), admission.unchecked);
    case 'unknown':
      return withUnchecked(admissionUnknown(st, f, ctx), admission.unchecked);
  }
}

/**
 * Chime ignores the answer to NEW_OUTBOUND_CALL (DG use-create-call-api); the state is recorded
 * for the journal, and CALL_ANSWERED resolves the use case again if it is lost.
 */
function dialing(f: CallFacts): Decision {
  return {
    actions: [],
    state: { phase: 'dialing', useCase: f.useCase.id },
    record: { Phase: 'dialing', ...newCallRecord(f), Direction: 'outbound' },
    metrics: [],
    notes: f.useCaseNote ? [f.useCaseNote] : [],
  };
}

/**
 * A call we placed for a use case that does not allow outbound calls (the console and the command
 * refuse it before dialing; whoever else holds the Chime API is refused here): the callee's leg is
 * hung up at the answer, and nothing reaches the agent.
 */
function outboundRefused(st: CallState, f: CallFacts): Decision {
  const state: CallState = { ...st, useCase: f.useCase.id, phase: 'ending', end: 'refused' };
  return {
    actions: f.legA ? [hangupLeg(f.legA)] : [],
    state,
    record: { Phase: 'ending', ...newCallRecord(f), Direction: 'outbound' },
    metrics: [],
    notes: [
      {
        level: 'warn',
        msg: 'outbound call refused: the use case does not allow outbound calls',
        reason: 'outbound_not_allowed',
        fields: { useCase: f.useCase.id },
      },
    ],
  };
}

export function decideStart(
  ev: SmaEvent,
  st: CallState,
  f: CallFacts,
  ctx: DecideContext,
): Decision {
  switch (ev.type) {
    case 'NEW_INBOUND_CALL':
      return admitted(ev, st, f, ctx);
    case 'NEW_OUTBOUND_CALL':
      return dialing(f);
    case 'CALL_ANSWERED':
      // Sent for calls we placed, never for bridged calls (DG pstn-invocations).
      if (st.phase === 'dialing' || (st.phase === undefined && f.outbound)) {
        if (!f.useCase.outbound?.allowed) return outboundRefused(st, f);
        const answered = bridgeCallerToAgent(ev, st, f, ctx);
        return { ...answered, record: { ...answered.record, AnsweredAt: ctx.nowMs } };
      }
      return noChange(st);
    default:
      return noChange(st);
  }
}
