// The caller's participant, from the agent's side: which participant in the room is the caller (not
// an agent, not a supervisor the console let in), and when livekit-sip says their call is answered.
import type { JobContext } from '@livekit/agents';
import { ParticipantKind, RoomEvent, type RemoteParticipant } from '@livekit/rtc-node';
import { isConsoleSupervisor } from '../contracts/console.js';
import { LiveKitSipAttribute } from './call-context.js';

/**
 * When the SIP participant's call is answered (sip.callStatus = active; at once for a dev room
 * participant), or undefined if the caller leaves before that.
 */
export function whenAnswered(
  room: JobContext['room'],
  p: RemoteParticipant,
): Promise<number | undefined> {
  const status = () => p.attributes[LiveKitSipAttribute.callStatus];
  if (p.kind !== ParticipantKind.SIP || status() === undefined || status() === 'active') {
    return Promise.resolve(Date.now());
  }
  return new Promise((resolve) => {
    const done = (at: number | undefined) => {
      room.off(RoomEvent.ParticipantAttributesChanged, onChange);
      room.off(RoomEvent.ParticipantDisconnected, onLeft);
      resolve(at);
    };
    const onChange = (_changed: Record<string, string>, who: { identity: string }) => {
      if (who.identity === p.identity && status() === 'active') done(Date.now());
    };
    const onLeft = (who: { identity: string }) => {
      if (who.identity === p.identity) done(undefined);
    };
    room.on(RoomEvent.ParticipantAttributesChanged, onChange);
    room.on(RoomEvent.ParticipantDisconnected, onLeft);
  });
}

/** Could this participant be the one the agent serves: not an agent, not a console supervisor. */
export function mayBeCaller(p: Pick<RemoteParticipant, 'kind' | 'attributes'>): boolean {
  return p.kind !== ParticipantKind.AGENT && !isConsoleSupervisor(p.attributes);
}

/**
 * The participant the agent serves: the first one that may be the caller. A supervisor the console
 * let into the room (contracts/console.ts) is never taken for the caller, even when it is there
 * first (a job dispatched again into a call it joined): the agent waits on for the caller.
 */
export async function waitForCaller(
  ctx: Pick<JobContext, 'room' | 'waitForParticipant'>,
): Promise<RemoteParticipant> {
  const first = await ctx.waitForParticipant();
  if (mayBeCaller(first)) return first;
  const room = ctx.room;
  for (const p of room.remoteParticipants.values()) if (mayBeCaller(p)) return p;
  return new Promise((resolve, reject) => {
    const done = () => {
      room.off(RoomEvent.ParticipantConnected, onJoined);
      room.off(RoomEvent.Disconnected, onGone);
    };
    const onJoined = (p: RemoteParticipant) => {
      if (!mayBeCaller(p)) return;
      done();
      resolve(p);
    };
    const onGone = () => {
      done();
      reject(new Error('room disconnected while waiting for the caller'));
    };
    room.on(RoomEvent.ParticipantConnected, onJoined);
    room.on(RoomEvent.Disconnected, onGone);
  });
}
