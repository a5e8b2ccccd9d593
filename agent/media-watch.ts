// When livekit-sip dies without a BYE (killed, its host lost), the caller's SIP participant stays
// in the room until livekit-server's ICE timeout (about 15 s) and the agent's audio input goes on
// delivering concealed silence: nothing in the frames tells a dead line from a quiet caller. The
// packet counters do. livekit-sip sends its 20 ms packets whether or not the caller speaks (50 a
// second), so inbound audio packets that stop growing while the room is connected and the caller
// is still in it mean the line is dead: the agent asks its call control to send the caller to a
// person (`line_lost`), once, saying nothing first (nobody would hear it).
// docs/decisions/livekit-sip-death.md.
//
// The counters are the room's WebRTC statistics (`Room.getRtcStats()`): the sum of
// `packetsReceived` over its inbound audio streams. rtc-node names a stream by a track id of its
// own, not the LiveKit track's, so the caller's stream is not picked out: in a call room the agent
// hears the caller alone; with a console supervisor speaking too, their packets keep the sum
// growing and the call is left to the call guard's backstop (a missed watch, never a false one).
//
// The agent's own connection to LiveKit lost (livekit-server crashed or restarted under the call:
// the room reconnecting) is an outage of the line too: livekit-sip and the agent join the new
// server only after livekit-server stops routing the room to the dead node (seconds: decision
// livekit-server-restarts.md). If the caller's audio is not back within `outageAfterMs`, the same
// transfer goes to the SMA, which does not need LiveKit to move the caller.
import {
  ConnectionState,
  ParticipantKind,
  RoomEvent,
  TrackKind,
  type RemoteParticipant,
  type RemoteTrack,
  type Room,
} from '@livekit/rtc-node';
import type { Logger } from 'pino';
import type { CallControl } from './call-control.js';
import { GLOBAL_CLOCK, type LimitClock } from './call-limits.js';

/** Between two readings of the counters. */
export const MEDIA_POLL_MS = 250;
/**
 * Packets not growing this long mean the line is dead: 75 packets in a row that never came. A
 * shorter stall is let pass (a person is a good outcome for a caller; a transfer on a blip is not).
 */
export const MEDIA_LOST_AFTER_MS = 1500;
/** A reading this much later than its time means the agent's process was starved of CPU. */
export const LATE_READING_MS = 250;
/**
 * The agent's connection to LiveKit re-establishing this long, the caller's audio not back: the
 * line counts as lost. With the transfer's own time the caller hears a person within about 3 s of
 * the outage; a signalling resume that brings the line back sooner keeps the call with the agent.
 */
export const OUTAGE_LOST_AFTER_MS = 2000;

/** The counters, as rtc-node's room statistics give them (GetSessionStatsCallback_Result). */
export interface SessionStats {
  publisherStats: readonly StatsEntry[];
  subscriberStats: readonly StatsEntry[];
}
interface StatsEntry {
  stats: { case: string | undefined; value?: unknown };
}
interface InboundRtp {
  stream?: { kind?: string };
  received?: { packetsReceived?: bigint | number };
}

/**
 * Audio packets received on every inbound stream, whichever peer connection carries it (with
 * livekit-server 1.13 the subscribed tracks arrive on the one rtc-node reports as the
 * publisher's); undefined when there is no inbound audio stream.
 */
export function inboundAudioPackets(stats: SessionStats): number | undefined {
  let packets: number | undefined;
  for (const entry of [...stats.publisherStats, ...stats.subscriberStats]) {
    if (entry.stats.case !== 'inboundRtp') continue;
    const rtp = entry.stats.value as InboundRtp;
    if (rtp.stream?.kind !== 'audio') continue;
    packets = (packets ?? 0) + Number(rtp.received?.packetsReceived ?? 0);
  }
  return packets;
}

/** What the watch needs of a room: its events, its state and who is in it. */
export type MediaWatchedRoom = Pick<Room, 'on' | 'off' | 'connectionState' | 'remoteParticipants'>;

