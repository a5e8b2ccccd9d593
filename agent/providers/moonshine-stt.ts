// Offline speech-to-text: Moonshine tiny-en in-process (./moonshine-native.ts), English only. The
// stream follows VAD events over the caller's audio (the session's own VAD stream, given a
// CallVad), keeps each utterance's audio while it is spoken, and transcribes the whole utterance
// when the VAD says the caller is done: tiny-en decodes a few seconds of speech in a fraction of a
// second, and its streaming calls would redo that work several times over while the caller speaks
// without making the last answer faster (measured: docs/decisions/offline-recognizer.md).
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

  constructor(
    private readonly shared: Transcriber,
    private readonly vad?: VAD,
  ) {
    super({ streaming: vad !== undefined, interimResults: false });
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
    return new MoonshineStream(this, this.shared, this.vad, options?.connOptions);
  }
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

class MoonshineStream extends stt.SpeechStream {
  label = 'moonshine.SpeechStream';
  private utterance: UtteranceAudio | undefined;

  constructor(
    owner: MoonshineSTT,
    private readonly shared: Transcriber,
    private readonly vad: VAD,
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
    } else if (ev.type === VADEventType.INFERENCE_DONE && this.utterance && ev.speaking) {
      this.utterance.add(ev.frames);
      this.utterance.speechMs = Math.max(this.utterance.speechMs, ev.speechDuration);
    } else if (ev.type === VADEventType.END_OF_SPEECH && this.utterance) {
      const speechEndTime = Date.now() - ev.silenceDuration - ev.inferenceDuration;
      this.output.put({ type: stt.SpeechEventType.END_OF_SPEECH, speechEndTime });
      const utterance = this.utterance;
      this.utterance = undefined;
      await this.transcribe(utterance, speechEndTime);
    }
  }

  private async transcribe(utterance: UtteranceAudio, speechEndTime: number): Promise<void> {
    const pcm = utterance.finish();
    if (utterance.speechMs < MIN_UTTERANCE_MS || (pcm.length * 1000) / RATE < MIN_UTTERANCE_MS) {
      return;
    }
    const text = (await this.shared.transcribe(pcm)).trim();
    if (text) this.output.put(finalEvent(text, pcm.length / RATE, speechEndTime));
  }
}
