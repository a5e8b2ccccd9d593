// A call begins: inbound (NEW_INBOUND_CALL) or placed by us (NEW_OUTBOUND_CALL, RINGING,
// CALL_ANSWERED). Either way the caller is bridged to the LiveKit agent through the Voice Connector.
import { buildCallHeaders } from '../../../contracts/headers.js';
import { callTraceparent } from '../../../otel/traceparent.js';
import { bridgeToAgent } from '../actions.js';
import type { CallState } from '../call-state.js';
import type { SmaEvent } from '../events.js';
import {
  callerIdFor,
  customerNumber,
  isActive,
  isOutbound,
  ourNumber,
  resolveUseCase,
} from './common.js';
import { noChange, type DecideContext, type Decision, type Note } from './types.js';

/** CallAndBridge (endpoint type AWS) to the use case's LiveKit number, with the header contract. */
export function bridgeCallerToAgent(ev: SmaEvent, st: CallState, ctx: DecideContext): Decision {
  const { useCase, note } = resolveUseCase(ev, st, ctx);
  const headers = buildCallHeaders({
    transactionId: ev.transactionId,
    applicationId: ev.applicationId ?? '',
    region: ev.region ?? '',
    useCase: useCase.id,
    traceparent: callTraceparent(ev.transactionId),
  });
  return {
    actions: [
      bridgeToAgent({
        arn: ctx.config.voiceConnectorArn,
        uri: useCase.livekitNumber,
        callerId: callerIdFor(ev, useCase),
        timeoutS: ctx.config.aiRingTimeoutS,
        headers,
      }),
    ],
    state: { phase: 'bridging_ai', useCase: useCase.id },
    record: {
      Phase: 'bridging_ai',
      UseCase: useCase.id,
      CallerNumber: customerNumber(ev),
      DialedNumber: ourNumber(ev),
      Direction: isOutbound(ev) ? 'outbound' : 'inbound',
    },
    metrics: isActive(st.phase) ? [] : [{ metric: 'activeCalls', delta: 1 }],
    notes: [
      ...(note ? [note] : []),
      {
        level: 'info',
        msg: 'bridging to agent',
        reason: 'call_started',
        fields: { useCase: useCase.id },
      },
    ],
  };
}

/** The use case named in CreateSipMediaApplicationCall's ArgumentsMap, when it is one we know. */
function outboundUseCase(ev: SmaEvent, ctx: DecideContext): { id?: string; note?: Note } {
  const args = ev.action?.parameters['Arguments'];
  const named =
    args !== null && typeof args === 'object'
      ? (args as Record<string, unknown>)['useCase']
      : undefined;
  if (named === undefined) return {};
  if (typeof named === 'string' && ctx.config.useCases.byIdOrUndefined(named)) return { id: named };
  return { note: { level: 'warn', msg: 'outbound use case refused', reason: 'unknown_use_case' } };
}

export function decideStart(ev: SmaEvent, st: CallState, ctx: DecideContext): Decision {
  switch (ev.type) {
    case 'NEW_INBOUND_CALL':
      return bridgeCallerToAgent(ev, st, ctx);
    case 'NEW_OUTBOUND_CALL': {
      // Chime ignores the answer to this event (DG use-create-call-api); the state is recorded
      // for the journal, and CALL_ANSWERED resolves the use case again if it is lost.
      const named = outboundUseCase(ev, ctx);
      const { useCase } = resolveUseCase(ev, { ...st, useCase: named.id ?? st.useCase }, ctx);
      return {
        actions: [],
        state: { phase: 'dialing', useCase: useCase.id },
        record: {
          Phase: 'dialing',
          UseCase: useCase.id,
          CallerNumber: customerNumber(ev),
          DialedNumber: ourNumber(ev),
          Direction: 'outbound',
        },
        metrics: [],
        notes: named.note ? [named.note] : [],
      };
    }
    case 'CALL_ANSWERED':
      // Sent for calls we placed, never for bridged calls (DG pstn-invocations).
      if (st.phase === 'dialing' || (st.phase === undefined && isOutbound(ev))) {
        const answered = bridgeCallerToAgent(ev, st, ctx);
        return { ...answered, record: { ...answered.record, AnsweredAt: ctx.nowMs } };
      }
      return noChange(st);
    default:
      return noChange(st);
  }
}
