// Moonshine (English only), the offline speech recognizer, in-process through koffi: tiny-en by
// default, base-en when MOONSHINE_MODEL says so (fewer word errors for more CPU and memory:
// docs/decisions/offline-recognizer.md). The C library, its ONNX Runtime and the models live in
// .tools/moonshine (installed by `npm run setup`, scripts/setup/moonshine.mjs); nothing is fetched
// at run time.
//
// A transcriber holds 100-140 MB (base-en: up to 750 MB more while it decodes), so a process
// loads one and every call of the process shares it. Beside it, a voice detector of the library's
// own (a second handle with no model, a few MB).
// Its calls run on koffi's worker threads, never on the event loop that carries the calls' audio.
// The library serializes the work of one transcriber itself, but the transcript it returns is
// owned by the transcriber and valid only until its next call: so calls into it are queued here,
// and each result is read before the next call starts.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi, { type LibraryHandle } from 'koffi';

export class MoonshineUnavailableError extends Error {
  override name = 'MoonshineUnavailableError';
}

/** The variable that points the agent at another Moonshine directory (docs/configuration.md). */
export const MOONSHINE_DIR_ENV = 'MOONSHINE_DIR';
/** What the model understands: tiny-en is trained on English only. */
export const MOONSHINE_LANGUAGE = 'en';
export const MOONSHINE_SAMPLE_RATE = 16000;

/** The variable that picks the model (docs/configuration.md); tiny-en unless it says otherwise. */
export const MOONSHINE_MODEL_ENV = 'MOONSHINE_MODEL';
/**
 * The models the setup installs, each with the architecture the library is told (moonshine_api.py's
 * ModelArch). tiny-en comes with the library; base-en from the authors' moonshine.cpp wheel.
 */
export const MOONSHINE_MODELS = { 'tiny-en': 0, 'base-en': 1 } as const;
export type MoonshineModelName = keyof typeof MOONSHINE_MODELS;
export const DEFAULT_MOONSHINE_MODEL: MoonshineModelName = 'tiny-en';
const MODEL_FILES = ['encoder_model.ort', 'decoder_model_merged.ort', 'tokenizer.bin'];
/** The header version the wheel's own binding (moonshine_api.py) passes. */
const HEADER_VERSION = 30000;

/** moonshine_transcribe_stream: analyse all the stream's audio now. */
const FLAG_FORCE_UPDATE = 1;

/**
 * Read by the library when it opens its ONNX Runtime sessions: one thread per decode. With the
 * runtime's default (a pool per session, as many threads as cores, spinning between operators) a
 * decode cost 2.5 times the CPU for the same words, and was no faster on two cores shared by
 * calls (docs/decisions/cpu-per-call.md). "0" in the environment keeps the default.
 */
const SINGLE_THREAD_ENV = 'MOONSHINE_ORT_SINGLE_THREAD';

/**
 * The session's VAD has already cut the utterance, so the transcriber hears all of it as one line:
 * with its own detector on (threshold 0.5) it trimmed and split utterances and lost words (phone-
 * band benchmark: 25.6% against 21.9% word errors, docs/decisions/offline-recognizer.md).
 */
const TRANSCRIBER_OPTIONS = [{ name: 'vad_threshold', value: '0.0' }];
/**
 * The library's detector alone decides whether an utterance holds speech: fed noise or silence,
 * the transcriber without its detector makes up a word ("You"). No model is loaded for it.
 */
const DETECTOR_OPTIONS = [{ name: 'skip_transcription', value: 'true' }];
/** The directory and architecture the detector is opened with, whichever model transcribes. */
const DETECTOR_MODEL: MoonshineModelName = 'tiny-en';

// The C structures (moonshine-c-api.h), laid out as moonshine_api.py's ctypes declares them.
// Anonymous: koffi's type names are global to the process, and a module may be loaded twice.
const Option = koffi.struct({ name: 'const char *', value: 'const char *' });
const TranscriptWord = koffi.struct({
  text: 'void *',
  start: 'float',
  end: 'float',
  confidence: 'float',
});
const SpeakerSpan = koffi.struct({
  start_time: 'float',
  duration: 'float',
  speaker_id: 'uint64_t',
  speaker_index: 'uint32_t',
  start_char: 'uint64_t',
  end_char: 'uint64_t',
});
const TranscriptLine = koffi.struct({
  text: 'const char *',
  audio_data: 'void *',
  audio_data_count: 'size_t',
  start_time: 'float',
  duration: 'float',
  id: 'uint64_t',
  is_complete: 'int8_t',
  is_updated: 'int8_t',
  is_new: 'int8_t',
  has_text_changed: 'int8_t',
  have_speakers_changed: 'int8_t',
  speaker_spans: 'void *',
  speaker_span_count: 'uint64_t',
  last_transcription_latency_ms: 'uint32_t',
  words: 'void *',
  word_count: 'uint64_t',
});
const Transcript = koffi.struct({
  lines: 'void *',
  line_count: 'uint64_t',
});

