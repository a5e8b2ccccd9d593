// A job sent to a call room nobody comes to leaves (agent/stray-job.ts): livekit-server dispatches
// a room it brought back without its caller, and such a job would otherwise hold a call slot until
// LiveKit closed the empty room.
import { EventEmitter } from 'node:events';
import { ParticipantKind, RoomEvent } from '@livekit/rtc-node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConsoleAttribute } from '../../../contracts/console.js';
import { CALLER_ARRIVES_WITHIN_MS, callerArrives } from '../../../agent/stray-job.js';

class FakeRoom extends EventEmitter {
  remoteParticipants = new Map<string, unknown>();
}
const sip = { identity: 'sip_1', kind: ParticipantKind.SIP, attributes: {} };
const agent = { identity: 'agent_2', kind: ParticipantKind.AGENT, attributes: {} };
const supervisor = {
  identity: 'sup',
  kind: ParticipantKind.STANDARD,
  attributes: { [ConsoleAttribute.role]: 'supervisor' },
};

describe('callerArrives', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('answers at once when the caller is already in the room', async () => {
    const room = new FakeRoom();
    room.remoteParticipants.set(sip.identity, sip);
    await expect(callerArrives(room as never)).resolves.toBe(true);
  });

  it('waits for the caller, not for another agent or a supervisor', async () => {
    const room = new FakeRoom();
    room.remoteParticipants.set(agent.identity, agent);
    const arrives = callerArrives(room as never);
    await vi.advanceTimersByTimeAsync(2000);
    room.emit(RoomEvent.ParticipantConnected, supervisor);
    await vi.advanceTimersByTimeAsync(2000);
    room.emit(RoomEvent.ParticipantConnected, sip);
    await expect(arrives).resolves.toBe(true);
    expect(room.listenerCount(RoomEvent.ParticipantConnected)).toBe(0);
  });

  it('gives up after the wait, or when the room is gone, and keeps no listener', async () => {
    const room = new FakeRoom();
    let answered: boolean | undefined;
    void callerArrives(room as never).then((a) => (answered = a));
    await vi.advanceTimersByTimeAsync(CALLER_ARRIVES_WITHIN_MS - 100);
    expect(answered).toBeUndefined();
    await vi.advanceTimersByTimeAsync(200);
    expect(answered).toBe(false);
    expect(room.listenerCount(RoomEvent.ParticipantConnected)).toBe(0);

    const gone = callerArrives(room as never, 60_000);
    room.emit(RoomEvent.Disconnected);
    await expect(gone).resolves.toBe(false);
    expect(room.listenerCount(RoomEvent.Disconnected)).toBe(0);
  });
});
