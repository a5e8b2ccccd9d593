// The phone network's side of a call, played the way Amazon Chime's Voice Connector plays it: a
// SIP user agent client over UDP that sends an INVITE straight to livekit-sip, starts RTP the
// moment the 200 OK arrives, and hears the agent's RTP directly. The lab's other caller
// (./sip-leg.ts) goes through a second livekit-sip call leg and two WebRTC hops, which adds
// 60 ms of mixer buffering before its first packet (livekit-sip marks an inbound call active only
// at the first RTP packet) and the WebRTC path back; this one measures what production measures.
//
// Hand-written on purpose: of the pure-Node SIP packages on npm, `sip` (0.0.x) has had no
// maintained release for years, `sip.js` and `jssip` speak SIP over WebSocket for browsers, and
// `drachtio-srf` needs its own SIP server process. A UAC that places one call, needs no digest
// auth and only G.711 is a few hundred lines of RFC 3261 / 3550 / 4566 and G.711, all exercised
// by tests, which is less than wrapping any of those. This phone composes the signalling
// (./sip-uac.ts over ./sip-transactions.ts) and the media (./rtp-stream.ts); the wire formats are
// ./sip-message.ts, ./rtp-sdp.ts and ./g711.ts.
//
// Scope: one call per instance, UDP only. Times are performance.now() milliseconds.
import { randomBytes } from 'node:crypto';
import { SILENCE_RMS } from '../../agent/audio.js';
import type { G711 } from './g711.js';
import { buildSdpOffer, parseSdpAnswer, type SdpAnswer } from '../../sip/ua/rtp-sdp.js';
import { RtpStream } from './rtp-stream.js';
import { withTimeout } from './sip-leg.js';
import { SipCallError, SipUac, type Ended } from '../../sip/ua/sip-uac.js';

export { SipCallError } from '../../sip/ua/sip-uac.js';
export type { HeardFrame } from './rtp-stream.js';

export interface RtpCallOptions {
  /** host:port of the SIP server (livekit-sip), e.g. the lab's `stack.sipAddress`. */
  sipAddress: string;
  /** The number dialled: Request-URI and To user (the use case's LiveKit number). */
  to: string;
  /** Caller ID: From user. */
  from: string;
  /** Extra headers of the INVITE (the SMA's X- SipHeaders). */
  headers?: Record<string, string>;
  /** Codecs offered, in order of preference (default PCMU, PCMA; the server picks). */
  codecs?: G711[];
  /** RMS from which a received frame counts as audio (default: the agent's speech onset). */
  audioThreshold?: number;
  /** Ringing this long without an answer cancels the call (default 30 s). */
  answerTimeoutMs?: number;
  /** Loopback by default: the local inbound trunk admits 127.0.0.1 only. */
  localAddress?: string;
}

const TELEPHONE_EVENT_PT = 101;

/** One call from the phone network's side: SIP over UDP to livekit-sip, G.711 RTP both ways. */
export class RtpPhone {
  private readonly sip: SipUac;
  private readonly rtp: RtpStream;
  private readonly local: string;

  private constructor(private readonly opts: RtpCallOptions) {
    this.local = opts.localAddress ?? '127.0.0.1';
    this.rtp = new RtpStream(opts.audioThreshold ?? SILENCE_RMS);
    this.sip = new SipUac(
      { ...opts, localAddress: this.local },
      {
        // Like a phone on the public network: audio flows from the moment the call is answered.
        answer: (sdp) => this.rtp.start(parseSdpAnswer(sdp)),
        ended: () => this.rtp.close(new SipCallError('the call ended before any audio')),
      },
    );
  }

  /** Binds its sockets and sends the INVITE; resolves once it is sent. */
  static async call(opts: RtpCallOptions): Promise<RtpPhone> {
    const phone = new RtpPhone(opts);
    try {
      const rtpPort = await phone.rtp.bind(phone.local, () => phone.sip.close('error'));
      const offer = buildSdpOffer({
        address: phone.local,
        port: rtpPort,
        sessionId: randomBytes(4).readUInt32BE(0) >>> 1,
        codecs: opts.codecs ?? ['PCMU', 'PCMA'],
        telephoneEvent: TELEPHONE_EVENT_PT,
      });
      await phone.sip.start(offer);
    } catch (e) {
      phone.sip.close('error');
      throw e;
    }
    return phone;
  }

  get invitedAt(): number {
    return this.sip.invitedAt;
  }
  /** 200 OK received. */
  get answeredAt(): number | undefined {
    return this.sip.answeredAt;
  }
  /** First received frame at or above the audio threshold. */
  get firstAudioAt(): number | undefined {
    return this.rtp.firstAudioAt;
  }
  get endedAt(): number | undefined {
    return this.sip.endedAt;
  }
  get endedBy(): Ended | undefined {
    return this.sip.endedBy;
  }
  /** Provisional and final statuses received for the INVITE, in order (retransmissions once). */
  get statuses(): readonly number[] {
    return this.sip.statuses;
  }
  /** The negotiated codec and the far end's RTP address, once answered. */
  get media(): SdpAnswer | undefined {
    return this.rtp.media;
  }
  /** Every RTP frame received: time, loudness, duration. */
  get heard() {
    return this.rtp.heard;
  }
  /** Receives each frame's audio (8 kHz PCM) as it arrives; undefined: none. */
  set onAudio(listener: ((pcm: Int16Array, at: number) => void) | undefined) {
    this.rtp.onAudio = listener;
  }
  /** Every frame of speech sent (`say`): time, loudness, duration. */
  get said() {
    return this.rtp.said;
  }

  /** Says mono PCM into the call in real time, in place of silence; resolves once it was sent. */
  say(samples: Int16Array, sampleRate: number): Promise<void> {
    if (this.sip.phase === 'ended') return Promise.resolve();
    return this.rtp.say(samples, sampleRate);
  }

  /** Presses keypad digits in the call (RFC 4733 telephone-events); resolves once they were sent. */
  sendDigits(digits: string): Promise<void> {
    if (this.sip.phase !== 'answered') return Promise.reject(new Error('the call is not answered'));
    return this.rtp.sendDigits(digits);
  }

  /** Ends the call from this side: CANCEL while ringing, BYE once answered; closes everything. */
  async hangUp(): Promise<void> {
    if (this.sip.phase === 'answered') this.rtp.stop();
    await this.sip.hangUp();
  }

  /** Resolves with the answer time; rejects when the call fails or after `timeoutMs`. */
  waitAnswered(timeoutMs = 10_000): Promise<number> {
    return withTimeout(this.sip.answered.promise, timeoutMs, 'the call was not answered');
  }

  waitFirstAudio(timeoutMs = 10_000): Promise<number> {
    return withTimeout(this.rtp.firstAudio.promise, timeoutMs, 'no audio reached the phone');
  }

  waitEnded(timeoutMs = 10_000): Promise<number> {
    return withTimeout(this.sip.ended.promise, timeoutMs, 'the call did not end');
  }

  /** Milliseconds of audio (not silence) received since `since` (performance.now()). */
  audibleMsSince(since: number): number {
    return this.rtp.audibleMsSince(since);
  }
}
