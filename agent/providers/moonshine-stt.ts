// Offline speech-to-text: Moonshine tiny-en in-process (./moonshine-native.ts), English only. The
// stream follows VAD events over the caller's audio (the session's own VAD stream, given a
// CallVad), keeps each utterance's audio while it is spoken, and transcribes the whole utterance
// once the caller has been silent a little while: tiny-en decodes a few seconds of speech in a
// fraction of a second, and its streaming calls would redo that work several times over while the
// caller speaks without making the last answer faster (measured:
// docs/decisions/offline-recognizer.md). The decode starts before the VAD's end of speech, after
// `earlyDecodeMs` of silence, and its transcript is the utterance's if the caller stays silent
// until the VAD ends the speech; a caller who speaks again makes it void, and the end of speech
// decodes the whole utterance (docs/decisions/early-decode.md).
import {
  normalizeLanguage,
  stt,
  VADEventType,
  type APIConnectOptions,
  type AudioBuffer,
  type VAD,
  type VADEvent,
} from '@livekit/agents';
import { AudioResampler, type AudioFrame } from '@livekit/rtc-node';
import { firstChannel, joinFrames, resampleFrames } from '../audio.js';
import { CallVad } from './call-vad.js';
import { MOONSHINE_SAMPLE_RATE } from './moonshine-native.js';

export {
  MoonshineModel,
  MoonshineUnavailableError,
  MOONSHINE_LANGUAGE,
} from './moonshine-native.js';

const RATE = MOONSHINE_SAMPLE_RATE;

/** Speech shorter than this is a click or a breath, not words: it gets no transcript. */
export const MIN_UTTERANCE_MS = 100;

/** What the stream needs of the model (the tests give a fake). */
export interface Transcriber {
  transcribe(pcm: Int16Array): Promise<string>;
}

/** Mono 16 kHz PCM from frames, whatever rate they came at. */
export function toModelPcm(frames: AudioFrame[]): Int16Array {
  if (frames.length === 0) return new Int16Array(0);
  return joinFrames(resampleFrames(frames.map(firstChannel), RATE)).data;
}

function finalEvent(text: string, seconds: number, speechEndTime?: number): stt.SpeechEvent {
  return {
    type: stt.SpeechEventType.FINAL_TRANSCRIPT,
    alternatives: [
      {
        language: normalizeLanguage('en-US'),
        text,
        startTime: 0,
        endTime: seconds,
        confidence: text ? 1 : 0,
      },
    ],
    ...(speechEndTime !== undefined ? { speechEndTime } : {}),
  };
}

/**
 * The framework's STT over the process's shared model. Create one per session (it is cheap): the
 * framework subscribes to the STT it is given and never unsubscribes, so a shared instance would
 * collect listeners call after call. With a VAD it streams; without one it transcribes whole
 * utterances. English only (tiny-en): a use case in another language must not be given it.
 */
export class MoonshineSTT extends stt.STT {
  label = 'moonshine.STT';
  /** Decodes of this STT's streams: started early, of them used, and decoded at the end of speech. */
  readonly decodes = { early: 0, earlyUsed: 0, atEnd: 0 };

  constructor(
    private readonly shared: Transcriber,
    private readonly vad?: VAD,
    private readonly opts: MoonshineStreamOptions = {},
  ) {
    super({ streaming: vad !== undefined, interimResults: false });
    const early = opts.earlyDecodeMs;
    if (early !== undefined && !(Number.isFinite(early) && early >= 0)) {
      throw new Error(`earlyDecodeMs must be a number of milliseconds ≥ 0, not ${early}`);
    }
  }

  override get model(): string {
    return 'moonshine-tiny-en';
  }

  override get provider(): string {
    return 'moonshine';
  }

  protected async _recognize(buffer: AudioBuffer): Promise<stt.SpeechEvent> {
    const pcm = toModelPcm(Array.isArray(buffer) ? buffer : [buffer]);
    const text = pcm.length > 0 ? (await this.shared.transcribe(pcm)).trim() : '';
    return finalEvent(text, pcm.length / RATE);
  }

  stream(options?: { connOptions?: APIConnectOptions }): stt.SpeechStream {
    if (!this.vad) throw new Error('MoonshineSTT streams only when given a VAD');
    return new MoonshineStream(this, this.shared, this.vad, this.opts, options?.connOptions);
  }
}

export interface MoonshineStreamOptions {
  /**
   * Silence inside speech (the VAD's raw count of silent windows) after which the utterance so far
   * is decoded, before the VAD's end of speech. 0 or unset: decode at the end of speech only.
   */
  earlyDecodeMs?: number;
}

/** One utterance's audio at 16 kHz, gathered while the caller speaks. */
class UtteranceAudio {
  private readonly chunks: Int16Array[] = [];
  private resampler: AudioResampler | undefined;
  /** The longest run of speech the VAD reported in it (ms). */
  speechMs = 0;

  /**
   * Frames at another rate (a VAD stream fed at the session's input rate) go through one
   * resampler for the whole utterance: resampling each event's few frames on their own would
   * break the audio at every seam. The frames are copied now: the VAD reuses its buffers.
   */
  add(frames: AudioFrame[]): void {
    let mono = frames.map(firstChannel);
    const rate = mono[0]?.sampleRate;
    if (rate !== undefined && rate !== RATE) {
      this.resampler ??= new AudioResampler(rate, RATE, 1);
      mono = mono.flatMap((f) => this.resampler!.push(f));
    }
    if (mono.length > 0) this.chunks.push(joinFrames(mono).data);
  }

  /** All of it, the resampler's tail included. */
  finish(): Int16Array {
    if (this.resampler) {
      const tail = this.resampler.flush();
      if (tail.length > 0) this.chunks.push(joinFrames(tail).data);
      this.close();
    }
    return this.sofar();
  }

