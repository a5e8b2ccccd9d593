// Energy-based endpointing for the Deepgram stand-in: where a caller's phrase starts and ends in
// the audio a streaming client sends. Deepgram's own detector is a model; this one looks at the
// loudness of 20 ms frames, which is enough for the lab's callers on a clean line. It runs on the
// stream's audio clock (samples received), never on wall time, so a test can drive it exactly.
import { pcmRms } from '../../agent/audio.js';

/** Loudness (RMS of 16-bit samples) a frame needs to count as speech: about −36 dBFS. */
export const SPEECH_RMS = 500;
/** Speech must last this long before a phrase starts: a click is not a caller. */
const ONSET_MS = 60;
/** Audio kept from before the onset, so the recognizer hears the first consonant. */
const PREFIX_MS = 200;
/**
 * The shortest pause that ends a phrase. Deepgram's model tells the gap between two words from the
 * end of a phrase at 10 to 25 ms; loudness cannot, so the stand-in waits at least this long.
 */
export const MIN_ENDPOINT_MS = 300;
const FRAME_MS = 20;

export type EndpointEvent =
  | { type: 'start'; atS: number }
  /** The phrase's audio (prefix included), from `startS` to `endS` on the stream's clock. */
  | { type: 'end'; startS: number; endS: number; audio: Int16Array };

export interface EndpointerOptions {
  sampleRate: number;
  /** Silence that ends a phrase (ms); `false`: phrases end only when the client asks. */
  endpointing: number | false;
}

export class Endpointer {
  private readonly frameLen: number;
  private pending = new Int16Array(0);
  private readonly prefix: Int16Array[] = [];
  private phrase: Int16Array[] = [];
  private speechRun = 0;
  private quietRun = 0;
  private clock = 0; // samples consumed
  private startSample: number | undefined;
  private lastSpeechSample = 0;
  private readonly endAfterFrames: number;

  constructor(private readonly opts: EndpointerOptions) {
    this.frameLen = Math.round((opts.sampleRate * FRAME_MS) / 1000);
    const ms = opts.endpointing === false ? Infinity : Math.max(opts.endpointing, MIN_ENDPOINT_MS);
    this.endAfterFrames = Math.ceil(ms / FRAME_MS);
  }

  get speaking(): boolean {
    return this.startSample !== undefined;
  }

  /** Seconds of audio received so far. */
  get seconds(): number {
    return (this.clock + this.pending.length) / this.opts.sampleRate;
  }

  /** The phrase so far (for interim results), or undefined between phrases. */
  phraseSoFar(): Int16Array | undefined {
    return this.speaking ? concat(this.phrase) : undefined;
  }

  push(samples: Int16Array): EndpointEvent[] {
    const all = concat([this.pending, samples]);
    const events: EndpointEvent[] = [];
    let i = 0;
    for (; i + this.frameLen <= all.length; i += this.frameLen) {
      const ev = this.frame(all.subarray(i, i + this.frameLen));
      if (ev) events.push(ev);
    }
    this.pending = all.slice(i);
    return events;
  }

  /** Ends the phrase in progress now (the client's Finalize or CloseStream), if there is one. */
  finish(): Extract<EndpointEvent, { type: 'end' }> | undefined {
    if (this.pending.length > 0) {
      this.phrase.push(this.pending);
      this.clock += this.pending.length;
      this.pending = new Int16Array(0);
    }
    return this.speaking ? this.end(this.clock) : undefined;
  }

  private frame(f: Int16Array): EndpointEvent | undefined {
    const loud = pcmRms(f) >= SPEECH_RMS;
    const at = this.clock;
    this.clock += f.length;
    if (!this.speaking) return this.idle(f, loud, at);
    this.phrase.push(f.slice());
    if (loud) {
      this.quietRun = 0;
      this.lastSpeechSample = this.clock;
      return undefined;
    }
    this.quietRun += 1;
    return this.quietRun >= this.endAfterFrames ? this.end(this.lastSpeechSample) : undefined;
  }

  private idle(f: Int16Array, loud: boolean, at: number): EndpointEvent | undefined {
    this.prefix.push(f.slice());
    const keep = Math.ceil(PREFIX_MS / FRAME_MS) + Math.ceil(ONSET_MS / FRAME_MS);
    while (this.prefix.length > keep) this.prefix.shift();
    this.speechRun = loud ? this.speechRun + 1 : 0;
    if (this.speechRun * FRAME_MS < ONSET_MS) return undefined;
    const onset = at + f.length - this.speechRun * this.frameLen;
    this.phrase = this.prefix.splice(0);
    this.startSample = Math.max(0, this.clock - this.phrase.length * this.frameLen);
    this.lastSpeechSample = this.clock;
    this.quietRun = 0;
    this.speechRun = 0;
    return { type: 'start', atS: onset / this.opts.sampleRate };
  }

  private end(endSample: number): Extract<EndpointEvent, { type: 'end' }> {
    const ev = {
      type: 'end' as const,
      startS: (this.startSample ?? 0) / this.opts.sampleRate,
      endS: endSample / this.opts.sampleRate,
      audio: concat(this.phrase),
    };
    this.phrase = [];
    this.startSample = undefined;
    this.quietRun = 0;
    return ev;
  }
}

function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
