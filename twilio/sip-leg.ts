// A Twilio caller in LiveKit (docs/twilio.md): the gateway places the call into livekit-sip as a
// SIP INVITE over UDP, as Chime's Voice Connector places an SMA call, with the call's context in
// X- headers (contracts/twilio-call.ts) that the Twilio inbound trunk maps to the participant's
// attributes; the dispatch rule makes the room and dispatches the agent. Media is G.711 µ-law RTP
// both ways, which is what Twilio's Media Streams carry: a `media` payload is an RTP payload as it
// is, and an RTP payload from livekit-sip is a `media` payload, with no transcoding.
//
// - livekit-sip answers once the agent has subscribed to the caller (the caller hears ringing
//   until then), and marks the call active at the first RTP packet it receives (or a second after
//   its answer): the gateway sends none before the stream's first `media`, so the agent greets
//   when Twilio is ready to play it. The agent's audio arriving before the stream takes the leg is
//   held (up to HOLD_MS) and played from the stream's start.
// - a keypad digit is an RFC 4733 telephone-event in place of the next frames (sip/ua/rtp-dtmf.ts),
//   which livekit-sip publishes as SIP DTMF, as for any SIP caller.
// - the agent cutting its reply reaches the gateway as the telephone-event CLEAR_DTMF, which is
//   the stream's `clear` and is never played.
// - `close()` is a BYE (a CANCEL while it rings); livekit-sip's BYE (the room deleted: the agent's
//   job died, or the call guard ended it) is the leg lost.
// - the call's RTP socket is connected to livekit-sip's media once it answers: the kernel then
//   takes packets from that address and port only, and each send skips the per-packet address
//   handling. The address is livekit-sip's signalling host (the one the INVITE went to), the port
//   its answer's: livekit-sip's media is on its signalling address, and with `use_external_ip` (the
//   production configuration, for Chime) its SDP names the node's public address, which a gateway
//   in the cluster's network neither sends to nor receives from. livekit-sip's RTP is symmetric
//   (it sends from the port it answered with).
import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo } from 'node:dgram';
import type { Logger } from 'pino';
import { CLEAR_DTMF, twilioCallHeaders } from '../contracts/twilio-call.js';
import type { UseCase } from '../contracts/use-cases.js';
import { DtmfQueue, parseTelephoneEvent } from '../sip/ua/rtp-dtmf.js';
import {
  buildRtpPacket,
  buildSdpOffer,
  parseRtpPacket,
  parseSdpAnswer,
  type SdpAnswer,
} from '../sip/ua/rtp-sdp.js';
import { SipUac, type Ended } from '../sip/ua/sip-uac.js';
import { bindUdp, closeUdp } from '../sip/ua/udp.js';
import type { CallerLeg, LegEvents } from './stream-session.js';

/** Where the gateway's SIP calls go and come from (TWILIO_SIP_ADDRESS, TWILIO_SIP_LOCAL_ADDRESS). */
export interface SipAccess {
  /** host:port of livekit-sip. */
  sipAddress: string;
  /** The gateway's IPv4 address livekit-sip sees and sends RTP to (the trunk allows only it). */
  localAddress: string;
}

/** What the caller's participant carries: the webhook's call, or the stream's `start`. */
export interface LegCall {
  callSid: string;
  accountSid: string;
  callToken: string;
  useCase?: string;
  traceparent?: string;
  /** The number the INVITE calls: one of the Twilio trunk's numbers. */
  trunkNumber: string;
}

/**
 * The number the INVITE calls: the number Twilio called when it is one of the use case's (the
 * Twilio trunk holds every use case's `dialedNumbers`), else the use case's first.
 */
export function trunkNumberFor(useCase: UseCase, dialed: string | undefined): string {
  return dialed && useCase.dialedNumbers.includes(dialed) ? dialed : useCase.dialedNumbers[0]!;
}

const TELEPHONE_EVENT_PT = 101;
/** 20 ms of 8 kHz µ-law. */
const FRAME_SAMPLES = 160;
/** The agent's audio held until the stream takes the leg; older frames are dropped. */
export const HOLD_MS = 10_000;
/** The caller ID of the INVITE: never the caller's number (the trunk hides it anyway). */
const FROM_USER = 'twilio';
/** At most one log line per this long of the RTP socket's errors (a gone livekit-sip gives 50/s). */
const RTP_ERROR_LOG_MS = 5000;