  /** What it holds now, in one array (the resampler keeps its last few samples). */
  sofar(): Int16Array {
    const pcm = new Int16Array(this.chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of this.chunks) {
      pcm.set(c, at);
      at += c.length;
    }
    return pcm;
  }

  close(): void {
    this.resampler?.close();
    this.resampler = undefined;
  }
}

/** A decode of the utterance so far, started in a silence inside it. */
interface EarlyDecode {
  text: Promise<string>;
  /** The VAD's run of silence when it started: a shorter run later means the caller spoke. */
  silenceMs: number;
}

class MoonshineStream extends stt.SpeechStream {
  label = 'moonshine.SpeechStream';
  private utterance: UtteranceAudio | undefined;
  private early: EarlyDecode | undefined;

  constructor(
    private readonly owner: MoonshineSTT,
    private readonly shared: Transcriber,
    private readonly vad: VAD,
    private readonly opts: MoonshineStreamOptions,
    connOptions?: APIConnectOptions,
  ) {
    // The base class resamples the caller's audio to 16 kHz: what the VAD and the model want.
    super(owner, RATE, connOptions);
  }

  // Events go straight to `output`, as the framework's own VAD-driven adapter does.
  protected override async monitorMetrics(): Promise<void> {}

  protected async run(): Promise<void> {
    try {
      if (this.vad instanceof CallVad) await this.followCallVad(this.vad);
      else await this.runOwnVad();
    } finally {
      this.utterance?.close();
      this.utterance = undefined;
      this.early = undefined;
    }
  }

  /** The session's VAD stream already runs over this audio: transcribe by its events. */
  private async followCallVad(vad: CallVad): Promise<void> {
    const ended = new AbortController();
    const drain = async () => {
      try {
        for await (const frame of this.input) void frame; // the events carry the audio
      } finally {
        ended.abort();
      }
    };
    const recognize = async () => {
      for await (const ev of vad.follow(ended.signal)) await this.onVad(ev);
    };
    await Promise.all([drain(), recognize()]);
  }

  private async runOwnVad(): Promise<void> {
    const vadStream = this.vad.stream();
    const forward = async () => {
      try {
        for await (const input of this.input) {
          if (typeof input === 'symbol') vadStream.flush();
          else vadStream.pushFrame(input);
        }
      } finally {
        vadStream.close();
      }
    };
    const recognize = async () => {
      for await (const ev of vadStream) await this.onVad(ev);
    };
    await Promise.all([forward(), recognize()]);
  }

  private async onVad(ev: VADEvent): Promise<void> {
    if (ev.type === VADEventType.START_OF_SPEECH) {
      this.output.put({ type: stt.SpeechEventType.START_OF_SPEECH });
      this.utterance?.close();
      this.utterance = new UtteranceAudio();
      this.utterance.add(ev.frames); // the speech so far, with the VAD's prefix padding
      this.utterance.speechMs = ev.speechDuration;
      this.early = undefined;
    } else if (ev.type === VADEventType.INFERENCE_DONE && this.utterance && ev.speaking) {
      this.utterance.add(ev.frames);
      this.utterance.speechMs = Math.max(this.utterance.speechMs, ev.speechDuration);
      this.followSilence(this.utterance, ev);
    } else if (ev.type === VADEventType.END_OF_SPEECH && this.utterance) {
      const speechEndTime = Date.now() - ev.silenceDuration - ev.inferenceDuration;
      this.output.put({ type: stt.SpeechEventType.END_OF_SPEECH, speechEndTime });
      const utterance = this.utterance;
      const early = this.early;
      this.utterance = undefined;
      this.early = undefined;
      await this.transcribe(utterance, speechEndTime, early);
    }
  }

  /**
   * Starts the early decode once the silence inside speech is long enough, and voids it when the
   * caller speaks again. A window's event carries the VAD's counts up to the window before it, so
   * speech in any window after the decode started shows in a later event as raw speech, or as a
   * run of silence shorter than the decode's.
   */
  private followSilence(utterance: UtteranceAudio, ev: VADEvent): void {
    const silenceMs = ev.rawAccumulatedSilence;
    if (this.early && (ev.rawAccumulatedSpeech > 0 || silenceMs < this.early.silenceMs)) {
      this.early = undefined;
    }
    const after = this.opts.earlyDecodeMs ?? 0;
    if (this.early || after <= 0 || silenceMs < after || !this.heardWords(utterance)) return;
    const text = this.shared.transcribe(utterance.sofar()).then((t) => t.trim());
    text.catch(() => undefined); // a voided decode's failure is nobody's; a used one's is awaited
    this.early = { text, silenceMs };
    this.owner.decodes.early += 1;
  }

  /** Whether an utterance is long enough to hold words (a click or a breath is not). */
  private heardWords(utterance: UtteranceAudio, pcm?: Int16Array): boolean {
    if (utterance.speechMs < MIN_UTTERANCE_MS) return false;
    return pcm === undefined || (pcm.length * 1000) / RATE >= MIN_UTTERANCE_MS;
  }

  private async transcribe(
    utterance: UtteranceAudio,
    speechEndTime: number,
    early: EarlyDecode | undefined,
  ): Promise<void> {
    const pcm = utterance.finish();
    if (!this.heardWords(utterance, pcm)) return;
    let text: string;
    if (early) {
      text = await early.text;
      this.owner.decodes.earlyUsed += 1;
    } else {
      text = (await this.shared.transcribe(pcm)).trim();
      this.owner.decodes.atEnd += 1;
    }
    if (text) this.output.put(finalEvent(text, pcm.length / RATE, speechEndTime));
  }
}
