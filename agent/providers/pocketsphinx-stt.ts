// Offline speech-to-text: PocketSphinx in-process (./pocketsphinx-native.ts), streaming. The stream
// follows VAD events over the caller's audio (the session's own VAD stream, given a CallVad) and
// decodes each utterance while it is spoken, so when the caller stops only the last few hundred
// milliseconds remain to decode: the answer is ready about when the VAD says the caller is done.
import {
  normalizeLanguage,
  stt,
  VADEventType,
  type APIConnectOptions,
  type AudioBuffer,
  type VAD,
  type VADEvent,
} from '@livekit/agents';
import { AudioResampler, combineAudioFrames, type AudioFrame } from '@livekit/rtc-node';
import { firstChannel, resampleFrames } from '../audio.js';
import { CallVad } from './call-vad.js';
import {
  PocketSphinxModel,
  type PocketSphinxOptions,
  type Utterance,
} from './pocketsphinx-native.js';

export {
  DEBIAN_PACKAGES,
  PocketSphinxModel,
  PocketSphinxUnavailableError,
  TELEPHONE_CEPSTRAL_MEAN,
  type PocketSphinxOptions,
} from './pocketsphinx-native.js';

const RATE = 16000;

/** Mono 16 kHz PCM from frames, whatever rate they came at. */
export function toDecoderPcm(frames: AudioFrame[]): Int16Array {
  if (frames.length === 0) return new Int16Array(0);
  return combineAudioFrames(resampleFrames(frames.map(firstChannel), RATE)).data;
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
 * The framework's STT over a shared model. Create one per session (it is cheap): the framework
 * subscribes to the STT it is given and never unsubscribes, so a shared instance would collect
 * listeners call after call. With a VAD it streams; without one it transcribes whole utterances.
 */
export class PocketSphinxSTT extends stt.STT {
  label = 'pocketsphinx.STT';

  constructor(
    private readonly shared: PocketSphinxModel,
    private readonly vad?: VAD,
  ) {
    super({ streaming: vad !== undefined, interimResults: false });
  }

  static loadModel(opts: PocketSphinxOptions = {}): Promise<PocketSphinxModel> {
    return PocketSphinxModel.load(opts);
  }

  /** A model and one (non-streaming) STT over it: tests and scripts. */
  static async load(opts: PocketSphinxOptions = {}): Promise<PocketSphinxSTT> {
    return new PocketSphinxSTT(await PocketSphinxModel.load(opts));
  }

  override get model(): string {
    return 'pocketsphinx-en-us';
  }

  override get provider(): string {
    return 'pocketsphinx';
  }

  protected async _recognize(buffer: AudioBuffer): Promise<stt.SpeechEvent> {
    const pcm = toDecoderPcm(Array.isArray(buffer) ? buffer : [buffer]);
    const text = pcm.length > 0 ? await this.shared.transcribe(pcm) : '';
    return finalEvent(text, pcm.length / RATE);
  }

  stream(options?: { connOptions?: APIConnectOptions }): stt.SpeechStream {
    if (!this.vad) throw new Error('PocketSphinxSTT streams only when given a VAD');
    return new PocketSphinxStream(this, this.shared, this.vad, options?.connOptions);
  }
}

class PocketSphinxStream extends stt.SpeechStream {
  label = 'pocketsphinx.SpeechStream';
  private utterance: Promise<Utterance> | undefined;
  private speechSeconds = 0;
  private utteranceResampler: AudioResampler | undefined;

  constructor(
    owner: PocketSphinxSTT,
    private readonly shared: PocketSphinxModel,
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
      if (this.utterance) await (await this.utterance).finish().catch(() => '');
    }
  }

  /** The session's VAD stream already runs over this audio: decode by its events. */
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

  /**
   * Feeds an utterance's frames to its decoder at 16 kHz. Frames at another rate (a VAD stream fed
   * at the session's input rate) go through one resampler per utterance, flushed at its end:
   * resampling each event's few frames on their own would break the audio at every seam.
   */
  private feed(frames: AudioFrame[], last = false): void {
    let mono = frames.map(firstChannel);
    const rate = mono[0]?.sampleRate;
    if (rate !== undefined && rate !== RATE) {
      this.utteranceResampler ??= new AudioResampler(rate, RATE, 1);
      mono = mono.flatMap((f) => this.utteranceResampler!.push(f));
    }
    if (last && this.utteranceResampler) {
      mono.push(...this.utteranceResampler.flush());
      this.utteranceResampler.close();
      this.utteranceResampler = undefined;
    }
    if (mono.length === 0) return;
    const pcm = combineAudioFrames(mono).data;
    this.speechSeconds += pcm.length / RATE;
    void this.utterance?.then((u) => u.feed(pcm));
  }

  private async onVad(ev: VADEvent): Promise<void> {
    if (ev.type === VADEventType.START_OF_SPEECH) {
      this.output.put({ type: stt.SpeechEventType.START_OF_SPEECH });
      this.speechSeconds = 0;
      this.utteranceResampler?.close();
      this.utteranceResampler = undefined;
      this.utterance = this.shared.begin();
      this.feed(ev.frames); // the speech so far, with the VAD's prefix padding
    } else if (ev.type === VADEventType.INFERENCE_DONE && this.utterance && ev.speaking) {
      this.feed(ev.frames);
    } else if (ev.type === VADEventType.END_OF_SPEECH && this.utterance) {
      const speechEndTime = Date.now() - ev.silenceDuration - ev.inferenceDuration;
      this.output.put({ type: stt.SpeechEventType.END_OF_SPEECH, speechEndTime });
      this.feed([], true);
      const utterance = await this.utterance;
      this.utterance = undefined;
      const text = (await utterance.finish()).trim();
      if (text) this.output.put(finalEvent(text, this.speechSeconds, speechEndTime));
    }
  }
}
