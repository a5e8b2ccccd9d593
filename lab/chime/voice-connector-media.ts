// The lab's Chime legs, carried out as Chime carries them in production. The caller (LEG-A) is
// the scripted caller itself, in this process: a mouth and an ear, no network. CallAndBridge `AWS`
// places LEG-B as Chime's Voice Connector does: a SIP INVITE with the action's SipHeaders
// straight to the local livekit-sip (./rtp-phone.ts), G.711 RTP both ways, so it arrives through
// the same inbound trunk, header mapping and dispatch rule as production's calls. CallAndBridge
// `PSTN` rings the Connect stand-in, whose live agent answers at once; Speak and PlayAudio are
// Chime's own voice on the caller's line. A leg that ends by itself (livekit-sip sends BYE) is
// reported to the call as Chime reports it: a HANGUP event.
//
// Earlier, the caller was a WebRTC participant in a room of its own, and LEG-B a call from that
// room through an outbound trunk back into livekit-sip: a second SIP leg and a second room per
// call, Opus both ways twice, that production never runs on the agent's machine. That calling side
// cost about as much CPU as the product's own SIP and media path (README, "The local lab").
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pcmRms, resamplePcm, SILENCE_RMS } from '../../agent/audio.js';
import { synthesizeToPcm } from '../../agent/providers/flite-tts.js';
import type { ChimeLeg } from './events.js';
import type { BridgeRequest, ChimeMedia, SimulatedChimeCall } from './simulated-call.js';
import { RTP_RATE } from '../phone/g711.js';
import { RtpPhone } from '../phone/rtp-phone.js';
import { withTimeout } from '../phone/sip-leg.js';
import { encodeWav, readWavObject } from '../phone/wav.js';
import type { CallRecordingRequest, RecordRequest } from './media.js';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { putRecordingObject, TimelineRecorder, type Channel } from '../../store/recordings.js';

export const CONNECT_GREETING = 'Hello, this is the 311 team. How can I help you today?';

/** Who the caller can hear: the AI agent (over SIP), the person a transfer reaches, or Chime. */
export type Voice = 'agent' | 'person' | 'chime';

export interface EarFrame {
  /** performance.now() when it reached the caller's ear. */
  at: number;
  rms: number;
  /** The frame's length. */
  ms: number;
  from: Voice;
}

export interface VoiceConnectorMediaOptions {
  /** host:port of livekit-sip (the Voice Connector's origination target). */
  sipAddress: string;
  /** Does the human queue at this number answer? (Failure scenarios say no.) */
  queueAnswers?: (number: string) => boolean;
  /** How long an unanswered PSTN bridge rings before CallNotAnswered (default 2 s in the lab). */
  queueRingMs?: number;
  /**
   * What the person says first once Connect has run its flow for the number dialed (the context
   * hand-off: lab/connect/contact-flows.ts); without it, CONNECT_GREETING at once.
   */
  personGreeting?: (number: string) => Promise<string>;
  /** The lab's S3 for PlayAudio: object `<audioRoot>/<bucket>/<key>` (default lab/chime/audio). */
  audioRoot?: string;
  /**
   * RecordAudio's objects as files, `<recordRoot>/<bucket>/<key>`, for tests without an S3; unset,
   * they go to the lab's S3 (`s3`).
   */
  recordRoot?: string;
  /** Where call recordings go (StartCallRecording); default: the SDK's, AWS_ENDPOINT_URL_S3. */
  s3?: S3Client;
}

const AUDIO_ROOT = fileURLToPath(new URL('./audio', import.meta.url));
const FRAME_MS = 20;
const FRAME_SAMPLES = (RTP_RATE * FRAME_MS) / 1000;
/** Flite voices: the person's, and Chime's for Speak (both other than the agent's). */
const PERSON_VOICE = 'slt';
const CHIME_VOICE = 'awb';