export interface MediaWatchOptions {
  room: MediaWatchedRoom;
  /** The caller's SIP participant. */
  callerIdentity: string;
  /** The inbound audio packets so far (inboundAudioPackets of the room's statistics). */
  packets(): Promise<number | undefined>;
  /**
   * The line is dead: called once, with how long the packets had not grown (`stalled`) or the
   * agent's connection had been re-establishing (`outage`), and the call's control as `watch`
   * returned it (undefined before, or for a call without one).
   */
  onLost(lost: LineLost, control: CallControl | undefined): void;
  logger: Logger;
  pollMs?: number;
  /** The packets' stall that loses the line; 0: not watched. */
  lostAfterMs?: number;
  /** The outage that loses the line; 0: the agent waits for its connection however long. */
  outageAfterMs?: number;
  clock?: LimitClock;
}

/** What lost the line, and for how long. */
export type LineLost = { kind: 'stalled' | 'outage'; ms: number };

/**
 * Watches one call's inbound audio, from the call's answer (`start`). It reads the counters only
 * while it is armed: the room connected, the caller's audio subscribed, and no call update in
 * flight; each arming starts from a fresh reading, and a stall counts only after the packets have
 * grown once since. While the room reconnects, the outage's clock runs instead, until the caller's
 * audio is subscribed again on a connected room; the room given up for good during an outage loses
 * the line at once. It ends for good when it fired, when an update was sent, or when the caller or
 * the room is gone.
 */
export class MediaWatch {
  private readonly clock: LimitClock;
  private readonly pollMs: number;
  private readonly lostAfterMs: number;
  private readonly outageAfterMs: number;
  private timer: unknown;
  /** When the agent's connection began re-establishing, while the line is not back. */
  private outageAt: number | undefined;
  private outageTimer: unknown;
  private started = false;
  private stopped = false;
  private subscribed = false;
  private paused = false;
  /** The last reading since the watch was armed, and when the packets last grew. */
  private last: number | undefined;
  private grewAt: number | undefined;
  private statsFailing = false;
  /** When the pending reading was scheduled. */
  private scheduledAt: number | undefined;
  private control: CallControl | undefined;
  private unwatch: () => void = () => {};

  constructor(private readonly opts: MediaWatchOptions) {
    this.clock = opts.clock ?? GLOBAL_CLOCK;
    this.pollMs = opts.pollMs ?? MEDIA_POLL_MS;
    this.lostAfterMs = opts.lostAfterMs ?? MEDIA_LOST_AFTER_MS;
    this.outageAfterMs = opts.outageAfterMs ?? OUTAGE_LOST_AFTER_MS;
  }

