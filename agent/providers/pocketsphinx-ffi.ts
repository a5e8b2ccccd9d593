// The koffi binding to CMU PocketSphinx (libpocketsphinx3, libsphinxbase3): one decoder's
// operations, the slow ones (model load, search) on koffi's worker threads.
import koffi, { type LibraryHandle } from 'koffi';

export const DEBIAN_PACKAGES = ['libpocketsphinx3', 'pocketsphinx-en-us'];

export class PocketSphinxUnavailableError extends Error {
  override name = 'PocketSphinxUnavailableError';
}

export type Decoder = unknown;

/** What the decoder pool does with a decoder. */
export interface Native {
  init(args: string[]): Promise<Decoder>;
  start(d: Decoder): void;
  /**
   * Feeds 16 kHz mono PCM to an utterance in progress (on a worker thread). `whole`: this is the
   * entire utterance, so cepstral normalisation can use all of it (more accurate than live).
   */
  feed(d: Decoder, pcm: Int16Array, whole?: boolean): Promise<void>;
  /** Ends the utterance (the second search pass runs here) and returns its hypothesis. */
  finish(d: Decoder): Promise<string>;
  /** The decoder's current cepstral mean (what live CMN has learned). */
  cepstralMean(d: Decoder): number[];
  free(d: Decoder): void;
}

function loadLibraries(): { ps: LibraryHandle; sb: LibraryHandle } {
  try {
    return { ps: koffi.load('libpocketsphinx.so.3'), sb: koffi.load('libsphinxbase.so.3') };
  } catch (cause) {
    throw new PocketSphinxUnavailableError(
      `PocketSphinx is not installed; install the Debian packages ${DEBIAN_PACKAGES.join(' ')}`,
      { cause },
    );
  }
}

/**
 * Silences the library once, here on the main thread. Its `-logfn` argument would instead swap a
 * process-wide log file inside every ps_init, which runs on koffi's worker threads while other
 * decoders may be writing to it.
 */
function silenceLibraryLog(sb: LibraryHandle): void {
  sb.func('void err_set_logfp(void *fp)')(null);
  sb.func('void err_set_callback(void *cb, void *data)')(null, null);
}

/** The C functions the decoders use. */
function bindFunctions(ps: LibraryHandle, sb: LibraryHandle) {
  return {
    psArgs: ps.func('void *ps_args(void)'),
    cmdLnInit: sb.func('void *cmd_ln_init(void *inout, void *defn, int strict, ...)'),
    psInit: ps.func('void *ps_init(void *config)'),
    startUtt: ps.func('int ps_start_utt(void *ps)'),
    endUtt: ps.func('int ps_end_utt(void *ps)'),
    processRaw: ps.func(
      'int ps_process_raw(void *ps, const int16_t *data, size_t n, int no_search, int full_utt)',
    ),
    getHyp: ps.func('const char *ps_get_hyp(void *ps, _Out_ int32_t *score)'),
    getFeat: ps.func('void *ps_get_feat(void *ps)'),
    psFree: ps.func('int ps_free(void *ps)'),
    cmnLiveGet: sb.func('void cmn_live_get(void *cmn, _Out_ float *vec)'),
  };
}

type NativeFunctions = ReturnType<typeof bindFunctions>;

/**
 * Calls `fn` on a koffi worker thread. koffi keeps only the callback of an async call alive, not
 * its arguments: the callback holds `args` so an audio buffer cannot be collected while the worker
 * thread reads it.
 */
function onWorker<T>(fn: { async: (...a: unknown[]) => void }, ...args: unknown[]): Promise<T> {
  return new Promise<T>((resolve, reject) =>
    fn.async(...args, (err: unknown, v: T) => {
      void args;
      if (err) reject(err);
      else resolve(v);
    }),
  );
}

const FEAT_CEPSIZE_OFFSET = 16;
const FEAT_CMN_STRUCT_OFFSET = 88;

/**
 * The decoder's live cepstral mean, read through feat_t's cepsize and cmn_struct at their offsets
 * in libsphinxbase3 (5prealpha) on 64-bit Linux. No public getter exists; callers check the result
 * against a known mean.
 */
function liveCepstralMean(f: NativeFunctions, d: Decoder): number[] {
  const feat = f.getFeat(d);
  const size = koffi.decode(feat, FEAT_CEPSIZE_OFFSET, 'int32') as number;
  const cmn = koffi.decode(feat, FEAT_CMN_STRUCT_OFFSET, 'void *');
  const mean = new Float32Array(size);
  f.cmnLiveGet(cmn, mean);
  return [...mean].map((v) => Math.round(v * 100) / 100);
}

async function initDecoder(f: NativeFunctions, args: string[]): Promise<Decoder> {
  const varargs = args.flatMap((a) => ['str', a]);
  const config = f.cmdLnInit(null, f.psArgs(), 1, ...varargs, 'str', null);
  if (!config) throw new PocketSphinxUnavailableError('PocketSphinx rejected its arguments');
  const decoder = await onWorker<Decoder>(f.psInit, config);
  if (!decoder) throw new PocketSphinxUnavailableError('PocketSphinx could not load its model');
  return decoder;
}

/** The decoder operations over the bound C functions. */
function nativeOver(f: NativeFunctions): Native {
  return {
    init: (args) => initDecoder(f, args),
    start(d) {
      if (f.startUtt(d) < 0) throw new Error('ps_start_utt failed');
    },
    async feed(d, pcm, whole = false) {
      if (pcm.length === 0) return;
      const rc = await onWorker<number>(f.processRaw, d, pcm, pcm.length, 0, whole ? 1 : 0);
      if (rc < 0) throw new Error('ps_process_raw failed');
    },
    async finish(d) {
      await onWorker<number>(f.endUtt, d);
      return ((await onWorker<string | null>(f.getHyp, d, [0])) as string | null) ?? '';
    },
    cepstralMean: (d) => liveCepstralMean(f, d),
    free(d) {
      f.psFree(d);
    },
  };
}

/** Loads the libraries; PocketSphinxUnavailableError when they are not installed. */
export function loadNative(): Native {
  const { ps, sb } = loadLibraries();
  silenceLibraryLog(sb);
  return nativeOver(bindFunctions(ps, sb));
}
