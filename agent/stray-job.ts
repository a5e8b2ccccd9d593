// A job sent to a call room nobody comes to. livekit-sip creates a call's room as it joins it, so
// the caller is there when the agent is dispatched, or a moment later. A room livekit-server brings
// back without its caller is dispatched all the same: after a crash, each call room as it returns,
// including those whose caller the agent already sent to a person (agent/media-watch.ts). Such a
// job would hold one of the worker's call slots until LiveKit closed the empty room; it leaves
// after a short wait instead.
import { RoomEvent, type RemoteParticipant, type Room } from '@livekit/rtc-node';
import { mayBeCaller } from './caller-arrival.js';

/** How long a job waits for anyone who may be the caller in a call room. */
export const CALLER_ARRIVES_WITHIN_MS = 5000;

/** Whether someone who may be the caller is in the room, or joins it within `withinMs`. */
export function callerArrives(
  room: Pick<Room, 'on' | 'off' | 'remoteParticipants'>,
  withinMs = CALLER_ARRIVES_WITHIN_MS,
): Promise<boolean> {
  for (const p of room.remoteParticipants.values())
    if (mayBeCaller(p)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (arrived: boolean) => {
      clearTimeout(timer);
      room.off(RoomEvent.ParticipantConnected, onJoined);
      room.off(RoomEvent.Disconnected, onGone);
      resolve(arrived);
    };
    const onJoined = (p: RemoteParticipant) => {
      if (mayBeCaller(p)) done(true);
    };
    const onGone = () => done(false);
    const timer = setTimeout(() => done(false), withinMs);
    room.on(RoomEvent.ParticipantConnected, onJoined);
    room.on(RoomEvent.Disconnected, onGone);
  });
}
