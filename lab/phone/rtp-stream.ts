// The lab phone's media (./rtp-phone.ts): G.711 RTP (RFC 3550) both ways on one UDP socket. Once
// started it sends a 20 ms frame every 20 ms, as a phone's clock does: queued speech (`say`), or
// silence; and it hears every frame the far end sends, in the negotiated codec. Times are
// performance.now() milliseconds.
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { pcmRms, resamplePcm } from '../../agent/audio.js';
import { deferred } from '../../sip/ua/deferred.js';
import { RTP_RATE, decodeG711, encodeG711 } from './g711.js';
import { DtmfQueue } from '../../sip/ua/rtp-dtmf.js';
import { buildRtpPacket, parseRtpPacket, type SdpAnswer } from '../../sip/ua/rtp-sdp.js';
import { bindUdp, closeUdp } from '../../sip/ua/udp.js';

// 20 ms packets of 8 kHz G.711.
export const FRAME_MS = 20;
export const FRAME_SAMPLES = (RTP_RATE * FRAME_MS) / 1000;
/** Frames late beyond which the sender skips ahead instead of catching up. */
const MAX_BURST = 5;

export interface HeardFrame {
  /** performance.now() at arrival. */
  at: number;
  rms: number;
  /** Duration of the packet's audio. */
  ms: number;
}

/** Speech waiting to be sent, at 8 kHz, taken one frame at a time. */
export class SpeechQueue {
  private readonly chunks: Int16Array[] = [];
  private offset = 0;
  private queued = 0;
  private sent = 0;
  private waiters: { until: number; resolve(): void }[] = [];

  /** Queues 8 kHz samples; resolves once the last of them has been taken. */
  push(pcm: Int16Array): Promise<void> {
    this.chunks.push(pcm);
    this.queued += pcm.length;
    const until = this.queued;
    return new Promise((resolve) => this.waiters.push({ until, resolve }));
  }

  /** The next frame of speech (the last one padded with silence), or undefined when none waits. */
  next(): Int16Array | undefined {
    if (this.chunks.length === 0) return undefined;
    const frame = new Int16Array(FRAME_SAMPLES);
    let filled = 0;
    while (filled < FRAME_SAMPLES && this.chunks.length > 0) {
      const head = this.chunks[0]!;
      const take = Math.min(FRAME_SAMPLES - filled, head.length - this.offset);
      frame.set(head.subarray(this.offset, this.offset + take), filled);
      filled += take;
      this.offset += take;
      if (this.offset >= head.length) {
        this.chunks.shift();
        this.offset = 0;
      }
    }
    this.sent += filled;
    this.release();
    return frame;
  }

  /** Settles the waiters whose speech has been taken, or every waiter. */
  release(all = false): void {
    const done = this.waiters.filter((w) => all || w.until <= this.sent);
    this.waiters = this.waiters.filter((w) => !done.includes(w));
    for (const w of done) w.resolve();
  }
}

export class RtpStream {
  /** Every frame received in the negotiated codec: time, loudness, duration. */
  readonly heard: HeardFrame[] = [];
  /** Every frame of speech sent (`say`), as it was sent: time, loudness, duration. */
  readonly said: HeardFrame[] = [];
  /** First received frame at or above the audio threshold. */
  firstAudioAt: number | undefined;
  readonly firstAudio = deferred<number>();
  /** The negotiated codec and the far end's RTP address, once started. */
  media: SdpAnswer | undefined;
  /** Each received frame's audio as it arrives (a call recording's listener), at 8 kHz. */
  onAudio: ((pcm: Int16Array, at: number) => void) | undefined;

