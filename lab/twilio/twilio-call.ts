// One phone call as Twilio carries it to callbridge, in the lab (docs/twilio.md): the stand-in
// (./twilio-stand-in.ts) POSTs the signed voice webhook, follows the TwiML it gets back, and for
// <Connect><Stream> opens the signed WebSocket to the gateway, sends `connected` and `start` with
// the stream's parameters, then the caller's voice as base64 µ-law in 20 ms `media` messages at
// real time (silence between lines, as Twilio streams without pause). What the gateway sends back
// is played to the caller's ear as Twilio plays it: in order, at real time, after what is already
// buffered; a `mark` is echoed once everything before it has played; `clear` drops what has not
// played yet and echoes the pending marks. A REST update (a transfer's <Dial>, or completing the
// call) ends the stream with `stop`; the Connect stand-in's person answers the <Dial>.
//
// It has the shape of the lab's Chime call and line (the call side and the ear), so the scripted
// caller runs its scenarios through it unchanged.
import { randomBytes } from 'node:crypto';
import { pcmRms, resamplePcm, SILENCE_RMS } from '../../agent/audio.js';
import { decodeG711, encodeG711, RTP_RATE } from '../../agent/g711.js';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import WebSocket from 'ws';
import {
  CONNECT_GREETING,
  renderPhoneLine,
  type EarFrame,
  type Voice,
} from '../chime/voice-connector-media.js';

const FRAME_MS = 20;
const FRAME_SAMPLES = (RTP_RATE * FRAME_MS) / 1000;
const SILENT_MULAW = Buffer.alloc(FRAME_SAMPLES, 0xff);
const PERSON_VOICE = 'slt';
const CHIME_VOICE = 'awb';

export interface TwilioAccount {
  accountSid: string;
  authToken: string;
}

export interface TwilioCallOptions {
  account: TwilioAccount;
  /** The gateway's webhook URL as the account's number has it (TWILIO_PUBLIC_URL/twilio/voice). */
  voiceUrl: string;
  caller: string;
  dialed: string;
  /** Does the queue's number answer a <Dial>? */
  queueAnswers?: (number: string) => boolean;
  queueRingMs?: number;
}

/** What happened on the call, for the timeline: webhook, stream messages, REST updates. */
export interface TwilioStep {
  at: number;
  text: string;
}

export const randomSid = (prefix: string) => prefix + randomBytes(16).toString('hex');

export class SimulatedTwilioCall {
  readonly callSid = randomSid('CA');
  readonly streamSid = randomSid('MZ');
  /** Chime's journal has no counterpart here: the stand-in's steps are in `steps`. */
  readonly timeline: never[] = [];
  readonly steps: TwilioStep[] = [];
  /** Every message the gateway sent (event names), in order. */
  readonly received: { at: number; event: string; name?: string }[] = [];
  /** The twiml of each REST update of this call, as received. */
  readonly updates: { at: number; twiml?: string; status?: string }[] = [];
  answeredAt: number | undefined;
  firstAudioAt: number | undefined;
  /** What the caller heard, from everyone (at the time each frame played). */
  private readonly ear: EarFrame[] = [];
  private ws: WebSocket | undefined;
  private seq = 0;
  private chunk = 0;
  private sending: NodeJS.Timeout | undefined;
  private outbox: Buffer[] = [];
  private playEnd = 0;
  private readonly marks: { name: string; at: number; timer: NodeJS.Timeout }[] = [];
  private isEnded = false;
  private endedWaiters: (() => void)[] = [];
  private streamClosed: Promise<void> = Promise.resolve();
  private voices = new Map<Voice, AbortController>();

  constructor(private readonly opts: TwilioCallOptions) {}

  get ended(): boolean {
    return this.isEnded;
  }

  /** Nothing runs on after the call's end here (the stream's own end is awaited in close()). */
  async settled(): Promise<void> {
    await this.streamClosed;
  }

  private note(text: string): void {
    this.steps.push({ at: performance.now(), text });
  }

  // --- the call side ---