export class VoiceConnectorMedia implements ChimeMedia {
  /** LEG-B to the AI agent, once placed. */
  agent: RtpPhone | undefined;
  /** RMS from which a frame counts as audio, not silence (the agent's speech onset). */
  private readonly threshold = SILENCE_RMS;
  /** Resolves with LEG-B to the agent once it is placed. */
  private readonly agentPlaced: Promise<RtpPhone>;
  private resolveAgentPlaced!: (phone: RtpPhone) => void;
  /** What the caller heard from everyone but the agent (the agent's frames are its phone's). */
  private readonly local: EarFrame[] = [];
  private call: SimulatedChimeCall | undefined;
  private readonly kinds = new Map<string, 'agent' | 'person'>();
  private readonly droppedByUs = new Set<string>();
  /** Voices playing on the caller's line, each stopped when its leg (or the caller) goes. */
  private readonly playing = new Map<Voice, AbortController>();
  private bridged: 'agent' | 'person' | undefined;
  private callerGone = false;
  /** While StartCallRecording runs (until the call ends): the caller's line on a timeline. */
  private callRecording: { req: CallRecordingRequest; timeline: TimelineRecorder } | undefined;
  /** The recording's object, written once the call has ended (undefined: none was started). */
  recordingWritten: Promise<{ key: string; seconds: number; writeMs: number }> | undefined;
  /** While RecordAudio runs: where the caller's words and keys go. */
  private recording:
    { push(samples: Int16Array, sampleRate: number): void; key(digit: string): void } | undefined;

  constructor(private readonly opts: VoiceConnectorMediaOptions) {
    this.agentPlaced = new Promise((r) => (this.resolveAgentPlaced = r));
  }

  /** The call whose legs these are (for the HANGUP of a leg that ends by itself). */
  attach(call: SimulatedChimeCall): void {
    this.call = call;
  }

  // --- Chime's actions ---

  async bridge(req: BridgeRequest): Promise<boolean> {
    if (this.callerGone) return false;
    return req.type === 'AWS' ? this.bridgeAgent(req) : this.bridgePerson(req);
  }

  private async bridgeAgent(req: BridgeRequest): Promise<boolean> {
    let phone: RtpPhone;
    try {
      phone = await RtpPhone.call({
        sipAddress: this.opts.sipAddress,
        to: req.uri,
        from: req.callerId,
        headers: req.headers,
        answerTimeoutMs: req.timeoutS * 1000,
      });
    } catch {
      return false;
    }
    this.agent = phone;
    // What the agent says reaches the caller's ear: the recording's outgoing track.
    phone.onAudio = (pcm, at) => this.callRecording?.timeline.write('heard', at, pcm);
    this.resolveAgentPlaced(phone);
    try {
      // The phone gives up (CANCEL) at the ring timeout; a little more covers the final response.
      await phone.waitAnswered(req.timeoutS * 1000 + 2000);
    } catch {
      await phone.hangUp();
      return false;
    }
    const callId = req.leg.CallId;
    this.kinds.set(callId, 'agent');
    this.bridged = 'agent';
    void phone.waitEnded(24 * 3600_000).then(() => {
      if (this.bridged === 'agent') this.bridged = undefined;
      if (!this.droppedByUs.has(callId) && !this.callerGone)
        void this.call?.remoteHangup('LEG-B', callId);
    });
    return true;
  }

  private async bridgePerson(req: BridgeRequest): Promise<boolean> {
    const answers = this.opts.queueAnswers?.(req.uri) ?? true;
    if (!answers) {
      await sleep(this.opts.queueRingMs ?? 2000);
      return false;
    }
    this.kinds.set(req.leg.CallId, 'person');
    this.bridged = 'person';
    const greeting = this.opts.personGreeting?.(req.uri) ?? Promise.resolve(CONNECT_GREETING);
    void greeting
      .catch(() => CONNECT_GREETING)
      .then((text) =>
        this.bridged === 'person' ? this.speakAs('person', text, PERSON_VOICE) : undefined,
      )
      .catch(() => {});
    return true;
  }