  private readonly socket = createSocket('udp4');
  private readonly ssrc = randomBytes(4).readUInt32BE(0);
  private readonly speech = new SpeechQueue();
  private readonly dtmf = new DtmfQueue(FRAME_SAMPLES);
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    /** RMS from which a received frame counts as audio. */
    private readonly threshold: number,
  ) {}

  /** Binds to a free port on `address`; resolves with the port (the SDP offer's). */
  async bind(address: string, onError: () => void): Promise<number> {
    const port = await bindUdp(this.socket, address);
    this.socket.on('message', (buf) => this.onPacket(buf));
    this.socket.on('error', onError);
    return port;
  }

  /** Starts sending to the answer's address, in its codec, from now on. */
  start(media: SdpAnswer): void {
    this.media = media;
    const silence = encodeG711(new Int16Array(FRAME_SAMPLES), media.codec);
    const start = performance.now();
    const sequence0 = randomBytes(2).readUInt16BE(0);
    const timestamp0 = randomBytes(4).readUInt32BE(0);
    let slot = 0;
    let sent = 0;
    const tick = () => {
      const due = Math.floor((performance.now() - start) / FRAME_MS) + 1;
      // After a stall, skip ahead rather than burst: a phone's clock does not wait for us.
      if (due - slot > MAX_BURST) slot = due - 1;
      for (; slot < due; slot++) {
        const keys = media.telephoneEvent !== undefined ? this.dtmf.next(slot) : undefined;
        if (keys) {
          // A key is down: telephone-events in place of the audio (RFC 4733).
          for (const payload of keys.payloads) {
            const event = buildRtpPacket({
              payloadType: media.telephoneEvent!,
              marker: keys.marker,
              sequence: sequence0 + sent++,
              timestamp: timestamp0 + keys.startSlot * FRAME_SAMPLES,
              ssrc: this.ssrc,
              payload,
            });
            this.socket.send(event, media.port, media.address);
          }
          continue;
        }
        const pcm = this.speech.next();
        if (pcm) this.said.push({ at: performance.now(), rms: pcmRms(pcm), ms: FRAME_MS });
        const packet = buildRtpPacket({
          payloadType: media.payloadType,
          // The marker opens the talkspurt (RFC 3551 §4.1): the first packet of the call.
          marker: sent === 0,
          sequence: sequence0 + sent++,
          timestamp: timestamp0 + slot * FRAME_SAMPLES,
          ssrc: this.ssrc,
          payload: pcm ? encodeG711(pcm, media.codec) : silence,
        });
        this.socket.send(packet, media.port, media.address);
      }
      this.timer = setTimeout(tick, Math.max(0, start + slot * FRAME_MS - performance.now()));
    };
    tick();
  }

  /** Says mono PCM in place of silence, in real time; resolves once it was sent. */
  say(samples: Int16Array, sampleRate: number): Promise<void> {
    if (this.stopped || samples.length === 0) return Promise.resolve();
    return this.speech.push(resamplePcm(samples, sampleRate, RTP_RATE));
  }

  /**
   * Presses keypad digits (0-9, *, #, A-D) as RFC 4733 telephone-events; resolves once the last
   * was sent. Rejects when the far end's answer offered no telephone-event format.
   */
  sendDigits(digits: string): Promise<void> {
    if (this.media?.telephoneEvent === undefined) {
      return Promise.reject(new Error('the far end takes no telephone-events'));
    }
    return this.dtmf.push(digits);
  }

  /** Stops sending (the call is ending); what is said from now on resolves at once. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Terminal: stops sending, closes the socket, settles every waiter (`why` for first audio). */
  close(why: Error): void {
    this.stop();
    this.speech.release(true);
    this.firstAudio.reject(why);
    closeUdp(this.socket);
  }

  /** Milliseconds of audio (not silence) received since `since` (performance.now()). */
  audibleMsSince(since: number): number {
    let ms = 0;
    for (const h of this.heard) if (h.at >= since && h.rms >= this.threshold) ms += h.ms;
    return ms;
  }

  private onPacket(buf: Buffer): void {
    const at = performance.now();
    const media = this.media;
    const packet = parseRtpPacket(buf);
    // Before the answer there is no codec yet; DTMF and comfort noise are not audio here.
    if (!media || !packet || packet.payloadType !== media.payloadType) return;
    const pcm = decodeG711(packet.payload, media.codec);
    const rms = pcmRms(pcm);
    this.heard.push({ at, rms, ms: (pcm.length * 1000) / RTP_RATE });
    this.onAudio?.(pcm, at);
    if (rms >= this.threshold && this.firstAudioAt === undefined) {
      this.firstAudioAt = at;
      this.firstAudio.resolve(at);
    }
  }
}
