// The phone network's side of a SIP call in the lab: a call placed through a LiveKit outbound
// trunk (to the local livekit-sip, so it arrives as an inbound call exactly as Chime's Voice
// Connector would deliver it), and an "ear" in the calling room that hears what comes back and
// times it. Used by the lab's Chime stand-in for CallAndBridge to the AI leg, by the tests that
// check the SIP path, and by the SIP benchmark.
//
// Times are taken at the calling side: `invitedAt` when the call is placed, `answeredAt` when the
// SIP participant on the calling side turns `sip.callStatus=active` (the 200 OK), `firstAudioAt`
// when the first frame louder than silence arrives at the ear.
import { randomUUID } from 'node:crypto';
import {
  AudioFrame,
  AudioSource,
  AudioStream,
  LocalAudioTrack,
  type RemoteTrack,
  Room,
  RoomEvent,
  TrackKind,
  TrackPublishOptions,
  TrackSource,
} from '@livekit/rtc-node';
import { AccessToken, RoomServiceClient, SipClient } from 'livekit-server-sdk';
import { SILENCE_RMS, frameRms, resamplePcm } from '../../agent/audio.js';

export interface LiveKitAccess {
  /** ws:// URL */
  url: string;
  apiKey: string;
  apiSecret: string;
}

export interface DialOptions {
  outboundTrunkId: string;
  /** The number dialled (To user): the use case's LiveKit number. */
  to: string;
  /** Caller ID (From user). */
  from: string;
  /** X- headers for the INVITE (the SMA's SipHeaders). */
  headers?: Record<string, string>;
  /** The calling side's room (default: a fresh `pstn-<uuid>`). */
  roomName?: string;
  /** Sample rate the ear listens at (default 16 kHz). */
  sampleRate?: number;
  /**
   * The ear's frame length (default 10 ms). Longer frames cost the calling process less (the lab
   * runs many ears in one process) at the price of timing first audio to the frame.
   */
  frameMs?: number;
  /** RMS from which a frame counts as audio, not silence (default: the agent's speech onset). */
  audioThreshold?: number;
  /** How long the call may ring before it is given up (default 30 s). */
  ringingTimeoutS?: number;
}

export interface HeardFrame {
  at: number;
  rms: number;
  /** The frame's length. */
  ms: number;
  /** Who it came from: the SIP leg, or another participant of the calling room. */
  from: string;
}

export const SIP_IDENTITY = 'sip-leg';
/** The caller's voice goes into the room at 16 kHz; livekit-sip narrows it to the call's codec. */
const VOICE_RATE = 16000;
const EAR_IDENTITY = 'ear';

export const httpUrl = (url: string) => url.replace(/^ws/, 'http');

/** One SIP call from the phone network's side, with an ear on it. */
export class SipLeg {
  readonly roomName: string;
  invitedAt = 0;
  answeredAt: number | undefined;
  firstAudioAt: number | undefined;
  endedAt: number | undefined;
  /** Every frame the ear heard: time and loudness. */
  readonly heard: HeardFrame[] = [];
  /** The calling side's SIP participant's attributes, as last seen. */
  attributes: Record<string, string> = {};
  private readonly room = new Room();
  private readonly answered: Promise<number>;
  private readonly ended: Promise<number>;
  private resolveAnswered!: (t: number) => void;
  private resolveEnded!: (t: number) => void;
  private readonly firstAudio: Promise<number>;
  private resolveFirstAudio!: (t: number) => void;
  /** RMS from which a frame counts as audio. */
  readonly threshold: number;
  private source: AudioSource | undefined;
  private readonly sampleRate: number;

  private constructor(
    private readonly lk: LiveKitAccess,
    private readonly opts: DialOptions,
  ) {
    this.roomName = opts.roomName ?? `pstn-${randomUUID()}`;
    this.threshold = opts.audioThreshold ?? SILENCE_RMS;
    this.sampleRate = opts.sampleRate ?? 16000;
    this.answered = new Promise((r) => (this.resolveAnswered = r));
    this.ended = new Promise((r) => (this.resolveEnded = r));
    this.firstAudio = new Promise((r) => (this.resolveFirstAudio = r));
  }

  /** Joins the calling room with an ear, then places the call. Resolves once the INVITE is sent. */
  static async dial(lk: LiveKitAccess, opts: DialOptions): Promise<SipLeg> {
    const leg = new SipLeg(lk, opts);
    await leg.start();
    return leg;
  }

