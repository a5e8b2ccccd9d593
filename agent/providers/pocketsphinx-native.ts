// CMU PocketSphinx (Debian's libpocketsphinx3 + pocketsphinx-en-us) through the koffi FFI
// (./pocketsphinx-ffi.ts), and the pool of decoders a worker process shares between its calls.
//
// A decoder holds ~96 MB (the 26 MB language model and its search structures) and takes ~0.5 s to
// create; decoding costs 0.15-0.25 s of CPU per second of speech. So decoders are created on a
// koffi worker thread, shared by every session of the process, and each is held only while a
// caller is speaking. The search also runs on koffi's worker threads, off the event loop that
// carries the calls' audio.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEBIAN_PACKAGES,
  loadNative,
  PocketSphinxUnavailableError,
  type Decoder,
  type Native,
} from './pocketsphinx-ffi.js';

export { DEBIAN_PACKAGES, PocketSphinxUnavailableError } from './pocketsphinx-ffi.js';

const MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

export interface PocketSphinxOptions {
  hmm?: string;
  lm?: string;
  dict?: string;
  /** Decoders created at load; more are made (up to `maxDecoders`) while callers talk at once. */
  decoders?: number;
  maxDecoders?: number;
  /** More PocketSphinx arguments. */
  extraArgs?: string[];
  /**
   * The cepstral mean each decoder starts from. Streaming decoding normalises the cepstrum by the
   * mean of what it has heard so far ("live" CMN), starting from the acoustic model's default,
   * which is far from telephone-band speech: a fresh decoder misreads its first utterances. The
   * mean measured on the same kind of line (TELEPHONE_CEPSTRAL_MEAN) fixes that at no cost.
   */
  cepstralMean?: readonly number[];
}

/**
 * The cepstral mean of telephone-band speech (8 kHz content at 16 kHz) for the en-us model, as a
 * decoder leaves it after hearing about five seconds of such speech (`npm run
 * pocketsphinx:mean` measures it again, for another model or line).
 */
export const TELEPHONE_CEPSTRAL_MEAN: readonly number[] = [
  43.85, 31.31, -21.52, 53.55, -13.77, 4.07, 20.06, -26.19, 3.51, -18.74, 10.47, 15.49, -10.96,
];

/**
 * Search pruning: at most 3000 active HMMs and 5 word exits per frame, and a 10-frame phonetic
 * lookahead. A quarter less decoding CPU (179 -> 135 ms per second of telephone speech) with the
 * same words on the lab's and the tests' phrases (measured); tighter settings (-topn 2, no
 * second pass, -ds 2) cost another tenth to a half and began to misread them.
 */
const SEARCH_ARGS = ['-maxhmmpf', '3000', '-maxwpf', '5', '-pl_window', '10'];

/**
 * The model's feat.params with `-cmninit` replaced (the model's own file would override a
 * `-cmninit` argument), in the temporary directory under a name given by its content: every job
 * process of a worker uses the same file, written once.
 */
function featParamsWithMean(hmm: string, mean: readonly number[]): string {
  const own = readFileSync(join(hmm, 'feat.params'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() && !line.startsWith('-cmninit'));
  const text = [...own, `-cmninit ${mean.join(',')}`, ''].join('\n');
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const path = join(tmpdir(), `callbridge-pocketsphinx-feat-${hash}.params`);
  if (!existsSync(path)) {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  }
  return path;
}

export class PocketSphinxModel {
  private readonly idle: Decoder[] = [];
  private readonly waiting: ((d: Decoder) => void)[] = [];
  private created = 0;

  private constructor(
    private readonly native: Native,
    private readonly args: string[],
    private readonly maxDecoders: number,
    /** The acoustic model's directory. */
    readonly hmm: string,
  ) {}

  /** Loads the model (about half a second per decoder): call it at prewarm. */
  static async load(opts: PocketSphinxOptions = {}): Promise<PocketSphinxModel> {
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
    const args = ['-hmm', hmm, '-lm', lm, '-dict', dict, ...SEARCH_ARGS];
    if (opts.cepstralMean) args.push('-featparams', featParamsWithMean(hmm, opts.cepstralMean));
    args.push(...(opts.extraArgs ?? []));
    const max = Math.max(1, opts.maxDecoders ?? 4);
    const model = new PocketSphinxModel(loadNative(), args, max, hmm);
    const initial = await Promise.all(
      Array.from({ length: Math.max(1, opts.decoders ?? 1) }, () => model.create()),
    );
    model.idle.push(...initial);
    return model;
  }

  private async create(): Promise<Decoder> {
    this.created += 1;
    return this.native.init(this.args);
  }

  /**
   * The cepstral mean a fresh decoder has after hearing `pcm` (16 kHz mono) as one streamed
   * utterance: what `cepstralMean` should be for audio like it.
   */
  async measureCepstralMean(pcm: Int16Array): Promise<number[]> {
    const d = await this.native.init(this.args);
    try {
      this.native.start(d);
      for (let i = 0; i < pcm.length; i += 1600) {
        await this.native.feed(d, pcm.subarray(i, i + 1600));
      }
      await this.native.finish(d);
      return this.native.cepstralMean(d);
    } finally {
      this.native.free(d);
    }
  }

  /** The cepstral mean a fresh decoder of this model starts from. */
  async initialCepstralMean(): Promise<number[]> {
    const d = await this.native.init(this.args);
    try {
      return this.native.cepstralMean(d);
    } finally {
      this.native.free(d);
    }
  }

  /** A decoder for one utterance: an idle one, a new one while under the limit, or the next freed. */
  async acquire(): Promise<Decoder> {
    const idle = this.idle.pop();
    if (idle !== undefined) return idle;
    if (this.created < this.maxDecoders) return this.create();
    return new Promise<Decoder>((r) => this.waiting.push(r));
  }

  release(d: Decoder): void {
    const next = this.waiting.shift();
    if (next) next(d);
    else this.idle.push(d);
  }

  /** One utterance in progress on a decoder of the pool. */
  async begin(): Promise<Utterance> {
    const d = await this.acquire();
    this.native.start(d);
    return new Utterance(this.native, d, () => this.release(d));
  }

  /** Transcribes a whole 16 kHz mono utterance. */
  async transcribe(pcm: Int16Array): Promise<string> {
    const u = await this.begin();
    u.feed(pcm, true);
    return u.finish();
  }
}

export class Utterance {
  private pending: Promise<void> = Promise.resolve();
  private done = false;

  constructor(
    private readonly native: Native,
    private readonly decoder: Decoder,
    private readonly release: () => void,
  ) {}

  /** Queues audio; decoding runs while the caller is still speaking. */
  feed(pcm: Int16Array, whole = false): void {
    this.pending = this.pending.then(() => this.native.feed(this.decoder, pcm, whole));
  }

  /** Waits for the queued audio, ends the utterance and gives the decoder back. */
  async finish(): Promise<string> {
    if (this.done) return '';
    this.done = true;
    let failure: unknown;
    await this.pending.catch((err: unknown) => (failure = err));
    // Always end the utterance, so the decoder goes back to the pool ready for the next one.
    const text = await this.native.finish(this.decoder);
    this.release();
    if (failure !== undefined) throw failure;
    return text;
  }
}