  async hangup(leg: ChimeLeg): Promise<void> {
    if (leg.ParticipantTag === 'LEG-A') return this.dropEverything();
    this.droppedByUs.add(leg.CallId);
    const kind = this.kinds.get(leg.CallId);
    if (this.bridged === kind) this.bridged = undefined;
    if (kind === 'agent') await this.agent?.hangUp();
    else this.playing.get('person')?.abort();
  }

  /** Speak: Chime's voice on the caller's line; resolves when it has been said. */
  async speak(text: string): Promise<void> {
    await this.speakAs('chime', text, CHIME_VOICE);
  }

  /** PlayAudio: Chime plays the object to the caller. A missing object fails before anything. */
  async playAudio(source: { bucket: string; key: string }, repeat: number): Promise<void> {
    const pcm = await readWavObject(this.opts.audioRoot ?? AUDIO_ROOT, source);
    for (let i = 0; i < repeat && !this.callerGone; i++)
      await this.play('chime', pcm.samples, pcm.sampleRate);
  }

  /**
   * RecordAudio: what the caller says from now on, at 8 kHz, until the duration, a silence after
   * speech, a terminator key or the caller hanging up; written as a WAV object. The key is the
   * prefix, the leg's CallId and the time (Chime's own naming is not documented).
   */
  async recordAudio(req: RecordRequest): Promise<{ key: string; terminator?: string }> {
    const chunks: Int16Array[] = [];
    const started = performance.now();
    let speechEnds: number | undefined;
    let terminator: string | undefined;
    await new Promise<void>((done) => {
      const stop = (t?: string) => {
        terminator = t;
        clearInterval(timer);
        this.recording = undefined;
        done();
      };
      this.recording = {
        push: (samples, rate) => {
          chunks.push(resamplePcm(samples, rate, RTP_RATE));
          speechEnds = performance.now() + (samples.length / rate) * 1000;
        },
        key: (d) => {
          if (req.terminators.includes(d)) stop(d);
        },
      };
      const timer = setInterval(() => {
        const now = performance.now();
        const silent = speechEnds !== undefined && now - speechEnds >= req.silenceS * 1000;
        if (this.callerGone || silent || now - started >= req.durationS * 1000) stop();
      }, 50);
    });
    const key = `${req.prefix}${req.leg.CallId}-${Date.now()}.wav`;
    if (this.opts.recordRoot === undefined) {
      // The lab's S3, as Chime writes the message to the bucket it was given.
      const wav = encodeWav({ samples: joined(chunks), sampleRate: RTP_RATE });
      const s3 = this.opts.s3 ?? new S3Client({});
      await s3.send(
        new PutObjectCommand({ Bucket: req.bucket, Key: key, Body: wav, ContentType: 'audio/wav' }),
      );
      return { key, terminator };
    }
    const root = resolve(this.opts.recordRoot, req.bucket);
    const path = resolve(root, key);
    // A key is a name in its bucket, never a way out of it.
    if (!path.startsWith(root + sep)) throw new Error(`invalid key ${key}`);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, encodeWav({ samples: joined(chunks), sampleRate: RTP_RATE }));
    return { key, terminator };
  }

  /** StartCallRecording: the caller's line from now until the call ends (see `recordingWritten`). */
  startCallRecording(req: CallRecordingRequest): void {
    if (this.callerGone || this.callRecording) return;
    this.callRecording = { req, timeline: new TimelineRecorder(performance.now()) };
  }

  /**
   * The call has ended: the recording is written as Chime delivers one, a WAV with the call's ids,
   * length and format as object metadata. BOTH: stereo, what the caller says on the left and what
   * the caller hears (the agent, Chime's voice, the person) on the right; INCOMING or OUTGOING:
   * that side alone, mono.
   */
  private endCallRecording(): void {
    const rec = this.callRecording;
    if (!rec) return;
    this.callRecording = undefined;
    const { req, timeline } = rec;
    const started = performance.now();
    const tracks: Channel[] =
      req.track === 'BOTH'
        ? ['caller', 'heard']
        : req.track === 'INCOMING'
          ? ['caller']
          : ['heard'];
    const { wav, seconds } = timeline.finish(started, tracks);
    const s3 = this.opts.s3 ?? new S3Client({});
    this.recordingWritten = putRecordingObject(s3, {
      bucket: req.bucket,
      key: req.key,
      wav,
      seconds,
      callId: req.transactionId,
      legId: req.leg.CallId,
    }).then(() => ({
      key: req.key,
      seconds,
      writeMs: performance.now() - started,
    }));
    this.recordingWritten.catch(() => {}); // awaited by whoever reads it
  }

  // --- the caller's side ---

  /** Says PCM (mono, at `sampleRate`) into the line, in real time; resolves when it was said. */
  async say(samples: Int16Array, sampleRate: number): Promise<void> {
    this.recording?.push(samples, sampleRate);
    this.callRecording?.timeline.write(
      'caller',
      performance.now(),
      resamplePcm(samples, sampleRate, RTP_RATE),
    );
    if (this.bridged === 'agent' && this.agent) return this.agent.say(samples, sampleRate);
    // The Connect stand-in's person does not listen, and an unbridged line carries it nowhere:
    // the caller still takes the time to say it.
    await sleep((samples.length / sampleRate) * 1000);
  }

  /**
   * The caller presses keys: the Voice Connector passes them to the bridged leg as RFC 4733
   * telephone-events. Pressed on a line bridged to no one, they go nowhere.
   */
  async pressKeys(digits: string): Promise<void> {
    if (this.recording) {
      for (const d of digits) this.recording?.key(d);
      return;
    }
    if (this.bridged === 'agent' && this.agent) return this.agent.sendDigits(digits);
  }

  /**
   * The caller hangs up. Chime reports LEG-A's HANGUP first, and the SMA hangs up LEG-B; only then
   * does the rest go. (Dropping LEG-B first would look to the SMA like the agent failing, and it
   * would bridge a caller who is gone.)
   */
  async callerHangsUp(): Promise<void> {
    await this.call?.remoteHangup('LEG-A');
    await this.dropEverything();
  }

  /** Ends whatever is still up (end of a scenario). */
  async close(): Promise<void> {
    await this.dropEverything();
  }

  // --- the caller's ear ---

  /** The answer of the AI leg (performance.now()), as the caller's phone saw its 200 OK. */
  get answeredAt(): number | undefined {
    return this.agent?.answeredAt;
  }

  /** The first audible frame of the agent. */
  get firstAudioAt(): number | undefined {
    return this.agent?.firstAudioAt;
  }

  /** Resolves with the agent's first audible frame; rejects without one within `timeoutMs`. */
  async waitFirstAudio(timeoutMs: number): Promise<number> {
    const end = performance.now() + timeoutMs;
    const phone = await withTimeout(this.agentPlaced, timeoutMs, 'no AI leg');
    return phone.waitFirstAudio(Math.max(0, end - performance.now()));
  }

  /**
   * Milliseconds of audio (not silence) from `who` that reached the caller since `since`. Each ear
   * is read from its end back to `since`: the scripted caller asks every 50 ms while it waits.
   */
  audibleMsSince(since: number, who: readonly Voice[]): number {
    let ms = 0;
    const count = (f: { rms: number; ms: number }) => (ms += f.rms >= this.threshold ? f.ms : 0);
    if (who.includes('agent')) for (const f of newest(this.agent?.heard ?? [], since)) count(f);
    for (const f of newest(this.local, since)) if (who.includes(f.from)) count(f);
    return ms;
  }

  /** When the caller last heard anything audible, from anyone (searched from the end). */
  lastAudibleAt(): number | undefined {
    const audible = (f: { rms: number }) => f.rms >= this.threshold;
    const agent = this.agent?.heard.findLast(audible)?.at;
    const other = this.local.findLast(audible)?.at;
    if (agent === undefined || other === undefined) return agent ?? other;
    return Math.max(agent, other);
  }

  /** The first audible frame from `who`. */
  firstAudibleAt(who: Voice): number | undefined {
    for (const f of this.frames([who])) if (f.rms >= this.threshold) return f.at;
    return undefined;
  }

  private *frames(who: readonly Voice[]): Iterable<{ at: number; rms: number; ms: number }> {
    if (who.includes('agent')) yield* this.agent?.heard ?? [];
    for (const f of this.local) if (who.includes(f.from)) yield f;
  }

  // --- voices on the line ---

  private async speakAs(from: Voice, text: string, voice: string): Promise<void> {
    if (this.callerGone) return;
    const pcm = await renderPhoneLine(text, voice);
    await this.play(from, pcm.samples, pcm.sampleRate);
  }

  /**
   * Plays PCM to the caller as `from`, one 20 ms frame at a time in real time, each frame entering
   * the ear when it would be heard; stops early when that voice's leg or the caller goes.
   */
  private async play(from: Voice, samples: Int16Array, sampleRate: number): Promise<void> {
    if (this.callerGone) return;
    const pcm = resamplePcm(samples, sampleRate, RTP_RATE);
    const stop = new AbortController();
    this.playing.get(from)?.abort();
    this.playing.set(from, stop);
    const start = performance.now();
    for (let i = 0, n = 0; i < pcm.length && !stop.signal.aborted; i += FRAME_SAMPLES, n++) {
      const wait = start + n * FRAME_MS - performance.now();
      if (wait > 0) await sleep(wait);
      if (stop.signal.aborted) break;
      const frame = pcm.subarray(i, i + FRAME_SAMPLES);
      this.callRecording?.timeline.write('heard', performance.now(), frame);
      this.local.push({
        at: performance.now(),
        rms: pcmRms(frame),
        ms: (frame.length * 1000) / RTP_RATE,
        from,
      });
    }
    if (this.playing.get(from) === stop) this.playing.delete(from);
  }

  private async dropEverything(): Promise<void> {
    this.callerGone = true;
    this.endCallRecording();
    this.bridged = undefined;
    for (const stop of this.playing.values()) stop.abort();
    await this.agent?.hangUp();
  }
}

