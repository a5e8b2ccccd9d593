// A new inbound call that may not reach the agent (docs/architecture.md, "Access and limits"): the
// use case says whether the caller hears why and the call ends, or goes to people. A caller whose
// access could not be read in time goes to people: never to the agent unchecked, never to silence.
import { hangupLeg, speakTo } from '../actions.js';
import type { AdmissionCheck } from '../admission/types.js';
import type { CallState } from '../call-state.js';
import { finish, isCounted, newCallRecord } from './common.js';
import { failOverToPerson } from './results.js';
import type {
  AdmissionRefusal,
  CallFacts,
  DecideContext,
  Decision,
  MetricEffect,
  Note,
} from './types.js';

/**
 * How the use case answers a refusal. A blocked caller always hears the message: an operator
 * blocked the number, and the people behind the queue are who a block protects first.
 */
export function refusalAnswer(f: CallFacts, reason: AdmissionRefusal): 'message' | 'people' {
  switch (reason) {
    case 'blocked':
      return 'message';
    case 'unverified':
      return f.useCase.access.refused;
    case 'over_capacity':
    case 'rate_limited':
      return f.useCase.limits.overLimit;
  }
}

function useCaseNotes(f: CallFacts): Note[] {
  return f.useCaseNote ? [f.useCaseNote] : [];
}

/** The call becomes one in progress when it moves to people (it ends as any transferred call). */
function startedCounting(st: CallState, d: Decision): MetricEffect[] {
  return isCounted(d.state) && !isCounted(st) ? [{ metric: 'activeCalls', delta: 1 }] : [];
}

/** Chime says why (`notAllowed` or `overLimit`), then hangs up: the caller never hears silence. */
function sayWhyAndEnd(
  st: CallState,
  f: CallFacts,
  ctx: DecideContext,
  reason: AdmissionRefusal,
): Decision {
  const { useCase, legA } = f;
  const state: CallState = { ...st, useCase: useCase.id, end: 'refused' };
  if (legA === undefined) return finish(state, f, ctx, 'refused');
  const access = reason === 'unverified' || reason === 'blocked';
  const text = access ? useCase.messages.notAllowed : useCase.messages.overLimit;
  return {
    actions: [speakTo(legA, text, useCase.language, useCase.voice.chime), hangupLeg(legA)],
    state: { ...state, phase: 'ending' },
    record: { Phase: 'ending' },
    metrics: [],
    notes: [],
  };
}

function toPeople(st: CallState, f: CallFacts, ctx: DecideContext): Decision {
  const d = failOverToPerson(
    st,
    f,
    ctx,
    'not_admitted',
    'not admitted; sending caller to a person',
  );
  return { ...d, metrics: [...startedCounting(st, d), ...d.metrics] };
}

/** Admission refused the call: counted in voice.calls.refused and recorded as `Refused`. */
export function refuseCall(
  st: CallState,
  f: CallFacts,
  ctx: DecideContext,
  reason: AdmissionRefusal,
): Decision {
  const answer = refusalAnswer(f, reason);
  const d = answer === 'message' ? sayWhyAndEnd(st, f, ctx, reason) : toPeople(st, f, ctx);
  return {
    ...d,
    record: { ...newCallRecord(f), ...d.record, Refused: reason },
    metrics: [{ metric: 'refused', reason }, ...d.metrics],
    notes: [
      ...useCaseNotes(f),
      { level: 'info', msg: 'call refused', reason, fields: { useCase: f.useCase.id, answer } },
      ...d.notes,
    ],
  };
}

/** The caller's access could not be read in time for a use case that needs it: to people. */
export function admissionUnknown(st: CallState, f: CallFacts, ctx: DecideContext): Decision {
  const d = toPeople(st, f, ctx);
  return {
    ...d,
    record: { ...newCallRecord(f), ...d.record },
    notes: [
      ...useCaseNotes(f),
      {
        level: 'warn',
        msg: 'access not checked in time',
        reason: 'admission_unknown',
        fields: { useCase: f.useCase.id },
      },
      ...d.notes,
    ],
  };
}

/** The checks DynamoDB did not answer in time: counted, recorded, and a warning. */
export function withUnchecked(d: Decision, unchecked: readonly AdmissionCheck[]): Decision {
  const checks = [...new Set(unchecked)];
  if (checks.length === 0) return d;
  return {
    ...d,
    record: { ...d.record, Unchecked: checks },
    metrics: [...d.metrics, ...checks.map((check) => ({ metric: 'unchecked' as const, check }))],
    notes: [
      ...d.notes,
      {
        level: 'warn',
        msg: 'admission checks skipped: DynamoDB did not answer in time',
        reason: 'admission_unchecked',
        fields: { checks: checks.join(',') },
      },
    ],
  };
}