  private async start(): Promise<void> {
    const token = new AccessToken(this.lk.apiKey, this.lk.apiSecret, { identity: EAR_IDENTITY });
    token.addGrant({ roomJoin: true, room: this.roomName, canPublish: true, canSubscribe: true });
    this.room.on(RoomEvent.ParticipantAttributesChanged, (_changed, p) => {
      if (p.identity !== SIP_IDENTITY) return;
      this.attributes = { ...p.attributes };
      this.onStatus(p.attributes['sip.callStatus']);
    });
    this.room.on(RoomEvent.ParticipantConnected, (p) => {
      if (p.identity === SIP_IDENTITY) {
        this.attributes = { ...p.attributes };
        this.onStatus(p.attributes['sip.callStatus']);
      }
    });
    this.room.on(RoomEvent.ParticipantDisconnected, (p) => {
      if (p.identity === SIP_IDENTITY) this.markEnded();
    });
    this.room.on(RoomEvent.TrackSubscribed, (track, _pub, p) => {
      if (track.kind === TrackKind.KIND_AUDIO) void this.listen(track, p.identity);
    });
    await this.room.connect(this.lk.url, await token.toJwt(), {
      autoSubscribe: true,
      dynacast: false,
    });
    await this.publishVoice();
    const sip = new SipClient(httpUrl(this.lk.url), this.lk.apiKey, this.lk.apiSecret);
    this.invitedAt = performance.now();
    // Not waitUntilAnswered: the answer is timed from the SIP participant's own status change.
    await sip.createSipParticipant(this.opts.outboundTrunkId, this.opts.to, this.roomName, {
      participantIdentity: SIP_IDENTITY,
      fromNumber: this.opts.from,
      headers: this.opts.headers ?? {},
      ringingTimeout: this.opts.ringingTimeoutS ?? 30,
    });
  }

  private onStatus(status: string | undefined): void {
    if (status === 'active' && this.answeredAt === undefined) {
      this.answeredAt = performance.now();
      this.resolveAnswered(this.answeredAt);
    }
    if (status === 'hangup') this.markEnded();
  }

  private markEnded(): void {
    if (this.endedAt !== undefined) return;
    this.endedAt = performance.now();
    this.resolveEnded(this.endedAt);
  }

  private async listen(track: RemoteTrack, from: string): Promise<void> {
    const stream = new AudioStream(track, {
      sampleRate: this.sampleRate,
      numChannels: 1,
      frameSizeMs: this.opts.frameMs ?? 10,
    });
    for await (const frame of stream) {
      const at = performance.now();
      const level = frameRms(frame);
      const ms = (frame.samplesPerChannel / frame.sampleRate) * 1000;
      this.heard.push({ at, rms: level, ms, from });
      if (from !== SIP_IDENTITY) continue;
      if (level >= this.threshold && this.firstAudioAt === undefined) {
        this.firstAudioAt = at;
        this.resolveFirstAudio(at);
      }
    }
  }

  /** Resolves with the answer time; rejects after `timeoutMs`. */
  waitAnswered(timeoutMs = 10_000): Promise<number> {
    return withTimeout(this.answered, timeoutMs, 'the call was not answered');
  }

  waitFirstAudio(timeoutMs = 10_000): Promise<number> {
    return withTimeout(this.firstAudio, timeoutMs, 'no audio reached the calling side');
  }

  waitEnded(timeoutMs = 10_000): Promise<number> {
    return withTimeout(this.ended, timeoutMs, 'the call did not end');
  }

  /** Milliseconds of audio (not silence) heard since `since` (performance.now()), from anyone or `from`. */
  audibleMsSince(since: number, from?: string): number {
    let ms = 0;
    for (const h of this.heard) {
      if (h.at >= since && h.rms >= this.threshold && (from === undefined || h.from === from))
        ms += h.ms;
    }
    return ms;
  }

  /** The calling room's LiveKit access and name, for others who join the caller (a person). */
  get access(): LiveKitAccess {
    return this.lk;
  }

  /** Ends the SIP call only (BYE to the far end); the caller stays in the room. */
  async dropSipCall(): Promise<void> {
    const rooms = new RoomServiceClient(httpUrl(this.lk.url), this.lk.apiKey, this.lk.apiSecret);
    await rooms.removeParticipant(this.roomName, SIP_IDENTITY).catch(() => {});
    this.markEnded();
  }

  /** The caller's voice track, published before dialling so the line is ready when answered. */
  private async publishVoice(): Promise<void> {
    this.source = new AudioSource(VOICE_RATE, 1, 100);
    const track = LocalAudioTrack.createAudioTrack('caller', this.source);
    const opts = new TrackPublishOptions();
    opts.source = TrackSource.SOURCE_MICROPHONE;
    await this.room.localParticipant?.publishTrack(track, opts);
  }

  /** Says PCM (mono, at `sampleRate`) into the call, in real time; resolves when it was sent. */
  async say(samples: Int16Array, sampleRate: number): Promise<void> {
    const source = this.source;
    if (!source) throw new Error('the caller has no voice track');
    const pcm = sampleRate === VOICE_RATE ? samples : resamplePcm(samples, sampleRate, VOICE_RATE);
    const n = VOICE_RATE / 50;
    for (let i = 0; i < pcm.length; i += n) {
      const chunk = new Int16Array(n);
      chunk.set(pcm.subarray(i, i + n));
      await source.captureFrame(new AudioFrame(chunk, VOICE_RATE, 1, n));
    }
    await source.waitForPlayout();
  }

  /** Hangs up (removes the SIP participant: livekit-sip sends BYE) and leaves the room. */
  async hangUp(): Promise<void> {
    const rooms = new RoomServiceClient(httpUrl(this.lk.url), this.lk.apiKey, this.lk.apiSecret);
    await rooms.deleteRoom(this.roomName).catch(() => {});
    this.markEnded();
    await this.source?.close().catch(() => {});
    await this.room.disconnect().catch(() => {});
  }
}

/** `p`, or a rejection naming `what` once `ms` have passed. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
