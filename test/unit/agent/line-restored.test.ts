// When the call's line comes back after an outage (livekit-server restarted or crashed, the
// caller's SIP participant gone and back), the agent speaks first: agent/line-watch.ts tells an
// outage's end from the call's start and from a hang-up, and waits until the caller and the agent
// hear each other again; CallLimits.lineRestored checks in unless someone is speaking or a
// transfer is under way.
import { EventEmitter } from 'node:events';
import {
  ConnectionState,
  ParticipantKind,
  RoomEvent,
  type RemoteParticipant,
  type RemoteTrack,
  TrackKind,
} from '@livekit/rtc-node';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallLimits, type LimitActions } from '../../../agent/call-limits.js';
import { watchLineRestored, type WatchedRoom } from '../../../agent/line-watch.js';

class FakeRoom extends EventEmitter {
  connectionState = ConnectionState.CONN_CONNECTED;
}

const caller = { identity: 'sip_caller', kind: ParticipantKind.SIP } as RemoteParticipant;
const agent = { identity: 'agent-1', kind: ParticipantKind.AGENT } as RemoteParticipant;
const audio = { kind: TrackKind.KIND_AUDIO } as RemoteTrack;

function watched() {
  const room = new FakeRoom();
  let restored = 0;
  const unwatch = watchLineRestored(room as unknown as WatchedRoom, () => (restored += 1));
  return {
    room,
    unwatch,
    restored: () => restored,
    /** We hear `p` (its track subscribed). */
    subscribed: (p: RemoteParticipant, track = audio) =>
      room.emit(RoomEvent.TrackSubscribed, track, {}, p),
    /** The caller's side hears us (our track subscribed). */
    heard: () => room.emit(RoomEvent.LocalTrackSubscribed, {}),
    reconnecting: () => {
      room.connectionState = ConnectionState.CONN_RECONNECTING;
      room.emit(RoomEvent.Reconnecting);
    },
    reconnected: () => {
      room.connectionState = ConnectionState.CONN_CONNECTED;
      room.emit(RoomEvent.Reconnected);
    },
  };
}

describe('watchLineRestored', () => {
  it("is quiet at the call's start", () => {
    const w = watched();
    w.subscribed(caller);
    w.heard();
    expect(w.restored()).toBe(0);
  });

  it('tells once, when the room is connected again and the caller and the agent hear each other', () => {
    const w = watched();
    w.subscribed(caller);
    w.heard();
    w.reconnecting();
    w.subscribed(agent);
    w.subscribed(caller); // before the room says it is connected
    w.reconnected();
    expect(w.restored()).toBe(0); // the caller's side does not hear the agent yet
    w.heard();
    expect(w.restored()).toBe(1);
    w.subscribed(caller);
    w.heard();
    expect(w.restored()).toBe(1);
  });

  it('waits for the caller whatever order the rest comes back in', () => {
    const w = watched();
    w.reconnecting();
    w.heard();
    w.reconnected();
    w.subscribed(caller, { kind: TrackKind.KIND_VIDEO } as RemoteTrack);
    expect(w.restored()).toBe(0);
    w.subscribed(caller);
    expect(w.restored()).toBe(1);
  });

  it('tells nothing while the room is still reconnecting', () => {
    const w = watched();
    w.reconnecting();
    w.subscribed(caller);
    w.heard();
    expect(w.restored()).toBe(0);
    w.reconnected();
    expect(w.restored()).toBe(1);
  });

  it('tells when the caller left and is back and hears the agent; nothing after a hang-up', () => {
    const w = watched();
    w.room.emit(RoomEvent.ParticipantDisconnected, agent);
    w.subscribed(caller);
    w.heard();
    expect(w.restored()).toBe(0);
    w.room.emit(RoomEvent.ParticipantDisconnected, caller);
    w.reconnected();
    expect(w.restored()).toBe(0);
    w.subscribed(caller);
    w.heard();
    expect(w.restored()).toBe(1);
  });

  it('says nothing after unwatching', () => {
    const w = watched();
    w.unwatch();
    w.reconnecting();
    w.subscribed(caller);
    w.heard();
    w.reconnected();
    expect(w.restored()).toBe(0);
    expect(w.room.listenerCount(RoomEvent.TrackSubscribed)).toBe(0);
  });
});

describe('CallLimits.lineRestored', () => {
  const LIMITS = { maxCallSeconds: 1800, silence: { checkInAfterMs: 8000, endAfterMs: 30_000 } };
  let did: string[];
  let limits: CallLimits;
  beforeEach(() => {
    vi.useFakeTimers();
    did = [];
    const actions: LimitActions = {
      checkIn: async () => void did.push('checkIn'),
      offerPerson: async () => void did.push('offer'),
      end: async (reason) => void did.push(`end:${reason}`),
    };
    limits = new CallLimits({ limits: LIMITS, logger: pino({ level: 'silent' }) });
    limits.start(actions);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('checks in at once, and the silent caller is still checked in on and ended as before', async () => {
    await vi.advanceTimersByTimeAsync(3000);
    limits.lineRestored();
    await vi.advanceTimersByTimeAsync(0);
    expect(did).toEqual(['checkIn']);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(did).toEqual(['checkIn', 'checkIn', 'checkIn', 'end:caller_silent']);
  });

  it('says nothing while the agent or the caller speaks, or a transfer is under way', async () => {
    limits.agentSpeaking(true);
    limits.lineRestored();
    limits.agentSpeaking(false);
    limits.callerSpeaking(true);
    limits.lineRestored();
    limits.callerSpeaking(false);
    limits.transferStarted();
    limits.lineRestored();
    await vi.advanceTimersByTimeAsync(0);
    expect(did).toEqual([]);
  });
});
