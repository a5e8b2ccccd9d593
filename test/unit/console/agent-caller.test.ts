// The agent never takes a console supervisor for the caller it serves (contracts/console.ts): a
// supervisor who barges in, or joins a room before the agent, is passed over.
import { EventEmitter } from 'node:events';
import { ParticipantKind, RoomEvent, type RemoteParticipant } from '@livekit/rtc-node';
import { describe, expect, it } from 'vitest';
import { mayBeCaller, waitForCaller } from '../../../agent/caller-arrival.js';
import { ConsoleAttribute } from '../../../contracts/console.js';

const role = (r: string) => ({ [ConsoleAttribute.role]: r });
const participant = (identity: string, kind: ParticipantKind, attributes = {}) =>
  ({ identity, kind, attributes }) as unknown as RemoteParticipant;

describe('mayBeCaller', () => {
  it('takes a SIP caller and a developer, never a supervisor or an agent', () => {
    expect(mayBeCaller({ kind: ParticipantKind.SIP, attributes: {} })).toBe(true);
    expect(mayBeCaller({ kind: ParticipantKind.STANDARD, attributes: role('developer') })).toBe(
      true,
    );
    expect(mayBeCaller({ kind: ParticipantKind.STANDARD, attributes: {} })).toBe(true);
    expect(mayBeCaller({ kind: ParticipantKind.STANDARD, attributes: role('supervisor') })).toBe(
      false,
    );
    expect(mayBeCaller({ kind: ParticipantKind.AGENT, attributes: {} })).toBe(false);
  });
});

describe('waitForCaller', () => {
  const supervisor = participant(
    'console-supervisor-u',
    ParticipantKind.STANDARD,
    role('supervisor'),
  );
  const caller = participant('sip_caller', ParticipantKind.SIP);

  it('passes over a supervisor who is in the room first, for the caller already there', async () => {
    const room = Object.assign(new EventEmitter(), {
      remoteParticipants: new Map([
        [supervisor.identity, supervisor],
        [caller.identity, caller],
      ]),
    });
    const ctx = { room, waitForParticipant: async () => supervisor } as never;
    expect(await waitForCaller(ctx)).toBe(caller);
  });

  it('waits for the caller when only a supervisor is there', async () => {
    const room = Object.assign(new EventEmitter(), {
      remoteParticipants: new Map([[supervisor.identity, supervisor]]),
    });
    const ctx = { room, waitForParticipant: async () => supervisor } as never;
    const found = waitForCaller(ctx);
    await new Promise((r) => setTimeout(r, 10));
    room.emit(
      RoomEvent.ParticipantConnected,
      participant('console-supervisor-2', ParticipantKind.STANDARD, role('supervisor')),
    );
    room.emit(RoomEvent.ParticipantConnected, caller);
    expect(await found).toBe(caller);
    expect(room.listenerCount(RoomEvent.ParticipantConnected)).toBe(0);
  });
});
