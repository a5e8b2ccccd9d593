// Offline speech-to-text: CMU PocketSphinx (Debian's libpocketsphinx3 + pocketsphinx-en-us),
// in-process through the koffi FFI. Not streaming: the framework wraps it with its VAD
// (stt.StreamAdapter) and hands it each utterance when the caller stops speaking.
//
// Why batch and one shared decoder: a decoder holds ~96 MB (the 26 MB language model and its
// search structures) and takes ~0.5 s to create, while decoding an utterance takes 0.1-0.2 of its
// duration. So every session of the process shares a small pool of decoders (default one),
// utterances queue for it, and the decode runs on a koffi worker thread, off the event loop that
// carries the call's audio.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { normalizeLanguage, stt, type AudioBuffer } from '@livekit/agents';
import { combineAudioFrames, type AudioFrame } from '@livekit/rtc-node';
import { firstChannel, resampleFrames } from '../audio.js';
import koffi, { type LibraryHandle } from 'koffi';

export const DEBIAN_PACKAGES = ['libpocketsphinx3', 'pocketsphinx-en-us'];
const MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';
const RATE = 16000;

export class PocketSphinxUnavailableError extends Error {
  override name = 'PocketSphinxUnavailableError';
}

export interface PocketSphinxOptions {
  hmm?: string;
  lm?: string;
  dict?: string;
  /** Decoders shared by all sessions of the process. */
  decoders?: number;
  /** More PocketSphinx arguments, e.g. ['-fwdflat', 'no']. */
  extraArgs?: string[];
}

interface Native {
  init(args: string[]): Promise<unknown>;
  decode(decoder: unknown, pcm: Int16Array): Promise<string>;
}

function loadNative(): Native {
  let ps: LibraryHandle;
  let sb: LibraryHandle;
  try {
    ps = koffi.load('libpocketsphinx.so.3');
    sb = koffi.load('libsphinxbase.so.3');
  } catch (cause) {
    throw new PocketSphinxUnavailableError(
      `PocketSphinx is not installed; install the Debian packages ${DEBIAN_PACKAGES.join(' ')}`,
      { cause },
    );
  }
  const psArgs = ps.func('void *ps_args(void)');
  const cmdLnInit = sb.func('void *cmd_ln_init(void *inout, void *defn, int strict, ...)');
  const psInit = ps.func('void *ps_init(void *config)');
  const startUtt = ps.func('int ps_start_utt(void *ps)');
  const endUtt = ps.func('int ps_end_utt(void *ps)');
  const processRaw = ps.func(
    'int ps_process_raw(void *ps, const int16_t *data, size_t n, int no_search, int full_utt)',
  );
  const getHyp = ps.func('const char *ps_get_hyp(void *ps, _Out_ int32_t *score)');
  return {
    init(args) {
      const varargs = args.flatMap((a) => ['str', a]);
      const config = cmdLnInit(null, psArgs(), 1, ...varargs, 'str', null);
      if (!config)
        throw new PocketSphinxUnavailableError('PocketSphinx rejected its configuration');
      const decoder = psInit(config);
      if (!decoder) throw new PocketSphinxUnavailableError('PocketSphinx could not load its model');
      return decoder;
    },
    async decode(decoder, pcm) {
      if (startUtt(decoder) < 0) throw new Error('ps_start_utt failed');
      // The search runs on a koffi worker thread: 0.1-0.2 s of CPU per second of speech.
      await new Promise<void>((resolve, reject) =>
        processRaw.async(decoder, pcm, pcm.length, 0, 1, (err: unknown, rc: number) =>
          err || rc < 0 ? reject(err ?? new Error('ps_process_raw failed')) : resolve(),
        ),
      );
      endUtt(decoder);
      return (getHyp(decoder, [0]) as string | null) ?? '';
    },
  };
}

/** Mono 16 kHz PCM from the utterance's frames, whatever rate they came at. */
export function toDecoderPcm(frames: AudioFrame[]): Int16Array {
  if (frames.length === 0) return new Int16Array(0);
  return combineAudioFrames(resampleFrames(frames.map(firstChannel), RATE)).data;
}

/**
 * The loaded model: a small pool of decoders shared by every session of the process. Utterances
 * queue for a free decoder.
 */
export class PocketSphinxModel {
  private readonly idle: unknown[];
  private readonly waiting: ((d: unknown) => void)[] = [];

  constructor(
    private readonly native: Native,
    decoders: unknown[],
  ) {
    this.idle = [...decoders];
  }

  /** Transcribes 16 kHz mono PCM. */
  async transcribe(pcm: Int16Array): Promise<string> {
    const decoder = this.idle.pop() ?? (await new Promise<unknown>((r) => this.waiting.push(r)));
    try {
      return await this.native.decode(decoder, pcm);
    } finally {
      const next = this.waiting.shift();
      if (next) next(decoder);
      else this.idle.push(decoder);
    }
  }
}

/**
 * The framework's STT over a shared model. Create one per session (it is cheap): the framework
 * subscribes to each STT it wraps and never unsubscribes, so a shared instance would collect
 * listeners call after call.
 */
export class PocketSphinxSTT extends stt.STT {
  label = 'pocketsphinx.STT';

  constructor(private readonly shared: PocketSphinxModel) {
    super({ streaming: false, interimResults: false });
  }

  /** Loads the model (about half a second per decoder): call it at prewarm. */
  static async loadModel(opts: PocketSphinxOptions = {}): Promise<PocketSphinxModel> {
    const hmm = opts.hmm ?? join(MODEL_DIR, 'en-us');
    const lm = opts.lm ?? join(MODEL_DIR, 'en-us.lm.bin');
    const dict = opts.dict ?? join(MODEL_DIR, 'cmudict-en-us.dict');
    for (const path of [hmm, lm, dict]) {
      if (!existsSync(path)) {
        throw new PocketSphinxUnavailableError(
          `PocketSphinx model file ${path} is missing; install the Debian packages ${DEBIAN_PACKAGES.join(' ')}`,
        );
      }
    }
    const native = loadNative();
    const args = [
      '-hmm',
      hmm,
      '-lm',
      lm,
      '-dict',
      dict,
      '-logfn',
      '/dev/null',
      ...(opts.extraArgs ?? []),
    ];
    const decoders = Array.from({ length: Math.max(1, opts.decoders ?? 1) }, () =>
      native.init(args),
    );
    return new PocketSphinxModel(native, decoders);
  }

  /** A model and one STT over it (tests, scripts). */
  static async load(opts: PocketSphinxOptions = {}): Promise<PocketSphinxSTT> {
    return new PocketSphinxSTT(await PocketSphinxSTT.loadModel(opts));
  }

  override get model(): string {
    return 'pocketsphinx-en-us';
  }

  override get provider(): string {
    return 'pocketsphinx';
  }

  protected async _recognize(buffer: AudioBuffer): Promise<stt.SpeechEvent> {
    const frames = Array.isArray(buffer) ? buffer : [buffer];
    const pcm = toDecoderPcm(frames);
    const text = pcm.length > 0 ? await this.shared.transcribe(pcm) : '';
    return {
      type: stt.SpeechEventType.FINAL_TRANSCRIPT,
      alternatives: [
        {
          language: normalizeLanguage('en-US'),
          text,
          startTime: 0,
          endTime: pcm.length / RATE,
          confidence: text ? 1 : 0,
        },
      ],
    };
  }

  stream(): stt.SpeechStream {
    throw new Error('PocketSphinxSTT is not streaming: the session wraps it with its VAD');
  }
}
