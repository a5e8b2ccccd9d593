// Silero voice activity detection for calls: the model the framework's Silero plugin ships, run by
// a stream that does only the model's work for each 32 ms window. The plugin's own stream joins
// its pending frames for every window by spreading their samples into JavaScript arrays and scales
// each window with a per-sample callback; on a call that costs about what the model does
// (docs/decisions/cpu-per-call.md). This stream keeps its pending audio in one typed array and
// hands the model a window at a time.
//
// The model hears the session's audio at its own rate, 8 or 16 kHz (the session's is 16 kHz).
//
// Its events are the plugin's, field for field: START_OF_SPEECH once the speech has lasted
// `minSpeechMs` (with the speech so far and `prefixPaddingMs` before it), INFERENCE_DONE for every
// window, END_OF_SPEECH after `minSilenceMs` of silence (the whole utterance), probabilities
// smoothed as the plugin smooths them.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ExpFilter, VAD, VADEventType, VADStream, type VADEvent } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { InferenceSession, Tensor } from 'onnxruntime-node';

export interface CallSileroOptions {
  /** Speech for this long starts an utterance (ms). */
  minSpeechMs: number;
  /** Silence for longer than this ends it (ms). */
  minSilenceMs: number;
  /** Audio kept from before the speech started, given with it (ms). */
  prefixPaddingMs: number;
  /** The most speech one utterance holds (ms); more is dropped, with a warning. */
  maxBufferedSpeechMs: number;
  /** A window whose smoothed probability is above this is speech. */
  activationThreshold: number;
}

/** The plugin's defaults. */
const CALL_SILERO_DEFAULTS: CallSileroOptions = {
  minSpeechMs: 50,
  minSilenceMs: 550,
  prefixPaddingMs: 500,
  maxBufferedSpeechMs: 60_000,
  activationThreshold: 0.5,
};

/** Inference that runs this far behind the audio is logged (ms). */
const SLOW_INFERENCE_MS = 200;
/** The smoothing the plugin applies to the model's probabilities. */
const SMOOTHING = 0.35;

/** The model file the Silero plugin ships, beside its entry point. */
function sileroModelPath(): string {
  const entry = createRequire(import.meta.url).resolve('@livekit/agents-plugin-silero');
  return join(dirname(entry), 'silero_vad.onnx');
}

/** One stream's use of the model: its recurrent state and the context carried between windows. */
class SileroModel {
  readonly windowSamples: number;
  private readonly contextSamples: number;
  private readonly input: Float32Array;
  private readonly state = new Float32Array(2 * 128);
  private readonly rate: Tensor;

  constructor(
    private readonly session: InferenceSession,
    readonly sampleRate: 8000 | 16000,
  ) {
    this.windowSamples = sampleRate === 8000 ? 256 : 512;
    this.contextSamples = sampleRate === 8000 ? 32 : 64;
    this.input = new Float32Array(this.contextSamples + this.windowSamples);
    this.rate = new Tensor('int64', BigInt64Array.of(BigInt(sampleRate)));
  }

  static loadSession(): Promise<InferenceSession> {
    return InferenceSession.create(sileroModelPath(), {
      interOpNumThreads: 1,
      intraOpNumThreads: 1,
      executionMode: 'sequential',
      executionProviders: ['cpu'],
    });
  }

  /** The probability that the window written into `windowInput()` (in [-1, 1]) is speech. */
  async run(): Promise<number> {
    const n = this.input.length;
    const out = await this.session.run({
      input: new Tensor('float32', this.input, [1, n]),
      state: new Tensor('float32', this.state, [2, 1, 128]),
      sr: this.rate,
    });
    this.state.set(out.stateN!.data as Float32Array);
    // The window's last samples are the next window's context.
    this.input.copyWithin(0, n - this.contextSamples);
    return (out.output!.data as Float32Array)[0]!;
  }

  /** Where the next window's samples go. */
  windowInput(): Float32Array {
    return this.input.subarray(this.contextSamples);
  }

  reset(): void {
    this.state.fill(0);
    this.input.fill(0);
  }
}

export class CallSilero extends VAD {
  label = 'silero.VAD (call)';