  /**
   * The call was answered: the watch starts, from the caller's audio as subscribed now. Before the
   * answer livekit-sip may send nothing yet, and nothing is lost by waiting: the caller hears
   * nothing of the agent until then either.
   */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    const { room, callerIdentity } = this.opts;
    const isCallerAudio = (track: RemoteTrack, p: RemoteParticipant) =>
      p.identity === callerIdentity && track.kind === TrackKind.KIND_AUDIO;
    const onSubscribed = (track: RemoteTrack, _pub: unknown, p: RemoteParticipant) => {
      if (isCallerAudio(track, p)) this.setSubscribed(true);
    };
    const onUnsubscribed = (track: RemoteTrack, _pub: unknown, p: RemoteParticipant) => {
      if (isCallerAudio(track, p)) this.setSubscribed(false);
    };
    const callerAudio = () => {
      const caller = room.remoteParticipants.get(callerIdentity);
      return [...(caller?.trackPublications.values() ?? [])].some(
        (pub) => pub.kind === TrackKind.KIND_AUDIO && pub.subscribed && pub.track,
      );
    };
    const onReconnecting = () => {
      this.outageAt ??= this.clock.now();
      this.setSubscribed(false);
    };
    // A resumed connection keeps its subscriptions; after a full reconnection the caller comes
    // back as a new participant whose track is subscribed again: armed from there.
    const onReconnected = () => this.setSubscribed(callerAudio());
    // The caller leaving is not the end of the watch: on a full reconnection rtc-node reports every
    // participant gone (just before `Reconnecting`) and the caller back once it is over. A caller
    // who hung up stays unsubscribed, so nothing is read; the job ends with the call.
    const onLeft = (p: RemoteParticipant) => {
      if (p.identity === callerIdentity) this.setSubscribed(false);
    };
    // Given up during an outage: nothing will bring the line back, so it is lost now.
    const onGone = () => (this.outageAt !== undefined ? this.outageLost() : this.stop());
    room.on(RoomEvent.TrackSubscribed, onSubscribed);
    room.on(RoomEvent.TrackUnsubscribed, onUnsubscribed);
    room.on(RoomEvent.Reconnecting, onReconnecting);
    room.on(RoomEvent.Reconnected, onReconnected);
    room.on(RoomEvent.ParticipantDisconnected, onLeft);
    room.on(RoomEvent.Disconnected, onGone);
    this.unwatch = () => {
      room.off(RoomEvent.TrackSubscribed, onSubscribed);
      room.off(RoomEvent.TrackUnsubscribed, onUnsubscribed);
      room.off(RoomEvent.Reconnecting, onReconnecting);
      room.off(RoomEvent.Reconnected, onReconnected);
      room.off(RoomEvent.ParticipantDisconnected, onLeft);
      room.off(RoomEvent.Disconnected, onGone);
    };
    this.setSubscribed(callerAudio());
  }

  /** A call update is in flight: nothing is read until it settles. */
  pause(): void {
    this.paused = true;
    this.rearm();
  }

  /** The update failed: the agent keeps the caller, and the watch goes on from a fresh reading. */
  resume(): void {
    this.paused = false;
    this.rearm();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.clock.clearTimeout(this.outageTimer);
    this.outageTimer = undefined;
    this.unwatch();
  }

  /**
   * The call's control, watched: while an update is in flight the watch pauses; once one was
   * sent (a transfer, a hang-up, a message) the call is leaving the agent and the watch ends.
   */
  watch(control: CallControl | undefined): CallControl | undefined {
    if (!control) return undefined;
    this.control = {
      update: async (update) => {
        this.pause();
        try {
          await control.update(update);
        } catch (err) {
          this.resume();
          throw err;
        }
        this.stop();
      },
      // A language switch leaves the call where it is.
      ...(control.languageChanged ? { languageChanged: (l) => control.languageChanged!(l) } : {}),
    };
    return this.control;
  }

  private setSubscribed(subscribed: boolean): void {
    this.subscribed = subscribed;
    this.rearm();
  }

  /** From a fresh reading: the counters may have restarted (a new peer connection). */
  private rearm(): void {
    this.last = undefined;
    this.grewAt = undefined;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    // The caller's audio subscribed on a connected room: the outage is over.
    if (this.lineUp()) this.outageAt = undefined;
    this.clock.clearTimeout(this.outageTimer);
    this.outageTimer = undefined;
    if (this.armed()) this.schedule();
    else if (this.outageWatched()) {
      const left = Math.max(0, this.outageAt! + this.outageAfterMs - this.clock.now());
      this.outageTimer = this.clock.setTimeout(() => this.outageLost(), left);
    }
  }

  /** In an outage, with nothing else deciding the call (an update in flight decides it). */
  private outageWatched(): boolean {
    const watching = this.started && !this.stopped && !this.paused;
    return watching && this.outageAt !== undefined && this.outageAfterMs > 0;
  }

  private outageLost(): void {
    if (!this.outageWatched()) return this.stop();
    const ms = this.clock.now() - this.outageAt!;
    this.stop();
    this.opts.onLost({ kind: 'outage', ms }, this.control);
  }

  /** Watching, and the caller's audio subscribed on a connected room. */
  private lineUp(): boolean {
    const connected = this.opts.room.connectionState === ConnectionState.CONN_CONNECTED;
    return this.started && !this.stopped && !this.paused && this.subscribed && connected;
  }

  /** Reading the counters: the line up, and its stall watched. */
  private armed(): boolean {
    return this.lostAfterMs > 0 && this.lineUp();
  }

  private schedule(): void {
    this.scheduledAt = this.clock.now();
    const timer = this.clock.setTimeout(() => void this.poll(timer), this.pollMs);
    this.timer = timer;
  }

  private async poll(timer: unknown): Promise<void> {
    let packets: number | undefined;
    let failed = false;
    try {
      packets = await this.opts.packets();
    } catch (err) {
      failed = true;
      if (!this.statsFailing) {
        this.opts.logger.warn({ err: (err as Error)?.message }, 'media watch: no statistics');
      }
    }
    this.statsFailing = failed;
    // Re-armed, paused or stopped while the statistics were read: that reading is not this arming's.
    if (this.timer !== timer) return;
    if (!this.armed()) return;
    this.observe(packets);
    if (!this.stopped) this.schedule();
  }

  private observe(packets: number | undefined): void {
    const now = this.clock.now();
    // A reading that came late (the timer fired late, or the statistics took long): this process
    // was starved of CPU, and what it reads may lag what arrived. The stall's clock starts over:
    // a lost line is judged on readings taken on time, never on a busy process's.
    const late = now - (this.scheduledAt ?? now) > this.pollMs + LATE_READING_MS;
    if (late && this.grewAt !== undefined) this.grewAt = now;
    if (packets === undefined) {
      // No statistics, or no inbound audio stream: nothing is known, so nothing counts as a stall.
      this.last = undefined;
      this.grewAt = undefined;
      return;
    }
    const last = this.last;
    this.last = packets;
    if (last === undefined) return;
    // Fewer than before: the counters of a new peer connection. More: the line is alive.
    if (packets !== last) {
      this.grewAt = packets > last ? now : undefined;
      return;
    }
    if (this.grewAt === undefined) return;
    const stalledMs = now - this.grewAt;
    if (stalledMs < this.lostAfterMs) return;
    this.stop();
    this.opts.onLost({ kind: 'stalled', ms: stalledMs }, this.control);
  }
}

