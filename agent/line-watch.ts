// When the call's line comes back after an outage, the caller has heard nothing for seconds and
// may have spoken into the gap: the agent speaks first (call-limits.ts `lineRestored`) rather than
// leave them waiting for its silent-caller check-in. An outage is the agent's own connection to
// LiveKit being re-established (livekit-server restarted or crashed: the agent and livekit-sip
// join the new server again), or the caller's SIP participant leaving. The line is back when the
// room is connected, the caller's audio is subscribed again, and the caller's side has subscribed
// to the agent's audio again (`LocalTrackSubscribed`: livekit-server says so once for each track
// it publishes, so after a reconnection, whose tracks are new, and never for a track heard before:
// a caller's side that merely joins again gets no check-in). A check-in said before that last step
// would go to nobody; a caller who hung up never comes back, so nothing is said to an empty room.
import {
  ConnectionState,
  ParticipantKind,
  RoomEvent,
  type RemoteParticipant,
  type RemoteTrack,
  type Room,
  TrackKind,
} from '@livekit/rtc-node';

/** What the watch needs of a room: its events and whether it is connected. */
export type WatchedRoom = Pick<Room, 'on' | 'off' | 'connectionState'>;

/**
 * Calls `onRestored` once per outage, when the caller and the agent hear each other again; returns
 * the unwatch. The call's start is no outage.
 */
export function watchLineRestored(room: WatchedRoom, onRestored: () => void): () => void {
  let interrupted = false;
  // What has come back since the outage began, in whatever order the room reports it.
  let callerBack = false;
  let agentHeard = false;
  const isCaller = (p: RemoteParticipant) => p.kind === ParticipantKind.SIP;
  const check = () => {
    if (!interrupted || !callerBack || !agentHeard) return;
    if (room.connectionState !== ConnectionState.CONN_CONNECTED) return;
    interrupted = false;
    onRestored();
  };
  const onOutage = () => {
    interrupted = true;
    callerBack = false;
    agentHeard = false;
  };
  const onLeft = (p: RemoteParticipant) => {
    if (isCaller(p)) onOutage();
  };
  const onSubscribed = (track: RemoteTrack, _pub: unknown, p: RemoteParticipant) => {
    if (!interrupted || !isCaller(p) || track.kind !== TrackKind.KIND_AUDIO) return;
    callerBack = true;
    check();
  };
  const onHeard = () => {
    if (!interrupted) return;
    agentHeard = true;
    check();
  };
  room.on(RoomEvent.Reconnecting, onOutage);
  room.on(RoomEvent.Reconnected, check);
  room.on(RoomEvent.ParticipantDisconnected, onLeft);
  room.on(RoomEvent.TrackSubscribed, onSubscribed);
  room.on(RoomEvent.LocalTrackSubscribed, onHeard);
  return () => {
    room.off(RoomEvent.Reconnecting, onOutage);
    room.off(RoomEvent.Reconnected, check);
    room.off(RoomEvent.ParticipantDisconnected, onLeft);
    room.off(RoomEvent.TrackSubscribed, onSubscribed);
    room.off(RoomEvent.LocalTrackSubscribed, onHeard);
  };
}
