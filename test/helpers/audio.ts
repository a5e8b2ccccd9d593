// Custom audio input and output for agent sessions without a room: an output that "plays" frames
// in real time (like a phone line) and records them, and an input fed from PCM.
import { voice } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { pcmFrames } from '../../agent/audio.js';

/** Mono PCM (as Flite renders it) in 20 ms frames, as a phone line or a microphone brings it. */
export function pcmToFrames(pcm: { samples: Int16Array; sampleRate: number }): AudioFrame[] {
  return pcmFrames(pcm.samples, pcm.sampleRate, 20);
}

export interface Played {
  frame: AudioFrame;
  /** Date.now() when the frame started playing. */
  at: number;
  segment: number;
}

/** Plays captured frames at real-time pace, records them, and reports playback like a real sink. */
export class RecordingAudioOutput extends voice.AudioOutput {
  readonly played: Played[] = [];
  segment = 0;
  private queue: AudioFrame[] = [];
  private pumping: Promise<void> | undefined;
  private pendingFlush = false;
  private startedSegment = -1;
  private positionMs = 0;
  private interrupted = false;

  constructor(
    sampleRate = 24000,
    private readonly realtime = true,
  ) {
    super(sampleRate);
  }

  override async captureFrame(frame: AudioFrame): Promise<void> {
    await super.captureFrame(frame);
    this.queue.push(frame);
    this.pumping ??= this.pump();
  }

  override flush(): void {
    super.flush();
    this.pendingFlush = true;
    this.pumping ??= this.pump();
  }

  clearBuffer(): void {
    this.queue = [];
    this.interrupted = true;
    this.pumping ??= this.pump();
  }

  private async pump(): Promise<void> {
    // Yield first: `this.pumping ??= this.pump()` must be assigned before the loop can finish.
    await Promise.resolve();
    while (this.queue.length > 0 && !this.interrupted) {
      const frame = this.queue.shift()!;
      if (this.startedSegment !== this.segment) {
        this.startedSegment = this.segment;
        this.onPlaybackStarted(Date.now());
      }
      this.played.push({ frame, at: Date.now(), segment: this.segment });
      const ms = (frame.samplesPerChannel / frame.sampleRate) * 1000;
      this.positionMs += ms;
      if (this.realtime) await new Promise((r) => setTimeout(r, ms));
    }
    if (this.pendingFlush || this.interrupted) {
      const interrupted = this.interrupted;
      this.pendingFlush = false;
      this.interrupted = false;
      this.queue = [];
      if (this.startedSegment === this.segment || interrupted) {
        this.onPlaybackFinished({ playbackPosition: this.positionMs / 1000, interrupted });
      }
      this.segment += 1;
      this.positionMs = 0;
    }
    this.pumping = undefined;
    if (this.queue.length > 0 || this.pendingFlush) this.pumping = this.pump();
  }

  /** Frames of a segment (0 = the first thing played). */
  framesOf(segment: number): AudioFrame[] {
    return this.played.filter((p) => p.segment === segment).map((p) => p.frame);
  }
}

/** An audio input the test feeds: PCM is cut into 20 ms frames and pushed in real time. */
export class PushAudioInput extends voice.AudioInput {
  private controller!: ReadableStreamDefaultController<AudioFrame>;

  constructor() {
    super();
    const stream = new ReadableStream<AudioFrame>({
      start: (c) => {
        this.controller = c;
      },
    });
    this.multiStream.addInputStream(stream);
  }

  /** Pushes `samples` (mono, `rate` Hz) as 20 ms frames; real time unless `fast`. */
  async push(samples: Int16Array, rate: number, fast = false): Promise<void> {
    const per = rate / 50;
    for (let i = 0; i < samples.length; i += per) {
      const chunk = new Int16Array(per);
      chunk.set(samples.subarray(i, Math.min(i + per, samples.length)));
      this.controller.enqueue(new AudioFrame(chunk, rate, 1, per));
      if (!fast) await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Silence, e.g. after speech so VAD sees the end of it. */
  async silence(ms: number, rate: number): Promise<void> {
    await this.push(new Int16Array((rate * ms) / 1000), rate);
  }
}

export function rms(frames: AudioFrame[]): number {
  let sum = 0;
  let n = 0;
  for (const f of frames) {
    for (const s of f.data) {
      sum += s * s;
      n += 1;
    }
  }
  return n === 0 ? 0 : Math.sqrt(sum / n);
}