  /** The call arrives: Twilio asks the number's webhook what to do, and does it. */
  async startInbound(): Promise<void> {
    const form = {
      AccountSid: this.opts.account.accountSid,
      ApiVersion: '2010-04-01',
      CallSid: this.callSid,
      CallStatus: 'ringing',
      Direction: 'inbound',
      From: this.opts.caller,
      To: this.opts.dialed,
    };
    const signature = getExpectedTwilioSignature(
      this.opts.account.authToken,
      this.opts.voiceUrl,
      form,
    );
    const res = await fetch(this.opts.voiceUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': signature,
      },
      body: new URLSearchParams(form).toString(),
    });
    const twiml = await res.text();
    this.note(`POST /twilio/voice → ${res.status} ${summarize(twiml)}`);
    if (res.status !== 200) throw new Error(`the webhook answered ${res.status}`);
    await this.follow(twiml);
  }

  /** Carries out TwiML as Twilio does, for the verbs callbridge uses. */
  private async follow(twiml: string): Promise<void> {
    this.answeredAt ??= performance.now();
    // <Say> comes first in the document: a recording notice before <Connect>, a notice before <Dial>.
    for (const m of twiml.matchAll(/<Say[^>]*>([\s\S]*?)<\/Say>/g)) {
      await this.speakAs('chime', unescapeXml(m[1]!), CHIME_VOICE);
    }
    const stream = /<Connect><Stream url="([^"]+)">([\s\S]*?)<\/Stream><\/Connect>/.exec(twiml);
    if (stream) {
      const params: Record<string, string> = {};
      for (const m of stream[2]!.matchAll(/<Parameter name="([^"]+)" value="([^"]*)"\/>/g)) {
        params[m[1]!] = unescapeXml(m[2]!);
      }
      return this.openStream(unescapeXml(stream[1]!), params);
    }
    const dial = /<Dial[^>]*>(\+\d+)<\/Dial>/.exec(twiml);
    if (dial) return this.dial(dial[1]!);
    this.end();
  }

  private async dial(number: string): Promise<void> {
    this.note(`<Dial> ${number}`);
    const answers = this.opts.queueAnswers?.(number) ?? true;
    await sleep(this.opts.queueRingMs ?? 300);
    if (!answers) {
      this.note('the queue does not answer');
      return this.end();
    }
    this.note('the person answers');
    void this.speakAs('person', CONNECT_GREETING, PERSON_VOICE);
  }

  private openStream(url: string, params: Record<string, string>): Promise<void> {
    const signature = getExpectedTwilioSignature(this.opts.account.authToken, url, {});
    const ws = new WebSocket(url, { headers: { 'x-twilio-signature': signature } });
    this.ws = ws;
    let closed!: () => void;
    this.streamClosed = new Promise((r) => (closed = r));
    ws.on('close', () => {
      clearInterval(this.sending);
      this.sending = undefined;
      closed();
    });
    ws.on('message', (data) => this.fromGateway(data.toString('utf8')));
    return new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.once('open', () => {
        ws.off('error', reject);
        ws.on('error', () => {});
        this.send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
        this.send({
          event: 'start',
          sequenceNumber: String(++this.seq),
          streamSid: this.streamSid,
          start: {
            accountSid: this.opts.account.accountSid,
            streamSid: this.streamSid,
            callSid: this.callSid,
            tracks: ['inbound'],
            customParameters: params,
            mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
          },
        });
        this.note('stream started');
        this.startSending();
        resolve();
      });
    });
  }

  private send(m: unknown): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m));
  }

  /** 20 ms of the caller's line every 20 ms, drift-corrected: their voice, or silence. */
  private startSending(): void {
    const start = performance.now();
    let n = 0;
    const tick = () => {
      const due = Math.floor((performance.now() - start) / FRAME_MS);
      for (; n <= due; n++) {
        const payload = this.outbox.shift() ?? SILENT_MULAW;
        this.chunk++;
        this.send({
          event: 'media',
          sequenceNumber: String(++this.seq),
          streamSid: this.streamSid,
          media: {
            track: 'inbound',
            chunk: String(this.chunk),
            timestamp: String(this.chunk * FRAME_MS),
            payload: payload.toString('base64'),
          },
        });
      }
    };
    this.sending = setInterval(tick, FRAME_MS / 2);
  }

  private fromGateway(text: string): void {
    const now = performance.now();
    let m: { event?: string; media?: { payload?: string }; mark?: { name?: string } };
    try {
      m = JSON.parse(text) as typeof m;
    } catch {
      return;
    }
    this.received.push({ at: now, event: String(m.event), name: m.mark?.name });
    if (m.event === 'media' && m.media?.payload) {
      const pcm = decodeG711(Buffer.from(m.media.payload, 'base64'), 'PCMU');
      const at = Math.max(now, this.playEnd);
      const ms = (pcm.length * 1000) / RTP_RATE;
      this.playEnd = at + ms;
      const rms = pcmRms(pcm);
      this.ear.push({ at, rms, ms, from: 'agent' });
      if (rms >= SILENCE_RMS) this.firstAudioAt ??= at;
    } else if (m.event === 'mark' && m.mark?.name) {
      const name = m.mark.name;
      const at = Math.max(now, this.playEnd);
      const timer = setTimeout(() => this.echoMark(name), at - now);
      this.marks.push({ name, at, timer });
    } else if (m.event === 'clear') {
      // What has not played yet is dropped; pending marks come back at once.
      for (let i = this.ear.length - 1; i >= 0 && this.ear[i]!.at > now; i--) {
        if (this.ear[i]!.from === 'agent') this.ear.splice(i, 1);
      }
      this.playEnd = now;
      for (const mk of this.marks.splice(0)) {
        clearTimeout(mk.timer);
        this.echoMark(mk.name);
      }
    }
  }

  private echoMark(name: string): void {
    const i = this.marks.findIndex((m) => m.name === name);
    if (i >= 0) this.marks.splice(i, 1);
    this.send({
      event: 'mark',
      sequenceNumber: String(++this.seq),
      streamSid: this.streamSid,
      mark: { name },
    });
  }

  /** Twilio's side of a REST update of the live call (the stand-in's API hands it here). */
  async update(u: { twiml?: string; status?: string }): Promise<void> {
    this.updates.push({ at: performance.now(), ...u });
    this.note(`REST update ${u.status ? `Status=${u.status}` : summarize(u.twiml ?? '')}`);
    await this.stopStream();
    if (u.status === 'completed') return this.end();
    if (u.twiml) await this.follow(u.twiml);
  }

  /** The stream ends (the call moved on, or ended): `stop`, then the socket closes. */
  private async stopStream(): Promise<void> {
    clearInterval(this.sending);
    this.sending = undefined;
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    this.send({
      event: 'stop',
      sequenceNumber: String(++this.seq),
      streamSid: this.streamSid,
      stop: { accountSid: this.opts.account.accountSid, callSid: this.callSid },
    });
    ws.close(1000);
    await this.streamClosed;
  }

  private end(): void {
    if (this.isEnded) return;
    this.isEnded = true;
    for (const v of this.voices.values()) v.abort();
    this.note('the call ends');
    for (const w of this.endedWaiters.splice(0)) w();
  }

  // --- the caller's side (the lab's line) ---

  /** The caller says PCM into the line (at `sampleRate`), in real time; resolves when said. */
  async say(samples: Int16Array, sampleRate: number): Promise<void> {
    const pcm = resamplePcm(samples, sampleRate, RTP_RATE);
    const frames: Buffer[] = [];
    for (let i = 0; i < pcm.length; i += FRAME_SAMPLES) {
      const frame = new Int16Array(FRAME_SAMPLES);
      frame.set(pcm.subarray(i, i + FRAME_SAMPLES));
      frames.push(encodeG711(frame, 'PCMU'));
    }
    if (this.sending) this.outbox.push(...frames);
    await sleep(frames.length * FRAME_MS);
  }

  async callerHangsUp(): Promise<void> {
    await this.stopStream();
    this.end();
  }

  async close(): Promise<void> {
    await this.callerHangsUp();
  }

  // --- the caller's ear ---

  /** The agent's RTP phone in the Chime line; none here (turn figures come from the ear only). */
  readonly agent = undefined;

  async waitFirstAudio(timeoutMs: number): Promise<number> {
    const end = performance.now() + timeoutMs;
    while (this.firstAudioAt === undefined) {
      if (performance.now() > end) throw new Error('no audio from the agent');
      await sleep(20);
    }
    return this.firstAudioAt;
  }

  audibleMsSince(since: number, who: readonly Voice[]): number {
    let ms = 0;
    for (let i = this.ear.length - 1; i >= 0 && this.ear[i]!.at >= since; i--) {
      const f = this.ear[i]!;
      if (f.rms >= SILENCE_RMS && who.includes(f.from)) ms += f.ms;
    }
    return ms;
  }

  lastAudibleAt(): number | undefined {
    return this.ear.findLast((f) => f.rms >= SILENCE_RMS)?.at;
  }

  firstAudibleAt(who: Voice): number | undefined {
    return this.ear.find((f) => f.from === who && f.rms >= SILENCE_RMS)?.at;
  }

  // --- voices on the line other than the agent's ---

  private async speakAs(from: Voice, text: string, voice: string): Promise<void> {
    if (this.isEnded) return;
    const pcm = await renderPhoneLine(text, voice);
    const samples = resamplePcm(pcm.samples, pcm.sampleRate, RTP_RATE);
    const stop = new AbortController();
    this.voices.get(from)?.abort();
    this.voices.set(from, stop);
    const start = performance.now();
    for (let i = 0, n = 0; i < samples.length && !stop.signal.aborted; i += FRAME_SAMPLES, n++) {
      const wait = start + n * FRAME_MS - performance.now();
      if (wait > 0) await sleep(wait);
      const frame = samples.subarray(i, i + FRAME_SAMPLES);
      this.ear.push({ at: performance.now(), rms: pcmRms(frame), ms: FRAME_MS, from });
    }
  }
}

function summarize(twiml: string): string {
  if (twiml.includes('<Stream')) return '<Connect><Stream>';
  const verbs = [...twiml.matchAll(/<(Say|Dial|Hangup)\b/g)].map((m) => `<${m[1]}>`);
  return verbs.join('') || twiml.slice(0, 60);
}

function unescapeXml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
