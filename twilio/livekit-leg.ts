// A Twilio caller in LiveKit (docs/twilio.md): the call room is created and the agent dispatched
// into it by name, as the SIP dispatch rule does for SMA calls; the gateway joins as a SIP
// participant (a token of kind `sip`, as livekit-sip's) carrying the call's context as attributes
// (use case, trace context, the webhook's call token, the provider `twilio`), publishes the
// caller's audio and plays the agent's back to the stream.
import { randomBytes } from 'node:crypto';
import {
  AudioFrame,
  AudioSource,
  AudioStream,
  LocalAudioTrack,
  ParticipantKind,
  Room,
  RoomEvent,
  TrackKind,
  TrackPublishOptions,
  TrackSource,
  type RemoteParticipant,
  type RemoteTrack,
} from '@livekit/rtc-node';
import { AccessToken, AgentDispatchClient, RoomServiceClient } from 'livekit-server-sdk';
import { CallAttribute } from '../contracts/headers.js';
import {
  CALL_PROVIDER,
  GATEWAY_TOPIC,
  CLEAR_MESSAGE,
  TwilioAttribute,
} from '../contracts/twilio-call.js';
import { FRAME_MS, STREAM_RATE } from './media-streams.js';
import type { CallerLeg, LegEvents } from './stream-session.js';

export interface LiveKitAccess {
  url: string;
  apiKey: string;
  apiSecret: string;
  agentName: string;
}

/** DTMF event codes (RFC 4733) of the keypad's digits, as livekit-sip publishes them. */
const DTMF_CODES: Record<string, number> = {
  '*': 10,
  '#': 11,
  A: 12,
  B: 13,
  C: 14,
  D: 15,
};

export const dtmfCode = (digit: string): number => DTMF_CODES[digit] ?? Number(digit);

/** `call_<dialed number>_<random>`, as the dispatch rule names SMA calls' rooms (never the caller). */
export function callRoomName(dialed: string | undefined): string {
  const number = dialed && /^\+\d{2,15}$/.test(dialed) ? dialed : 'twilio';
  return `call_${number}_${randomBytes(6).toString('base64url')}`;
}

/** What the caller's participant carries: the webhook's call, or the stream's `start`. */
export interface LegCall {
  callSid: string;
  accountSid: string;
  callToken: string;
  useCase?: string;
  traceparent?: string;
  dialed?: string;
}

/** livekit-sip's own attribute: `ringing` until the call is answered, then `active`. */
const CALL_STATUS = 'sip.callStatus';

/**
 * The caller in the call's room, as livekit-sip brings a SIP caller in: the room created and the
 * agent dispatched into it by name (as the dispatch rule does), the caller's participant joined
 * while the call rings (`sip.callStatus` = `ringing`), its track published. With
 * `waitForAgentMs`, it waits for the agent to subscribe to that track: as livekit-sip answers
 * only then, the caller hears ringing rather than silence meanwhile, and the agent's session is
 * up when the call is answered (`answer()`).
 */
export async function joinCallRoom(
  lk: LiveKitAccess,
  call: LegCall,
  waitForAgentMs = 0,
): Promise<LiveKitLeg> {
  const http = lk.url.replace(/^ws/, 'http');
  const rooms = new RoomServiceClient(http, lk.apiKey, lk.apiSecret);
  const roomName = callRoomName(call.dialed);
  // A room nobody joins closes after a minute; once the caller has left, at once.
  await rooms.createRoom({ name: roomName, emptyTimeout: 60, departureTimeout: 1 });
  const dispatch = new AgentDispatchClient(http, lk.apiKey, lk.apiSecret).createDispatch(
    roomName,
    lk.agentName,
    { metadata: JSON.stringify({ source: 'twilio' }) },
  );
  const attributes: Record<string, string> = {
    [TwilioAttribute.provider]: CALL_PROVIDER.twilio,
    [TwilioAttribute.callSid]: call.callSid,
    [TwilioAttribute.accountSid]: call.accountSid,
    [CallAttribute.callToken]: call.callToken,
    [CALL_STATUS]: waitForAgentMs > 0 ? 'ringing' : 'active',
  };
  if (call.useCase) attributes[CallAttribute.useCase] = call.useCase;
  if (call.traceparent) attributes[CallAttribute.traceparent] = call.traceparent;
  if (call.dialed) attributes['sip.trunkPhoneNumber'] = call.dialed;
  const at = new AccessToken(lk.apiKey, lk.apiSecret, {
    identity: `twilio_${call.callSid}`,
    name: 'caller',
    ttl: 4 * 3600,
    attributes,
  });
  at.kind = 'sip';
  at.addGrant({
    roomJoin: true,
    room: roomName,
    canPublish: true,
    canSubscribe: true,
    canPublishData: true,
    canUpdateOwnMetadata: true,
  });
  const room = new Room();
  const leg = new LiveKitLeg(room, rooms, roomName);
  try {
    await Promise.all([
      room.connect(lk.url, await at.toJwt(), { autoSubscribe: true, dynacast: false }),
      dispatch,
    ]);
    await leg.publish(waitForAgentMs);
  } catch (err) {
    await leg.close();
    throw err;
  }
  return leg;
}

