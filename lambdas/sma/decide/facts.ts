// The call's facts, resolved once per invocation at the top of decide(): which use case applies,
// whose numbers are on the call, which legs are still up, and the caller id our bridges present.
import { isE164 } from '../../../contracts/ids.js';
import type { UseCase } from '../../../contracts/use-cases.js';
import { readState, type CallState } from '../call-state.js';
import type { Participant, SmaEvent } from '../events.js';
import type { CallFacts, DecideContext, Note } from './types.js';

/** LEG-A and the current LEG-B, by CallId, while they are up. */
export interface LiveLegs {
  legA: string | undefined;
  legB: string | undefined;
}

function liveCallId(p: Participant | undefined): string | undefined {
  return p?.status === 'Disconnected' ? undefined : p?.callId;
}

export function liveLegs(ev: SmaEvent): LiveLegs {
  return { legA: liveCallId(ev.legA), legB: liveCallId(ev.legB) };
}

/** A queue of the use case by key (own keys only: a key is untrusted input). */
export function queueOf(useCase: UseCase, key: string): UseCase['queues'][string] | undefined {
  return Object.hasOwn(useCase.queues, key) ? useCase.queues[key] : undefined;
}

/**
 * The number a transfer's primary bridge dials: the rolling number claimed for the call (its slot
 * in `line`, docs/handoff.md) when the queue lists it, else the queue's own number.
 */
export function primaryNumberOf(queue: UseCase['queues'][string], st: CallState): string {
  const rolling = st.line === undefined ? undefined : queue.rollingNumbers?.[st.line];
  return rolling ?? queue.number;
}

/**
 * CallerIdNumber must be E.164 and either a number we own or LEG-A's From
 * (https://docs.aws.amazon.com/chime-sdk/latest/dg/call-and-bridge.html). Inbound: the caller's own
 * number, so Connect and the agent see who is calling; a withheld caller falls back to the number
 * they dialed. Outbound: LEG-A's From, which is ours.
 */
function callerIdFor(ev: SmaEvent, uc: UseCase): string {
  const candidates = [ev.legA?.from, ev.legA?.to, uc.dialedNumbers[0]];
  return candidates.find(isE164) ?? uc.dialedNumbers[0]!;
}

/** The use case named in CreateSipMediaApplicationCall's ArgumentsMap, when it is one we know. */
function namedUseCase(ev: SmaEvent, ctx: DecideContext): { id?: string; note?: Note } {
  const params = ev.action?.params;
  if (ev.type !== 'NEW_OUTBOUND_CALL' || params?.type !== 'CallCreateRequest') return {};
  const named = params.arguments['useCase'];
  if (named === undefined) return {};
  if (ctx.config.useCases.byIdOrUndefined(named)) return { id: named };
  return { note: { level: 'warn', msg: 'outbound use case refused', reason: 'unknown_use_case' } };
}

/**
 * The use case: the one a call we place names, else the one remembered in the call state, else the
 * one of our number on the call, else the default.
 */
function resolveUseCase(
  ev: SmaEvent,
  st: CallState,
  ctx: DecideContext,
  ourNumber: string | undefined,
): { useCase: UseCase; note: Note | undefined } {
  const cat = ctx.config.useCases;
  const named = namedUseCase(ev, ctx);
  const known = cat.byIdOrUndefined(named.id ?? st.useCase) ?? cat.byDialedNumber(ourNumber);
  if (ev.type === 'NEW_OUTBOUND_CALL') {
    return { useCase: known ?? cat.defaultUseCase, note: named.note };
  }
  if (known) return { useCase: known, note: undefined };
  return {
    useCase: cat.defaultUseCase,
    note: { level: 'warn', msg: 'default use case', reason: 'unknown_dialed_number' },
  };
}

/**
 * Whom admission judges: the use case and caller of a new inbound call (calls we place are not
 * checked). The number only when it is E.164: a withheld or malformed one is no caller's key.
 */
export function admissionSubject(
  ev: SmaEvent,
  config: DecideContext['config'],
): { useCase: UseCase; callerNumber: string | undefined } | undefined {
  if (ev.type !== 'NEW_INBOUND_CALL') return undefined;
  const ctx: DecideContext = { config, nowMs: 0 };
  const f = callFacts(ev, readState(ev.attributes), ctx, liveLegs(ev));
  if (f.outbound) return undefined;
  return {
    useCase: f.useCase,
    callerNumber: isE164(f.customerNumber) ? f.customerNumber : undefined,
  };
}

export function callFacts(
  ev: SmaEvent,
  st: CallState,
  ctx: DecideContext,
  legs: LiveLegs,
): CallFacts {
  const outbound = ev.legA?.direction?.toLowerCase() === 'outbound';
  const ourNumber = outbound ? ev.legA?.from : ev.legA?.to;
  const { useCase, note } = resolveUseCase(ev, st, ctx, ourNumber);
  return {
    useCase,
    useCaseNote: note,
    outbound,
    customerNumber: outbound ? ev.legA?.to : ev.legA?.from,
    ourNumber,
    ...legs,
    legAStartMs: ev.legA?.startMs,
    callerId: callerIdFor(ev, useCase),
  };
}
