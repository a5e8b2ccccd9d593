// What one sweep of the call guard does, decided from a snapshot: the call rooms LiveKit has (with
// their participants) and the calls the SMA still has open (DynamoDB). Pure: no clock, no I/O; the
// shell (sweep.ts) reads the snapshot and carries the actions out. docs/guard.md, "The sweep".
//
// A condition that needs time (a caller without an agent, a room without a caller, a call without
// a room) must have been seen for the grace period before anything is done: the first sweep that
// sees it notes when (`memory`), a later one acts. The webhook path (webhook.ts) is faster; the
// sweep is what catches a dropped webhook, a restarted replica, a room from before it started.
import { CallAttribute } from '../contracts/headers.js';

export type ParticipantKind = 'sip' | 'agent' | 'other';

export interface ParticipantView {
  kind: ParticipantKind;
  /** Its attributes (a SIP participant's carry `sma.transactionId` and `sip.callStatus`). */
  attributes: Readonly<Record<string, string>>;
}

export interface RoomView {
  name: string;
  participants: readonly ParticipantView[];
}

export interface OpenCallView {
  transactionId: string;
  /** The state item's `Phase` (lambdas/sma/call-state.ts). */
  phase: string;
}

export interface Snapshot {
  nowMs: number;
  /** Every room LiveKit listed whose participants could be read. */
  rooms: readonly RoomView[];
  /** Rooms LiveKit listed whose participants could not be read: left as they were, for later. */
  unread: readonly string[];
  /** The calls the SMA has open; undefined when the calls table is not configured or not read. */
  openCalls: readonly OpenCallView[] | undefined;
  /** The `Phase` of calls named by a room but not open (see {@link callsToLookUp}), when read. */
  phases: Readonly<Record<string, string>>;
}

/** What the guard noted between sweeps: when each condition was first seen, what was reported. */
export interface Memory {
  since: Readonly<Record<string, number>>;
  reported: readonly string[];
  /** With `checkCalls`: when a call room last named each call (epoch ms). */
  seen?: Readonly<Record<string, number>>;
  /** With `checkCalls`: when each open call was last checked with Chime (epoch ms). */
  checked?: Readonly<Record<string, number>>;
}

export const emptyMemory: Memory = { since: {}, reported: [] };

export type EndReason = 'webhook' | 'worker_lost' | 'sweep_no_agent' | 'sweep_call_ended';

export type Action =
  | { type: 'delete_room'; room: string; reason: Exclude<EndReason, 'webhook' | 'worker_lost'> }
  /** A call the SMA has with the agent and no room names: nothing the guard can end; reported. */
  | { type: 'report_orphan'; transactionId: string; phase: string }
  /**
   * An open call in a phase no call stays in for long without a room, and none has named it for
   * the grace period: ask Chime whether the call still exists; if not, its last events' writes
   * were lost, and the shell closes its record and gives back its slots.
   */
  | { type: 'check_call'; transactionId: string; phase: string };

export interface PlanOptions {
  /** Rooms of calls start with this (the dispatch rule's prefix and its `_`). */
  roomPrefix: string;
  graceMs: number;
  /** The shell can ask Chime whether a call exists and close records (`check_call`). */
  checkCalls?: boolean;
  /** How long before a call still open after a check is checked again (default 60 s). */
  recheckMs?: number;
}

/** The phase of a call whose caller the SMA believes is talking to the agent. */
const WITH_AGENT = 'ai_connected';

/**
 * Phases a call passes through in seconds, or spends with the agent (whose room names it): a
 * record left in one with no room is a call whose later writes were lost, or one stuck. A call
 * with people (`bridging_human`, `human_connected`) has no room for as long as they talk.
 */
const CHECKED_PHASES = new Set([
  'dialing',
  'bridging_ai',
  WITH_AGENT,
  'transfer_pending',
  'message_pending',
  'ending',
]);

const DEFAULT_RECHECK_MS = 60_000;
/** How long a call is remembered as seen in a room while the open calls cannot be read. */
const SEEN_TTL_MS = 3_600_000;

/** livekit-sip's `sip.callStatus` of an answered call; absent on servers that do not set it. */
function answered(p: ParticipantView): boolean {
  const status = p.attributes['sip.callStatus'];
  return status === undefined || status === 'active';
}

function transactionIdOf(room: RoomView): string | undefined {
  for (const p of room.participants) {
    const tx = p.kind === 'sip' ? p.attributes[CallAttribute.transactionId] : undefined;
    if (tx) return tx;
  }
  return undefined;
}

const isCallRoom = (room: RoomView, o: PlanOptions) => room.name.startsWith(o.roomPrefix);

/**
 * The calls whose `Phase` the shell should read before planning: named by a call room but not in
 * the open calls (ended, or too new for the index, which is eventually consistent). Usually none.
 */
export function callsToLookUp(
  rooms: readonly RoomView[],
  openCalls: readonly OpenCallView[],
  o: PlanOptions,
): string[] {
  const open = new Set(openCalls.map((c) => c.transactionId));
  const out = new Set<string>();
  for (const room of rooms) {
    if (!isCallRoom(room, o)) continue;
    const tx = transactionIdOf(room);
    if (tx && !open.has(tx)) out.add(tx);
  }
  return [...out].sort();
}

/** Tracks conditions across sweeps: `due` once one has held for the grace period. */
class Conditions {
  readonly since: Record<string, number> = {};

  constructor(
    private readonly before: Memory['since'],
    private readonly nowMs: number,
    private readonly graceMs: number,
  ) {}