/**
 * Places the call (the INVITE is sent when this resolves). With `waitForAgentMs`, also waits up
 * to that long for livekit-sip's answer, which comes once the agent is in the room.
 */
export async function placeSipCall(
  sip: SipAccess,
  call: LegCall,
  logger: Logger,
  waitForAgentMs = 0,
): Promise<SipLeg> {
  const leg = new SipLeg(sip, call, logger);
  await leg.start();
  if (waitForAgentMs > 0) await leg.waitAnswered(waitForAgentMs);
  return leg;
}

export class SipLeg implements CallerLeg {
  private readonly socket = createSocket('udp4');
  private readonly uac: SipUac;
  private readonly ssrc = randomBytes(4).readUInt32BE(0);
  private readonly dtmf = new DtmfQueue(FRAME_SAMPLES);
  private sequence = randomBytes(2).readUInt16BE(0);
  private timestamp = randomBytes(4).readUInt32BE(0);
  private slot = 0;
  private media: SdpAnswer | undefined;
  /** Where livekit-sip's RTP is, from its answer; the socket is connected to it. */
  private peer: { address: string; port: number } | undefined;
  private connected = false;
  /** RTP packets dropped for coming from elsewhere than `peer` (or before the answer). */
  strayPackets = 0;
  private events: LegEvents | undefined;
  private held: Uint8Array[] = [];
  private lastEventTimestamp: number | undefined;
  private closed = false;
  private lostReason: string | undefined;
  /** The INVITE's Call-ID: what livekit-sip logs and sets as `sip.callIDFull`. */
  readonly sipCallId: string;

  constructor(
    private readonly sip: SipAccess,
    call: LegCall,
    private readonly log: Logger,
  ) {
    this.uac = new SipUac(
      {
        sipAddress: sip.sipAddress,
        to: call.trunkNumber,
        from: FROM_USER,
        headers: twilioCallHeaders(call),
        localAddress: sip.localAddress,
        answerTimeoutMs: 30_000,
      },
      {
        answer: (sdp) => {
          const media = parseSdpAnswer(sdp);
          if (media.codec !== 'PCMU') throw new Error(`livekit-sip chose ${media.codec}`);
          this.media = media;
          this.connectMedia(media);
        },
        ended: (by) => this.ended(by),
      },
    );
    this.sipCallId = this.uac.callId;
  }

  /** Binds the RTP socket and sends the INVITE. */
  async start(): Promise<void> {
    try {
      const port = await bindUdp(this.socket, this.sip.localAddress);
      this.socket.on('message', (buf, rinfo) => this.onPacket(buf, rinfo));
      // A connected socket reports every packet the far end refuses (ICMP port unreachable, 50 a
      // second while livekit-sip is down): the first is logged, then at most one a RTP_ERROR_LOG_MS
      // with how many came since.
      let lastLogged = -Infinity;
      let unlogged = 0;
      this.socket.on('error', (err) => {
        const now = performance.now();
        if (now - lastLogged < RTP_ERROR_LOG_MS) {
          unlogged++;
          return;
        }
        this.log.warn({ err: err.message, since: unlogged }, 'rtp socket error');
        lastLogged = now;
        unlogged = 0;
      });
      const offer = buildSdpOffer({
        address: this.sip.localAddress,
        port,
        sessionId: randomBytes(4).readUInt32BE(0) >>> 1,
        codecs: ['PCMU'],
        telephoneEvent: TELEPHONE_EVENT_PT,
      });
      await this.uac.start(offer);
    } catch (err) {
      this.uac.close('error');
      closeUdp(this.socket);
      throw err;
    }
  }

