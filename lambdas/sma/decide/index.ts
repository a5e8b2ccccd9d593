// decide(event, context) -> { actions, state, record, metrics, notes, transfer }: every
// call-control decision of the SMA handler, pure and exhaustively tested. The shell (../handler.ts)
// carries out the rest.
import { readState, type CallState, type Phase } from '../call-state.js';
import type { SmaEvent } from '../events.js';
import { callFacts, liveLegs, type LiveLegs } from './facts.js';
import { decideHangup } from './hangup.js';
import { decideResult } from './results.js';
import { decideStart } from './start.js';
import { decideUpdate } from './update.js';
import type { CallFacts, DecideContext, Decision, Note } from './types.js';

export { admissionSubject } from './facts.js';

export type {
  CallFacts,
  DecideConfig,
  DecideContext,
  Decision,
  MetricEffect,
  Note,
  RecordingWrite,
  StateRecord,
  TransferReport,
} from './types.js';

const STARTS = new Set(['NEW_INBOUND_CALL', 'NEW_OUTBOUND_CALL', 'RINGING', 'CALL_ANSWERED']);

/**
 * The state this event continues from. Chime always returns TransactionAttributes once set; should
 * they be missing mid-call, a connected LEG-B with the caller still there is read as the agent leg
 * so the caller can still be transferred, never dropped.
 */
function stateOf(ev: SmaEvent, legs: LiveLegs): { st: CallState; note?: Note } {
  const st = readState(ev.attributes);
  if (st.phase !== undefined || STARTS.has(ev.type)) return { st };
  if (ev.legB?.status === 'Connected' && legs.legB && legs.legA) {
    return {
      st: { ...st, phase: 'ai_connected' },
      note: { level: 'warn', msg: 'call state missing; inferred', reason: 'state_inferred' },
    };
  }
  return { st };
}

/** The phases in which the call is with the agent, and holds its slot if it has one. */
const WITH_AGENT: ReadonlySet<Phase | undefined> = new Set(['bridging_ai', 'ai_connected']);

/**
 * A call holding a slot keeps it while it stays with the agent; the decision that takes it away
 * (to people, to its end) drops the lease from the state and asks the shell to free the slot.
 */
function settleLease(ev: SmaEvent, st: CallState, f: CallFacts, d: Decision): Decision {
  if (st.lease === undefined) return d;
  if (WITH_AGENT.has(d.state.phase)) return { ...d, state: { ...d.state, lease: st.lease } };
  const { lease: _lease, ...state } = d.state;
  const release = {
    transactionId: ev.transactionId,
    useCaseId: f.useCase.id,
    leaseExpiresAtMs: st.lease,
  };
  return { ...d, state, release };
}

export function decide(ev: SmaEvent, ctx: DecideContext): Decision {
  const legs = liveLegs(ev);
  const { st, note } = stateOf(ev, legs);
  const f = callFacts(ev, st, ctx, legs);
  const d = settleLease(ev, st, f, decideFor(ev, st, f, ctx));
  return note ? { ...d, notes: [note, ...d.notes] } : d;
}

function decideFor(ev: SmaEvent, st: CallState, f: CallFacts, ctx: DecideContext): Decision {
  switch (ev.type) {
    case 'NEW_INBOUND_CALL':
    case 'NEW_OUTBOUND_CALL':
    case 'RINGING':
    case 'CALL_ANSWERED':
      return decideStart(ev, st, f, ctx);
    case 'HANGUP':
      return decideHangup(ev, st, f, ctx);
    case 'CALL_UPDATE_REQUESTED':
      return decideUpdate(ev, st, f, ctx);
    case 'ACTION_SUCCESSFUL':
    case 'ACTION_FAILED':
    case 'ACTION_INTERRUPTED':
    case 'INVALID_LAMBDA_RESPONSE':
    case 'DIGITS_RECEIVED':
      return decideResult(ev, st, f, ctx);
  }
}