/** Rendered lines by voice and text: the lab says the same few lines on every call. */
const rendered = new Map<string, Promise<{ samples: Int16Array; sampleRate: number }>>();
const RENDERED_MAX = 64;

/**
 * `text` said by Flite's `voice` at the phone's 8 kHz, rendered once per lab process: callers,
 * the person and Chime say the same few lines on every call, and in load runs rendering them for
 * each call would be Flite's work beside the calls the run measures.
 */
export function renderPhoneLine(text: string, voice: string) {
  const key = `${voice}\n${text}`;
  let pcm = rendered.get(key);
  if (!pcm) {
    pcm = synthesizeToPcm(text, { voice, sampleRate: RTP_RATE });
    pcm.catch(() => rendered.delete(key));
    if (rendered.size >= RENDERED_MAX) rendered.delete(rendered.keys().next().value!);
    rendered.set(key, pcm);
  }
  return pcm;
}

/** The frames of an ear (in the order they were heard) from `since` on, newest first. */
function* newest<T extends { at: number }>(frames: readonly T[], since: number): Iterable<T> {
  for (let i = frames.length - 1; i >= 0 && frames[i]!.at >= since; i--) yield frames[i]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Chunks of PCM as one array. */
function joined(chunks: Int16Array[]): Int16Array {
  const samples = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    samples.set(c, at);
    at += c.length;
  }
  return samples;
}
