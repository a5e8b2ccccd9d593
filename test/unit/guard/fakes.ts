// Stand-ins for what the call guard calls out to: LiveKit's room service (the shape of
// RoomServiceClient's answers) and the SMA's calls table, and instruments that remember what was
// recorded. Shared by the guard's unit and integration tests and the metric contract test.
import type { Meter } from '@opentelemetry/api';
import { pino } from 'pino';
import { GuardActions } from '../../../guard/actions.js';
import { LiveKitRooms } from '../../../guard/livekit-rooms.js';
import { Sweeper } from '../../../guard/sweep.js';
import { createGuardInstruments, type GuardInstruments } from '../../../otel/instruments.js';
import type { RoomService } from '../../../guard/livekit-rooms.js';
import type { CallStore } from '../../../guard/open-calls.js';
import type { OpenCallView } from '../../../guard/plan.js';
import type { CallRecords, CloseOutcome } from '../../../guard/call-records.js';
import type { SmaCallRef, UpdateOutcome, VoiceApi } from '../../../guard/voice-api.js';

export const KIND = { standard: 0, sip: 3, agent: 4 } as const;

export interface FakeParticipant {
  kind: number;
  state?: number;
  attributes: Record<string, string>;
}

/** LiveKit's answer for not found, as the SDK throws it. */
export function notFound(): Error {
  return Object.assign(new Error('requested room does not exist'), {
    name: 'Not Found',
    status: 404,
    code: 'not_found',
  });
}

/** livekit-server's answer for a room whose node is gone (routing's ErrNotFound, a 500). */
export function nodeGone(): Error {
  return Object.assign(new Error('could not find object'), {
    name: 'Internal Server Error',
    status: 500,
    code: 'unknown',
  });
}

export function serverError(code = 'unavailable'): Error {
  return Object.assign(new Error('server unavailable'), { name: 'Service Unavailable', code });
}

/** A room service holding `rooms`; `fail` makes an operation throw, `hang` never answer. */
export class FakeRooms implements RoomService {
  readonly rooms = new Map<string, FakeParticipant[]>();
  readonly deleted: string[] = [];
  /** Rooms whose node is gone: a delete fails until a create places them on a live node. */
  readonly homeless = new Set<string>();
  /** Each create: the room, and the agents it is dispatched to. */
  readonly created: { name: string; agents: string[] }[] = [];
  fail: Partial<Record<'listRooms' | 'listParticipants' | 'deleteRoom', () => Error>> = {};
  hang = new Set<'listRooms' | 'listParticipants' | 'deleteRoom'>();

  private async answer<T>(op: 'listRooms' | 'listParticipants' | 'deleteRoom', value: () => T) {
    if (this.hang.has(op)) return new Promise<T>(() => {});
    const err = this.fail[op]?.();
    if (err) throw err;
    return value();
  }

  listRooms() {
    return this.answer('listRooms', () => [...this.rooms.keys()].map((name) => ({ name })));
  }

  listParticipants(room: string) {
    return this.answer('listParticipants', () => {
      const p = this.rooms.get(room);
      if (!p) throw notFound();
      return p;
    });
  }

  deleteRoom(room: string) {
    return this.answer('deleteRoom', () => {
      if (this.homeless.has(room)) throw nodeGone();
      if (!this.rooms.delete(room)) throw notFound();
      this.deleted.push(room);
    });
  }

  async createRoom({ name, agents }: { name: string; agents: { agentName: string }[] }) {
    this.created.push({ name, agents: agents.map((a) => a.agentName) });
    this.homeless.delete(name);
    if (!this.rooms.has(name)) this.rooms.set(name, []);
    return { name };
  }
}

export const sip = (tx?: string, status = 'active'): FakeParticipant => ({
  kind: KIND.sip,
  attributes: { ...(tx ? { 'sma.transactionId': tx } : {}), 'sip.callStatus': status },
});
export const agent = (): FakeParticipant => ({ kind: KIND.agent, attributes: {} });