  /**
   * Notes that `key` holds now; true when it has held for at least the grace period. `heldSince`:
   * when it is known to have started holding, if before this sweep first saw it.
   */
  due(key: string, heldSince?: number): boolean {
    const first = this.before[key] ?? Math.min(heldSince ?? this.nowMs, this.nowMs);
    this.since[key] = first;
    return this.nowMs - first >= this.graceMs;
  }
}

function planRoom(room: RoomView, s: Snapshot, c: Conditions): Action | undefined {
  const callers = room.participants.filter((p) => p.kind === 'sip');
  if (callers.length === 0) {
    // The AI leg is gone (the call ended or moved to a person): nobody is left to hear the room.
    return c.due(`no_caller:${room.name}`)
      ? { type: 'delete_room', room: room.name, reason: 'sweep_call_ended' }
      : undefined;
  }
  const tx = transactionIdOf(room);
  if (tx !== undefined && s.phases[tx] === 'ended') {
    return { type: 'delete_room', room: room.name, reason: 'sweep_call_ended' };
  }
  const agent = room.participants.some((p) => p.kind === 'agent');
  // A caller still ringing is Chime's to time out (AI_RING_TIMEOUT_SECONDS), not the guard's.
  if (agent || !callers.some(answered)) return undefined;
  return c.due(`no_agent:${room.name}`)
    ? { type: 'delete_room', room: room.name, reason: 'sweep_no_agent' }
    : undefined;
}

interface OrphanNotes {
  actions: Action[];
  reported: string[];
  checked: Record<string, number>;
}

function planOrphans(s: Snapshot, named: Set<string>, c: Conditions, m: Memory, o: PlanOptions) {
  const out: OrphanNotes = { actions: [], reported: [], checked: {} };
  for (const call of s.openCalls ?? []) {
    const tx = call.transactionId;
    if (named.has(tx)) continue;
    const watched = call.phase === WITH_AGENT || (o.checkCalls && CHECKED_PHASES.has(call.phase));
    // A call that left its room is known to have been without one since the room last named it.
    if (!watched || !c.due(`orphan:${tx}`, m.seen?.[tx])) continue;
    if (o.checkCalls && CHECKED_PHASES.has(call.phase)) planCheck(call, s.nowMs, m, o, out);
    if (call.phase !== WITH_AGENT) continue;
    if (!m.reported.includes(tx)) {
      out.actions.push({ type: 'report_orphan', transactionId: tx, phase: call.phase });
    }
    out.reported.push(tx);
  }
  return out;
}

/** A check of the call with Chime, unless one was made within `recheckMs`. */
function planCheck(call: OpenCallView, nowMs: number, m: Memory, o: PlanOptions, out: OrphanNotes) {
  const last = m.checked?.[call.transactionId];
  if (last !== undefined && nowMs - last < (o.recheckMs ?? DEFAULT_RECHECK_MS)) {
    out.checked[call.transactionId] = last;
    return;
  }
  out.checked[call.transactionId] = nowMs;
  out.actions.push({ type: 'check_call', transactionId: call.transactionId, phase: call.phase });
}

/** When rooms last named each call: now for those named, kept while the call may still be open. */
function seenNow(s: Snapshot, named: Set<string>, m: Memory): Record<string, number> {
  const open = s.openCalls && new Set(s.openCalls.map((c) => c.transactionId));
  const seen: Record<string, number> = {};
  for (const [tx, at] of Object.entries(m.seen ?? {})) {
    const mayBeOpen = open ? open.has(tx) : s.nowMs - at < SEEN_TTL_MS;
    if (mayBeOpen) seen[tx] = at;
  }
  for (const tx of named) seen[tx] = s.nowMs;
  return seen;
}

/** The optional notes, left out when empty (a guard that does not check calls keeps none). */
function withNotes(memory: Memory, seen: Record<string, number>, checked: Memory['checked']) {
  return {
    ...memory,
    ...(Object.keys(seen).length ? { seen } : {}),
    ...(checked && Object.keys(checked).length ? { checked } : {}),
  };
}

/** What this sweep could not see is remembered as it was, never decided on. */
function carryOver(s: Snapshot, memory: Memory, c: Conditions): Memory['reported'] | undefined {
  const keep = (key: string) => {
    if (memory.since[key] !== undefined) c.since[key] = memory.since[key];
  };
  for (const room of s.unread) for (const k of ['no_caller', 'no_agent']) keep(`${k}:${room}`);
  if (s.openCalls !== undefined && s.unread.length === 0) return undefined;
  for (const key of Object.keys(memory.since)) if (key.startsWith('orphan:')) keep(key);
  return memory.reported;
}

/** The actions of one sweep, and what to remember for the next. */
export function planSweep(
  s: Snapshot,
  memory: Memory,
  o: PlanOptions,
): { actions: Action[]; memory: Memory } {
  const c = new Conditions(memory.since, s.nowMs, o.graceMs);
  const actions: Action[] = [];
  const named = new Set<string>();
  for (const room of s.rooms) {
    if (!isCallRoom(room, o)) continue;
    const tx = transactionIdOf(room);
    if (tx) named.add(tx);
    const action = planRoom(room, s, c);
    if (action) actions.push(action);
  }
  const seen = o.checkCalls ? seenNow(s, named, memory) : {};
  // Without every room's participants, a call's room may just not have been seen.
  const keptReports = carryOver(s, memory, c);
  if (keptReports) {
    const kept = { since: c.since, reported: keptReports };
    return { actions, memory: withNotes(kept, seen, memory.checked) };
  }
  const orphans = planOrphans(s, named, c, memory, o);
  return {
    actions: [...actions, ...orphans.actions],
    memory: withNotes({ since: c.since, reported: orphans.reported }, seen, orphans.checked),
  };
}