/**
 * The sizes the compiled library expects (the checks moonshine_api.py makes): a drifted layout
 * would walk the native arrays with the wrong stride and crash instead of failing clearly.
 */
const STRUCT_SIZES: [unknown, number][] = [
  [TranscriptWord, 24],
  [SpeakerSpan, 40],
  [TranscriptLine, 88],
  [Transcript, 16],
];

function checkLayout(): void {
  for (const [type, size] of STRUCT_SIZES) {
    if (koffi.sizeof(type as never) !== size) {
      throw new MoonshineUnavailableError(
        `Moonshine ABI mismatch: a transcript structure is ${koffi.sizeof(type as never)} bytes, not ${size}`,
      );
    }
  }
}

function bind(lib: LibraryHandle) {
  return {
    errorToString: lib.func('const char *moonshine_error_to_string(int32_t error)'),
    load: lib.func('moonshine_load_transcriber_from_files', 'int32_t', [
      'const char *',
      'uint32_t',
      koffi.pointer(Option),
      'uint64_t',
      'int32_t',
    ]),
    free: lib.func('void moonshine_free_transcriber(int32_t handle)'),
    createStream: lib.func('int32_t moonshine_create_stream(int32_t handle, uint32_t flags)'),
    startStream: lib.func('int32_t moonshine_start_stream(int32_t handle, int32_t stream)'),
    stopStream: lib.func('int32_t moonshine_stop_stream(int32_t handle, int32_t stream)'),
    freeStream: lib.func('int32_t moonshine_free_stream(int32_t handle, int32_t stream)'),
    addAudio: lib.func(
      'int32_t moonshine_transcribe_add_audio_to_stream(int32_t handle, int32_t stream, const float *audio, uint64_t length, int32_t rate, uint32_t flags)',
    ),
    transcribeStream: lib.func(
      'int32_t moonshine_transcribe_stream(int32_t handle, int32_t stream, uint32_t flags, _Out_ void **out)',
    ),
  };
}

type Native = ReturnType<typeof bind>;

/**
 * Calls `fn` on a koffi worker thread. koffi keeps only the callback of an async call alive, not
 * its arguments: the callback holds `args` so an audio buffer cannot be collected while the worker
 * thread reads it.
 */
function onWorker<T>(fn: { async: (...a: unknown[]) => void }, ...args: unknown[]): Promise<T> {
  return new Promise<T>((resolve, reject) =>
    fn.async(...args, (err: unknown, v: T) => {
      void args;
      if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve(v);
    }),
  );
}

/** The repository's root: the nearest directory above this module (or its bundle) with a package.json. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** Where the recognizer is: `opts.dir`, else MOONSHINE_DIR, else .tools/moonshine in the repo. */
export function moonshineDir(dir?: string): string {
  return resolve(dir ?? process.env[MOONSHINE_DIR_ENV] ?? join(repoRoot(), '.tools', 'moonshine'));
}

/** Which model: `name`, else MOONSHINE_MODEL, else tiny-en; an unknown name is a clear error. */
export function moonshineModelName(name?: string): MoonshineModelName {
  const chosen = name ?? process.env[MOONSHINE_MODEL_ENV] ?? DEFAULT_MOONSHINE_MODEL;
  if (!Object.hasOwn(MOONSHINE_MODELS, chosen)) {
    throw new MoonshineUnavailableError(
      `unknown Moonshine model "${chosen}" (${MOONSHINE_MODEL_ENV}): one of ${Object.keys(MOONSHINE_MODELS).join(', ')}`,
    );
  }
  return chosen as MoonshineModelName;
}

/** The files `model` needs under `dir`, or an error saying to run the setup. */
function checkInstalled(dir: string, model: MoonshineModelName): void {
  const models = new Set<string>([DETECTOR_MODEL, model]);
  const files = [
    join('lib', 'libmoonshine.so'),
    ...[...models].flatMap((m) => MODEL_FILES.map((f) => join(m, f))),
  ];
  const missing = files.filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    throw new MoonshineUnavailableError(
      `the offline speech recognizer (Moonshine ${model}) is not installed in ${dir} (missing ${missing.join(', ')}); run npm run setup`,
    );
  }
}

function loadLibrary(dir: string): Native {
  checkLayout();
  process.env[SINGLE_THREAD_ENV] ??= '1';
  try {
    return bind(koffi.load(join(dir, 'lib', 'libmoonshine.so')));
  } catch (cause) {
    throw new MoonshineUnavailableError(
      `the Moonshine library in ${dir} does not load (${(cause as Error).message}); run npm run setup`,
      { cause },
    );
  }
}

function errorText(native: Native, code: number): string {
  return native.errorToString(code) ?? `error ${code}`;
}

