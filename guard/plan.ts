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
}

export const emptyMemory: Memory = { since: {}, reported: [] };

export type EndReason = 'webhook' | 'sweep_no_agent' | 'sweep_call_ended';

export type Action =
  | { type: 'delete_room'; room: string; reason: Exclude<EndReason, 'webhook'> }
  /** A call the SMA has with the agent and no room names: nothing the guard can end; reported. */
  | { type: 'report_orphan'; transactionId: string; phase: string };

export interface PlanOptions {
  /** Rooms of calls start with this (the dispatch rule's prefix and its `_`). */
  roomPrefix: string;
  graceMs: number;
}

/** The phase of a call whose caller the SMA believes is talking to the agent. */
const WITH_AGENT = 'ai_connected';

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

  /** Notes that `key` holds now; true when it has held for at least the grace period. */
  due(key: string): boolean {
    const first = this.before[key] ?? this.nowMs;
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

function planOrphans(s: Snapshot, named: Set<string>, c: Conditions, m: Memory) {
  const actions: Action[] = [];
  const reported: string[] = [];
  for (const call of s.openCalls ?? []) {
    const tx = call.transactionId;
    if (call.phase !== WITH_AGENT || named.has(tx)) continue;
    if (m.reported.includes(tx)) {
      reported.push(tx);
    } else if (c.due(`orphan:${tx}`)) {
      reported.push(tx);
      actions.push({ type: 'report_orphan', transactionId: tx, phase: call.phase });
    }
  }
  return { actions, reported };
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
  // Without every room's participants, a call's room may just not have been seen.
  const keptReports = carryOver(s, memory, c);
  if (keptReports) return { actions, memory: { since: c.since, reported: keptReports } };
  const orphans = planOrphans(s, named, c, memory);
  return {
    actions: [...actions, ...orphans.actions],
    memory: { since: c.since, reported: orphans.reported },
  };
}