  /** Resolves at livekit-sip's answer, or after `ms`; rejects when the call failed. */
  async waitAnswered(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.uac.answered.promise,
      new Promise<void>((r) => (timer = setTimeout(r, ms))),
    ]).finally(() => clearTimeout(timer));
  }

  /** Whether the leg is still usable (not closed, the call not ended). */
  get usable(): boolean {
    return !this.closed && this.lostReason === undefined;
  }

  /** The stream's session takes the leg: the agent's audio held so far goes to it. */
  attach(events: LegEvents): void {
    this.events = events;
    for (const mulaw of this.held) events.agentAudio(mulaw);
    this.held = [];
    if (this.lostReason) events.lost(this.lostReason);
  }

  /** A frame of the caller's µ-law, sent as it came (before the answer there is nowhere to send). */
  hear(mulaw: Uint8Array): void {
    const media = this.media;
    if (this.closed || !media) return;
    const slot = this.slot++;
    const keys = media.telephoneEvent !== undefined ? this.dtmf.next(slot) : undefined;
    if (keys) {
      // A key is down: telephone-events in place of the audio (RFC 4733).
      const timestamp = this.timestamp + (keys.startSlot - slot) * FRAME_SAMPLES;
      for (const payload of keys.payloads) {
        this.send(media.telephoneEvent!, keys.marker, timestamp, payload);
      }
    } else {
      // The marker opens the talkspurt (RFC 3551 §4.1): the first packet of the call.
      this.send(media.payloadType, slot === 0, this.timestamp, mulaw);
    }
    this.timestamp = (this.timestamp + mulaw.length) >>> 0;
  }

  digit(digit: string): void {
    if (this.closed) return;
    this.dtmf.push(digit).catch((err: unknown) => {
      this.log.warn({ err: (err as Error).message }, 'digit not sent');
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.uac.hangUp().catch(() => {});
    closeUdp(this.socket);
  }

  private send(payloadType: number, marker: boolean, timestamp: number, payload: Uint8Array) {
    const packet = buildRtpPacket({
      payloadType,
      marker,
      timestamp,
      sequence: this.sequence++,
      ssrc: this.ssrc,
      payload,
    });
    if (this.connected) return this.socket.send(packet);
    const peer = this.peer!;
    this.socket.send(packet, peer.port, peer.address);
  }

  /** Connects the RTP socket to livekit-sip's media (see the top of the file). */
  private connectMedia(media: SdpAnswer): void {
    const peer = { address: this.uac.serverAddress, port: media.port };
    this.peer = peer;
    if (media.address !== peer.address) {
      this.log.debug(
        { sdpAddress: media.address, rtpAddress: peer.address },
        "livekit-sip's RTP taken from its signalling address, not its SDP's",
      );
    }
    this.socket.connect(peer.port, peer.address, () => {
      this.connected = true;
    });
  }

  private onPacket(buf: Buffer, rinfo: RemoteInfo): void {
    if (this.closed) return;
    const media = this.media;
    const peer = this.peer;
    // The kernel filters once the socket is connected; this covers the moments before.
    if (!media || !peer || rinfo.port !== peer.port || rinfo.address !== peer.address) {
      if (this.strayPackets++ === 0) {
        this.log.warn(
          { source: `${rinfo.address}:${rinfo.port}`, answered: media !== undefined },
          "RTP dropped: not from livekit-sip's answered address",
        );
      }
      return;
    }
    const packet = parseRtpPacket(buf);
    if (!packet) return;
    if (packet.payloadType === media.payloadType) return this.agentAudio(packet.payload);
    if (packet.payloadType !== media.telephoneEvent) return;
    // Every packet of one event has the event's timestamp (RFC 4733 §2.5.1.2): act on its first.
    if (packet.timestamp === this.lastEventTimestamp) return;
    const ev = parseTelephoneEvent(packet.payload);
    if (ev?.event !== CLEAR_DTMF.event) return;
    this.lastEventTimestamp = packet.timestamp;
    this.events?.clear();
  }

  private agentAudio(payload: Uint8Array): void {
    if (this.events) return this.events.agentAudio(payload);
    this.held.push(payload);
    const keep = HOLD_MS / 20;
    if (this.held.length > keep) this.held.splice(0, this.held.length - keep);
  }

  private ended(by: Ended): void {
    closeUdp(this.socket);
    if (this.strayPackets > 1) {
      this.log.warn({ strayPackets: this.strayPackets }, 'RTP packets dropped in the call');
    }
    if (this.closed || by === 'local') return;
    this.lostReason = `sip_${by}`;
    this.events?.lost(this.lostReason);
  }
}