  private constructor(
    private readonly session: InferenceSession,
    readonly opts: CallSileroOptions,
  ) {
    super({ updateInterval: 32 });
  }

  static async load(opts: Partial<CallSileroOptions> = {}): Promise<CallSilero> {
    return new CallSilero(await SileroModel.loadSession(), { ...CALL_SILERO_DEFAULTS, ...opts });
  }

  override get minSilenceDuration(): number {
    return this.opts.minSilenceMs;
  }

  stream(): VADStream {
    return new CallSileroStream(this, this.opts, this.session);
  }
}

/** What an utterance holds so far, at the input's rate. */
class SpeechBuffer {
  private readonly samples: Int16Array;
  private length = 0;
  private full = false;

  constructor(
    capacity: number,
    private readonly padding: number,
    private readonly rate: number,
  ) {
    this.samples = new Int16Array(capacity);
  }

  /** Adds a window's samples; false the first time the buffer is full. */
  add(window: Int16Array): boolean {
    const n = Math.min(window.length, this.samples.length - this.length);
    this.samples.set(window.subarray(0, n), this.length);
    this.length += n;
    if (n < window.length && !this.full) {
      this.full = true;
      return false;
    }
    return true;
  }

  /** Keeps only the last `padding` samples: what is given before the next speech. */
  keepPadding(): void {
    if (this.length <= this.padding) return;
    this.samples.copyWithin(0, this.length - this.padding, this.length);
    this.length = this.padding;
    this.full = false;
  }

  frame(): AudioFrame {
    return new AudioFrame(this.samples.slice(0, this.length), this.rate, 1, this.length);
  }

  clear(): void {
    this.length = 0;
    this.full = false;
  }
}

class CallSileroStream extends VADStream {
  /** The model, once the first frame gives the rate. */
  private model: SileroModel | undefined;
  private windowMs = 32;
  private pending = new Int16Array(0);
  private pendingLength = 0;
  private speech: SpeechBuffer | undefined;
  private smoothing = new ExpFilter(SMOOTHING);
  private behindMs = 0;
  private refusedFrame = false;
  // What the events report (ms), as the plugin counts them.
  private speaking = false;
  private speechMs = 0;
  private silenceMs = 0;
  private rawSpeechMs = 0;
  private rawSilenceMs = 0;
  private samplesIndex = 0;
  private timestamp = 0;

