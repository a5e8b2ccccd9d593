import { WebhookEvent } from 'livekit-server-sdk';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GuardActions } from '../../../guard/actions.js';
import { LiveKitRooms } from '../../../guard/livekit-rooms.js';
import { AgentLeftWatch } from '../../../guard/webhook.js';
import { Instrument } from '../../../otel/instruments.js';
import {
  FakeRooms,
  FakeVoice,
  KIND,
  agent,
  recordingInstruments,
  serverError,
  sip,
  total,
} from './fakes.js';

const ROOM = 'call_+12025550131_abc';

function event(name: string, room: string, kind: number): WebhookEvent {
  return WebhookEvent.fromJson({
    event: name,
    room: { name: room },
    participant: { identity: 'p', kind: kind === KIND.agent ? 'AGENT' : 'SIP' },
  });
}

/** A participant_left of a participant whose connection was lost or closed, with attributes. */
function left(
  kind: number,
  disconnectReason: string,
  attributes: Record<string, string> = {},
): WebhookEvent {
  return WebhookEvent.fromJson({
    event: 'participant_left',
    room: { name: ROOM },
    participant: {
      identity: 'p',
      kind: kind === KIND.agent ? 'AGENT' : 'SIP',
      disconnectReason,
      attributes,
    },
  });
}

const CALL = {
  'sma.transactionId': 'tx-1',
  'sma.applicationId': 'sma-app',
  'sma.region': 'us-east-1',
  'sma.callToken': 'v1.token',
  'sip.callStatus': 'active',
};

function setUp() {
  const rooms = new FakeRooms();
  const voice = new FakeVoice();
  const { instruments, recorded } = recordingInstruments();
  const actions = new GuardActions(
    new LiveKitRooms(rooms, 1000),
    instruments,
    pino({ level: 'silent' }),
    { voice },
    () => 1_700_000_000_000,
  );
  const watch = new AgentLeftWatch(actions, { roomPrefix: 'call_', graceMs: 3000 });
  return { rooms, voice, recorded, actions, watch };
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

  it("ends the AI leg at once when the agent's connection was lost, not after the grace", async () => {
    const t = setUp();
    t.rooms.rooms.set(ROOM, [sip('tx')]);
    t.watch.handle(left(KIND.agent, 'CONNECTION_TIMEOUT'));
    await vi.advanceTimersByTimeAsync(0);
    expect(t.rooms.deleted).toEqual([ROOM]);
  });

  it('has the SMA send the caller to a person when their SIP leg was lost without a BYE', async () => {
    const t = setUp();
    t.voice.live.add('tx-1');
    t.watch.handle(left(KIND.sip, 'CONNECTION_TIMEOUT', CALL));
    await vi.advanceTimersByTimeAsync(0);
    expect(t.voice.sent).toEqual([
      {
        call: { applicationId: 'sma-app', transactionId: 'tx-1', region: 'us-east-1' },
        args: {
          action: 'transfer',
          queue: '',
          reason: 'agent_error',
          requestedAt: '1700000000000',
          token: 'v1.token',
        },
      },
    ]);
    expect(t.actions.failedOver).toEqual(['tx-1']);
  });

  it.each(['SIGNAL_CLOSE', 'STATE_MISMATCH', 'MEDIA_FAILURE', 'JOIN_FAILURE'])(
    'takes a SIP participant that left with %s as lost',
    async (reason) => {
      const t = setUp();
      t.watch.handle(left(KIND.sip, reason, CALL));
      await vi.advanceTimersByTimeAsync(0);
      expect(t.voice.sent).toHaveLength(1);
    },
  );

  it.each(['CLIENT_INITIATED', 'ROOM_DELETED', 'PARTICIPANT_REMOVED', 'SERVER_SHUTDOWN'])(
    'sends nothing when the SIP participant left with %s (a BYE was or will be sent)',
    async (reason) => {
      const t = setUp();
      t.watch.handle(left(KIND.sip, reason, CALL));
      await vi.advanceTimersByTimeAsync(10_000);
      expect(t.voice.sent).toEqual([]);
    },
  );

  it('sends nothing without the call token: the guard never makes one', async () => {
    const t = setUp();
    const { 'sma.callToken': _token, ...withoutToken } = CALL;
    t.watch.handle(left(KIND.sip, 'CONNECTION_TIMEOUT', withoutToken));
    await vi.advanceTimersByTimeAsync(0);
    expect(t.voice.sent).toEqual([]);
  });

  it('takes a call Chime no longer has as over, and counts a failed request', async () => {
    const t = setUp();
    t.watch.handle(left(KIND.sip, 'CONNECTION_TIMEOUT', CALL));
    await vi.advanceTimersByTimeAsync(0);
    expect(t.actions.failedOver).toEqual([]);
    t.voice.fail = () => Object.assign(new Error('rate'), { name: 'ThrottledClientException' });
    t.watch.handle(left(KIND.sip, 'CONNECTION_TIMEOUT', CALL));
    await vi.advanceTimersByTimeAsync(0);
    expect(
      total(t.recorded, Instrument.guardApiErrors, {
        operation: 'update_call',
        code: 'throttled_client_exception',
      }),
    ).toBe(1);
  });
});