export class LiveKitLeg implements CallerLeg {
  private readonly source = new AudioSource(STREAM_RATE, 1, 200);
  private capture: Promise<void> = Promise.resolve();
  private closed = false;
  private lostReason: string | undefined;
  private stream: AudioStream | undefined;
  /** The stream's session, once it has taken the leg; before that, the agent's audio is dropped. */
  private events: LegEvents | undefined;
  /** While the leg waits for the agent: told when the agent's voice is subscribed. */
  private onAgentVoice: (() => void) | undefined;

  constructor(
    private readonly lkRoom: Room,
    private readonly rooms: RoomServiceClient,
    readonly room: string,
  ) {
    lkRoom.on(RoomEvent.TrackSubscribed, (track, _pub, p) => this.subscribed(track, p));
    lkRoom.on(RoomEvent.DataReceived, (payload, p, _kind, topic) => {
      if (topic !== GATEWAY_TOPIC || p?.kind !== ParticipantKind.AGENT) return;
      if (new TextDecoder().decode(payload) === CLEAR_MESSAGE) this.events?.clear();
    });
    lkRoom.on(RoomEvent.Disconnected, () => {
      if (this.closed) return;
      this.lostReason = 'room_disconnected';
      this.events?.lost(this.lostReason);
    });
  }

  /** Whether the leg is still usable (not closed, its room not gone). */
  get usable(): boolean {
    return !this.closed && this.lostReason === undefined;
  }

  /** The stream's session takes the leg. */
  attach(events: LegEvents): void {
    this.events = events;
    if (this.lostReason) events.lost(this.lostReason);
  }

  /** The call is answered: the agent greets the caller (`sip.callStatus` = `active`). */
  async answer(): Promise<void> {
    await this.lkRoom.localParticipant?.setAttributes({ [CALL_STATUS]: 'active' });
  }

  /**
   * Publishes the caller's track; waits up to `waitForAgentMs` for the agent to be ready: to have
   * subscribed to the caller and published its own voice, which it does once its session is up.
   */
  async publish(waitForAgentMs = 0): Promise<void> {
    const track = LocalAudioTrack.createAudioTrack('caller', this.source);
    const opts = new TrackPublishOptions();
    opts.source = TrackSource.SOURCE_MICROPHONE;
    let heard = false;
    let voiced = false;
    let ready!: () => void;
    const agentReady = new Promise<void>((r) => (ready = r));
    const timer = setTimeout(ready, waitForAgentMs);
    const onHeard = () => {
      heard = true;
      if (voiced) ready();
    };
    this.onAgentVoice = () => {
      voiced = true;
      if (heard) ready();
    };
    this.lkRoom.on(RoomEvent.LocalTrackSubscribed, onHeard);
    await this.lkRoom.localParticipant?.publishTrack(track, opts);
    if (waitForAgentMs > 0) await agentReady;
    clearTimeout(timer);
    this.lkRoom.off(RoomEvent.LocalTrackSubscribed, onHeard);
    this.onAgentVoice = undefined;
  }

  private subscribed(track: RemoteTrack, p: RemoteParticipant): void {
    if (track.kind !== TrackKind.KIND_AUDIO || p.kind !== ParticipantKind.AGENT) return;
    this.onAgentVoice?.();
    void this.stream?.cancel().catch(() => {});
    const stream = new AudioStream(track, {
      sampleRate: STREAM_RATE,
      numChannels: 1,
      frameSizeMs: FRAME_MS,
    });
    this.stream = stream;
    void (async () => {
      try {
        for await (const frame of stream) {
          if (this.closed) break;
          this.events?.agentAudio(frame.data);
        }
      } catch {
        // the track or the room went away: the room's own events say what that means
      }
    })();
  }

  hear(pcm: Int16Array): void {
    if (this.closed) return;
    const frame = new AudioFrame(pcm, STREAM_RATE, 1, pcm.length);
    this.capture = this.capture.then(() => this.source.captureFrame(frame)).catch(() => {});
  }

  digit(digit: string): void {
    if (this.closed) return;
    void this.lkRoom.localParticipant?.publishDtmf(dtmfCode(digit), digit).catch(() => {});
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Deleting the room ends the agent's job at once, as livekit-sip's BYE does for SMA calls.
    await this.rooms.deleteRoom(this.room).catch(() => {});
    await this.stream?.cancel().catch(() => {});
    await this.source.close().catch(() => {});
    await this.lkRoom.disconnect().catch(() => {});
  }
}