  constructor(
    vad: CallSilero,
    private readonly opts: CallSileroOptions,
    private readonly session: InferenceSession,
  ) {
    super(vad);
    void this.run().catch((err: unknown) => {
      this.logger.error({ err }, 'the call VAD stopped');
      if (!this.closed) this.close();
    });
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      const { done, value } = await this.inputReader.read();
      if (done) break;
      if (typeof value === 'symbol') {
        this.reset();
        continue;
      }
      const model = this.accept(value);
      if (!model) continue;
      this.append(value.data);
      while (!this.closed && this.pendingLength >= model.windowSamples) await this.window(model);
    }
  }

  /** The model for `frame`, if it can be heard: mono, at 8 or 16 kHz, the rate of the first. */
  private accept(frame: AudioFrame): SileroModel | undefined {
    const rate = frame.sampleRate;
    if (!this.model) {
      if (frame.channels !== 1 || (rate !== 8000 && rate !== 16000)) {
        return this.refuse(
          `the call VAD hears mono audio at 8000 or 16000 Hz, not ${frame.channels} channel(s) ` +
            `at ${rate} Hz; the frame is not heard`,
        );
      }
      this.model = new SileroModel(this.session, rate);
      this.windowMs = (this.model.windowSamples / rate) * 1000;
      this.pending = new Int16Array(this.model.windowSamples * 4);
      const padding = Math.trunc((this.opts.prefixPaddingMs * rate) / 1000);
      const capacity = Math.trunc((this.opts.maxBufferedSpeechMs * rate) / 1000) + padding;
      this.speech = new SpeechBuffer(capacity, padding, rate);
      return this.model;
    }
    if (rate !== this.model.sampleRate || frame.channels !== 1) {
      return this.refuse(
        `the call VAD's audio changed to ${frame.channels} channel(s) at ${rate} Hz (it started ` +
          `at ${this.model.sampleRate} Hz mono); the frame is not heard`,
      );
    }
    return this.model;
  }

  private refuse(message: string): undefined {
    if (!this.refusedFrame) this.logger.error(message);
    this.refusedFrame = true;
    return undefined;
  }

  private append(samples: Int16Array): void {
    const needed = this.pendingLength + samples.length;
    if (needed > this.pending.length) {
      const grown = new Int16Array(Math.max(needed, this.pending.length * 2));
      grown.set(this.pending.subarray(0, this.pendingLength));
      this.pending = grown;
    }
    this.pending.set(samples, this.pendingLength);
    this.pendingLength = needed;
  }

  /** Hears the next window of pending audio and reports it. */
  private async window(model: SileroModel): Promise<void> {
    const started = performance.now();
    const n = model.windowSamples;
    const audio = this.pending.slice(0, n);
    this.pending.copyWithin(0, n, this.pendingLength);
    this.pendingLength -= n;

    const modelIn = model.windowInput();
    for (let i = 0; i < n; i++) modelIn[i] = audio[i]! / 32767;
    const p = this.smoothing.apply(1, await model.run());
    if (this.closed) return;

    this.samplesIndex += n;
    this.timestamp += this.windowMs;
    if (!this.speech!.add(audio)) {
      this.logger.warn('the call VAD holds its most speech; the rest of this utterance is dropped');
    }
    const inferenceMs = Math.round(performance.now() - started);
    this.behindMs = Math.max(0, this.behindMs + inferenceMs - this.windowMs);
    if (this.behindMs > SLOW_INFERENCE_MS) {
      this.logger.warn({ delay: this.behindMs }, 'VAD inference is slower than realtime');
    }
    if (this.speaking) this.speechMs += this.windowMs;
    else this.silenceMs += this.windowMs;

    const frame = new AudioFrame(audio, model.sampleRate, 1, n);
    if (!this.send(VADEventType.INFERENCE_DONE, p, inferenceMs, frame)) return;

    if (p > this.opts.activationThreshold) {
      this.rawSpeechMs += this.windowMs;
      this.rawSilenceMs = 0;
      if (!this.speaking && this.rawSpeechMs >= this.opts.minSpeechMs) {
        this.speaking = true;
        this.silenceMs = 0;
        this.speechMs = this.rawSpeechMs;
        this.send(VADEventType.START_OF_SPEECH, p, inferenceMs, this.speech!.frame(), true);
      }
    } else {
      this.rawSilenceMs += this.windowMs;
      this.rawSpeechMs = 0;
      if (!this.speaking) this.speech!.keepPadding();
      else if (this.rawSilenceMs > this.opts.minSilenceMs) {
        this.speaking = false;
        this.speechMs = 0;
        this.silenceMs = this.rawSilenceMs;
        this.send(VADEventType.END_OF_SPEECH, p, inferenceMs, this.speech!.frame(), true);
        this.speech!.keepPadding();
      }
    }
  }

  private send(
    type: VADEventType,
    probability: number,
    inferenceDuration: number,
    frame: AudioFrame,
    edge = false,
  ): boolean {
    const event: VADEvent = {
      type,
      samplesIndex: this.samplesIndex,
      timestamp: this.timestamp,
      speechDuration: this.speechMs,
      silenceDuration: this.silenceMs,
      frames: [frame],
      probability,
      inferenceDuration,
      speaking: this.speaking,
      rawAccumulatedSilence: edge ? 0 : this.rawSilenceMs,
      rawAccumulatedSpeech: edge ? 0 : this.rawSpeechMs,
    };
    return this.sendVADEvent(event);
  }

  /** A segment's end (the framework's flush): the next frame starts afresh. */
  private reset(): void {
    this.model?.reset();
    this.speech?.clear();
    this.smoothing = new ExpFilter(SMOOTHING);
    this.pendingLength = 0;
    this.behindMs = 0;
    this.speaking = false;
    this.speechMs = this.silenceMs = this.rawSpeechMs = this.rawSilenceMs = 0;
    this.samplesIndex = this.timestamp = 0;
  }
}