/** The SMA's calls: `open` as the index lists them, `phases` as the state items hold them. */
export class FakeCalls implements CallStore {
  open: OpenCallView[] = [];
  phasesOf: Record<string, string> = {};
  asked: string[][] = [];
  fail: Partial<Record<'openCalls' | 'phases', () => Error>> = {};

  async openCalls(): Promise<OpenCallView[]> {
    const err = this.fail.openCalls?.();
    if (err) throw err;
    return [...this.open];
  }

  async phases(transactionIds: readonly string[]): Promise<Record<string, string>> {
    this.asked.push([...transactionIds]);
    const err = this.fail.phases?.();
    if (err) throw err;
    return Object.fromEntries(
      transactionIds.filter((t) => this.phasesOf[t]).map((t) => [t, this.phasesOf[t]!]),
    );
  }
}

/** Chime's Voice API: the calls it still has (`live`); every update it was sent. */
export class FakeVoice implements VoiceApi {
  readonly live = new Set<string>();
  readonly sent: { call: SmaCallRef; args: Record<string, string> }[] = [];
  fail: (() => Error) | undefined;

  async update(call: SmaCallRef, args: Record<string, string>): Promise<UpdateOutcome> {
    this.sent.push({ call, args });
    const err = this.fail?.();
    if (err) throw err;
    return this.live.has(call.transactionId) ? 'accepted' : 'gone';
  }
}

/** The records the guard closes: `outcome` is what closing answers. */
export class FakeRecords implements CallRecords {
  readonly closing: string[] = [];
  outcome: CloseOutcome = { outcome: 'closed', leases: 2 };
  fail: (() => Error) | undefined;

  async closeGone(transactionId: string): Promise<CloseOutcome> {
    this.closing.push(transactionId);
    const err = this.fail?.();
    if (err) throw err;
    return this.outcome;
  }
}

export interface Recorded {
  name: string;
  value: number;
  attributes: Record<string, unknown>;
}

/** The guard's instruments on a meter that keeps every measurement. */
export function recordingInstruments(): { instruments: GuardInstruments; recorded: Recorded[] } {
  const recorded: Recorded[] = [];
  const instrument = (name: string) => {
    const keep = (value: number, attributes: Record<string, unknown> = {}) => {
      recorded.push({ name, value, attributes });
    };
    return { add: keep, record: keep };
  };
  const meter = { createCounter: instrument, createHistogram: instrument } as unknown as Meter;
  return { instruments: createGuardInstruments(meter), recorded };
}

/** The sum of what was added to `name` with these attributes. */
export function total(recorded: Recorded[], name: string, attrs: Record<string, unknown> = {}) {
  return recorded
    .filter((r) => r.name === name)
    .filter((r) => Object.entries(attrs).every(([k, v]) => r.attributes[k] === v))
    .reduce((n, r) => n + r.value, 0);
}

/**
 * Drives the real guard through every instrument (the metric contract test): a room left without
 * its agent, a room whose call ended, a call with no room, a failing request, the sweeps' times.
 */
export async function exerciseGuard(instruments: GuardInstruments): Promise<void> {
  const rooms = new FakeRooms();
  rooms.rooms.set('call_no_agent', [sip('tx-1')]);
  rooms.rooms.set('call_ended', [sip('tx-2'), agent()]);
  const calls = new FakeCalls();
  calls.open = [{ transactionId: 'tx-orphan', phase: 'ai_connected' }];
  calls.phasesOf = { 'tx-2': 'ended' };
  const clock = { now: 0 };
  const actions = new GuardActions(
    new LiveKitRooms(rooms, 1000),
    instruments,
    pino({ level: 'silent' }),
  );
  const sweeper = new Sweeper(actions, calls, instruments, {
    roomPrefix: 'call_',
    graceMs: 3000,
    intervalMs: 10_000,
    now: () => clock.now,
  });
  await sweeper.sweep();
  clock.now += 10_000;
  await sweeper.sweep();
  rooms.fail.listRooms = () => serverError('unavailable');
  await sweeper.sweep();
}