/** The settings of a call's watch (agent/config.ts): 0 turns that part off. */
export interface LineWatchSettings {
  /** LINE_LOST_AFTER_MS: the packets' stall that loses the line. */
  lostAfterMs: number;
  /** LINE_OUTAGE_AFTER_MS: the agent's connection re-establishing this long loses the line. */
  outageAfterMs: number;
}

/**
 * Watches the caller's media on a phone call (a SIP participant; a dev room's participant has no
 * line to lose; none when both settings are 0) and, when the line is lost, sends the caller to the
 * use case's default queue through the call's control (so its limits and memory see the
 * transfer). Once the SMA has taken the caller, the agent leaves (`leave`): nobody can hear it,
 * and the BYE that would end its job cannot reach it. Wrap the call's control with the returned
 * watch's `watch`.
 */
export function watchCallerMedia(
  room: Pick<Room, 'on' | 'off' | 'connectionState' | 'remoteParticipants' | 'getRtcStats'>,
  caller: Pick<RemoteParticipant, 'identity' | 'kind'>,
  call: { useCase: { defaultQueue: string }; traceparent: string | undefined },
  opts: { logger: Logger; settings: LineWatchSettings; leave: () => void },
): MediaWatch | undefined {
  const { logger, settings, leave } = opts;
  const watched = settings.lostAfterMs > 0 || settings.outageAfterMs > 0;
  if (caller.kind !== ParticipantKind.SIP || !watched) return undefined;
  return new MediaWatch({
    room,
    callerIdentity: caller.identity,
    lostAfterMs: settings.lostAfterMs,
    outageAfterMs: settings.outageAfterMs,
    packets: async () => inboundAudioPackets(await room.getRtcStats()),
    logger,
    onLost: (lost, control) => {
      logger.warn(
        {
          reason: 'line_lost',
          ...(lost.kind === 'stalled' ? { stalledMs: lost.ms } : { outageMs: lost.ms }),
          transfer: control !== undefined,
        },
        lost.kind === 'stalled'
          ? "the caller's audio stopped: line lost"
          : 'the connection to LiveKit did not come back: line lost',
      );
      control
        ?.update({
          action: 'transfer',
          queue: call.useCase.defaultQueue,
          reason: 'line_lost',
          requestedAt: Date.now(),
          traceparent: call.traceparent,
        })
        .then(leave)
        .catch((err: unknown) => logger.error({ err }, 'transfer after the line was lost failed'));
    },
  });
}
