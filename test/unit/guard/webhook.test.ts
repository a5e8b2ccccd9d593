import { WebhookEvent } from 'livekit-server-sdk';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GuardActions } from '../../../guard/actions.js';
import { LiveKitRooms } from '../../../guard/livekit-rooms.js';
import { AgentLeftWatch } from '../../../guard/webhook.js';
import { Instrument } from '../../../otel/instruments.js';
import { FakeRooms, KIND, agent, recordingInstruments, serverError, sip, total } from './fakes.js';

const ROOM = 'call_+12025550131_abc';

function event(name: string, room: string, kind: number): WebhookEvent {
  return WebhookEvent.fromJson({
    event: name,
    room: { name: room },
    participant: { identity: 'p', kind: kind === KIND.agent ? 'AGENT' : 'SIP' },
  });
}

function setUp() {
  const rooms = new FakeRooms();
  const { instruments, recorded } = recordingInstruments();
  const actions = new GuardActions(
    new LiveKitRooms(rooms, 1000),
    instruments,
    pino({ level: 'silent' }),
  );
  const watch = new AgentLeftWatch(actions, { roomPrefix: 'call_', graceMs: 3000 });
  return { rooms, recorded, actions, watch };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('AgentLeftWatch', () => {
  it('ends the AI leg when the agent left and none came back within the grace period', async () => {
    const t = setUp();
    t.rooms.rooms.set(ROOM, [sip('tx')]);
    t.watch.handle(event('participant_left', ROOM, KIND.agent));
    await vi.advanceTimersByTimeAsync(2999);
    expect(t.rooms.deleted).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.rooms.deleted).toEqual([ROOM]);
    expect(t.actions.ended).toEqual([ROOM]);
    expect(total(t.recorded, Instrument.guardRoomsEnded, { reason: 'webhook' })).toBe(1);
  });

  it('leaves the call alone when another agent joined within the grace period', async () => {
    const t = setUp();
    t.rooms.rooms.set(ROOM, [sip('tx')]);
    t.watch.handle(event('participant_left', ROOM, KIND.agent));
    t.watch.handle(event('participant_joined', ROOM, KIND.agent));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(t.rooms.deleted).toEqual([]);
  });

  it('leaves the call alone when an agent is there at the end of the grace period', async () => {
    const t = setUp();
    t.rooms.rooms.set(ROOM, [sip('tx'), agent()]);
    t.watch.handle(event('participant_left', ROOM, KIND.agent));
    await vi.advanceTimersByTimeAsync(3000);
    expect(t.rooms.deleted).toEqual([]);
  });

  it('ignores participants other than agents and rooms other than calls', async () => {
    const t = setUp();
    t.rooms.rooms.set(ROOM, [sip('tx')]);
    t.rooms.rooms.set('dev-room', [sip('tx')]);
    t.watch.handle(event('participant_left', ROOM, KIND.sip));
    t.watch.handle(event('participant_left', 'dev-room', KIND.agent));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(t.rooms.deleted).toEqual([]);
  });

  it('counts a failed look at the room and leaves it to the sweep', async () => {
    const t = setUp();
    t.rooms.rooms.set(ROOM, [sip('tx')]);
    t.rooms.fail.listParticipants = () => serverError('unavailable');
    t.watch.handle(event('participant_left', ROOM, KIND.agent));
    await vi.advanceTimersByTimeAsync(3000);
    expect(t.rooms.deleted).toEqual([]);
    expect(total(t.recorded, Instrument.guardApiErrors, { operation: 'list_participants' })).toBe(
      1,
    );
  });

  it('does nothing and counts nothing when the room is already gone', async () => {
    const t = setUp();
    t.watch.handle(event('participant_left', ROOM, KIND.agent));
    await vi.advanceTimersByTimeAsync(3000);
    expect(t.recorded.filter((r) => r.value > 0)).toEqual([]);
  });
});