/** A transcript's lines' text, read while the transcriber still owns them. */
function transcriptLines(out: unknown): string[] {
  if (!out) return [];
  const t = koffi.decode(out, Transcript) as { lines: unknown; line_count: number | bigint };
  const count = Number(t.line_count);
  if (count === 0 || !t.lines) return [];
  const lines = koffi.decode(t.lines, TranscriptLine, count) as { text: string | null }[];
  return lines.map((l) => (l.text ?? '').trim());
}

/** Float samples in [-1, 1], as the library takes them. */
function toFloat(pcm: Int16Array): Float32Array {
  const out = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = pcm[i]! / 32768;
  return out;
}

const shared = new Map<string, Promise<MoonshineModel>>();

/** One Moonshine transcriber, shared by every session of the process. */
export class MoonshineModel {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly native: Native,
    private readonly handle: number,
    private readonly detector: number,
    /** The directory the recognizer was loaded from. */
    readonly dir: string,
    /** The model it runs. */
    readonly modelName: MoonshineModelName,
  ) {}

  /**
   * The process's transcriber for `dir` and `model` (loaded on a worker thread the first time:
   * call it at prewarm). MoonshineUnavailableError when the files are missing or do not load, or
   * the model is not one the setup installs.
   */
  static load(opts: { dir?: string; model?: string } = {}): Promise<MoonshineModel> {
    let name: MoonshineModelName;
    try {
      name = moonshineModelName(opts.model);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const dir = moonshineDir(opts.dir);
    const key = join(dir, name);
    let model = shared.get(key);
    if (!model) {
      model = MoonshineModel.create(dir, name);
      model.catch(() => shared.delete(key));
      shared.set(key, model);
    }
    return model;
  }

  private static async create(dir: string, name: MoonshineModelName): Promise<MoonshineModel> {
    checkInstalled(dir, name);
    const native = loadLibrary(dir);
    const open = async (model: MoonshineModelName, options: { name: string; value: string }[]) => {
      const path = join(dir, model);
      const args = [path, MOONSHINE_MODELS[model], options, options.length, HEADER_VERSION];
      const handle = await onWorker<number>(native.load, ...args);
      if (handle < 0) {
        throw new MoonshineUnavailableError(
          `Moonshine could not load the model in ${path}: ${errorText(native, handle)}; run npm run setup`,
        );
      }
      return handle;
    };
    const detector = await open(DETECTOR_MODEL, DETECTOR_OPTIONS);
    try {
      return new MoonshineModel(native, await open(name, TRANSCRIBER_OPTIONS), detector, dir, name);
    } catch (err) {
      native.free(detector);
      throw err;
    }
  }

  /**
   * The words in a whole utterance of 16 kHz mono PCM ('' when it hears none): the detector looks
   * for speech in it, and only then the transcriber hears all of it. Each utterance goes through
   * streams of its own, started fresh: the library's detector keeps its state from one
   * non-streaming call to the next, so there one caller's speech made the start of the next
   * utterance, or silence, come back as a made-up word ("You").
   */
  transcribe(pcm: Int16Array): Promise<string> {
    if (pcm.length === 0) return Promise.resolve('');
    return this.serialized(async () => {
      const audio = toFloat(pcm);
      if ((await this.linesOf(this.detector, audio)).length === 0) return '';
      return (await this.linesOf(this.handle, audio)).filter(Boolean).join(' ');
    });
  }

  /** The lines `handle` finds in `audio`, through a fresh stream analysed at once. */
  private async linesOf(handle: number, audio: Float32Array): Promise<string[]> {
    const n = this.native;
    const stream = this.check(n.createStream(handle, 0), 'create a stream');
    try {
      this.check(n.startStream(handle, stream), 'start a stream');
      const add = [handle, stream, audio, audio.length, MOONSHINE_SAMPLE_RATE, 0];
      this.check(await onWorker<number>(n.addAudio, ...add), 'take audio');
      const out: unknown[] = [null];
      const rc = await onWorker<number>(n.transcribeStream, handle, stream, FLAG_FORCE_UPDATE, out);
      this.check(rc, 'transcribe');
      const lines = transcriptLines(out[0]); // read before the handle's next call frees it
      n.stopStream(handle, stream);
      return lines;
    } finally {
      n.freeStream(handle, stream);
    }
  }

  /** A call's result code (or a handle), or an error naming what failed. */
  private check(rc: number, what: string): number {
    if (rc < 0) throw new Error(`Moonshine could not ${what}: ${errorText(this.native, rc)}`);
    return rc;
  }

  /** Frees the transcriber once the queued calls are done; the process's next load makes another. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    shared.delete(join(this.dir, this.modelName));
    await this.queue.catch(() => undefined);
    this.native.free(this.handle);
    this.native.free(this.detector);
  }

  private serialized<T>(call: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the Moonshine model is closed'));
    const result = this.queue.then(call, call);
    this.queue = result.catch(() => undefined);
    return result;
  }
}
