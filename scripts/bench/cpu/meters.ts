// What bench:cpu measures inside a session, part by part.
import { createRequire } from 'node:module';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import type { Transcriber } from '../../../agent/providers/moonshine-stt.js';
import { offMainCpu, readThreads } from './threads.js';

/** Decodes, each measured: the CPU of every thread but the main one while it runs. */
export class MeteredTranscriber implements Transcriber {
  cpuMs = 0;
  count = 0;

  constructor(private readonly inner: Transcriber) {}

  async transcribe(pcm: Int16Array): Promise<string> {
    const before = readThreads();
    try {
      return await this.inner.transcribe(pcm);
    } finally {
      this.cpuMs += offMainCpu(before, readThreads(), process.pid);
      this.count += 1;
    }
  }
}

/** GC pauses on the main thread (ms), from the gc performance entries. */
export function gcMeter(): { stop: () => number } {
  let ms = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) ms += e.duration;
  });
  obs.observe({ entryTypes: ['gc'] });
  return {
    stop: () => {
      obs.disconnect();
      return ms;
    },
  };
}

type Run = (...args: unknown[]) => unknown;
interface Backend {
  createInferenceSessionHandler: (...args: unknown[]) => Promise<{ run: Run }>;
}

/**
 * Silero's inference time (ms): onnxruntime-node runs a model synchronously on the main thread,
 * inside a setImmediate callback its session handler schedules (Silero's session: one intra-op
 * thread), so that callback's wall time is the inference's CPU. Only Silero uses onnxruntime-node
 * in a job process (Moonshine brings its own ONNX Runtime). The native binding's methods cannot be
 * wrapped, so each handler's run wraps the setImmediate it calls. Call before the VAD loads.
 */
export function onnxMeter(): { ms: () => number; runs: () => number } | undefined {
  let ms = 0;
  let runs = 0;
  const timed = (run: Run): Run =>
    function (this: unknown, ...args: unknown[]) {
      const schedule = globalThis.setImmediate;
      globalThis.setImmediate = ((cb: () => void) =>
        schedule(() => {
          const t = performance.now();
          try {
            cb();
          } finally {
            ms += performance.now() - t;
            runs += 1;
          }
        })) as typeof setImmediate;
      try {
        return run.apply(this, args);
      } finally {
        globalThis.setImmediate = schedule;
      }
    };
  try {
    const require = createRequire(import.meta.url);
    const { onnxruntimeBackend: backend } = require('onnxruntime-node/dist/backend.js') as {
      onnxruntimeBackend: Backend;
    };
    const create = backend.createInferenceSessionHandler.bind(backend);
    backend.createInferenceSessionHandler = async (...args) => {
      const handler = await create(...args);
      handler.run = timed(handler.run.bind(handler));
      return handler;
    };
    return { ms: () => ms, runs: () => runs };
  } catch {
    return undefined;
  }
}

export interface MappedMemory {
  /** Resident (MB) in the mappings whose path contains the needle. */
  rssMb: number;
  /** Proportional share (MB): resident pages divided among the processes that map them. */
  pssMb: number;
  /** Private and written (MB): what no other process can share. */
  privateDirtyMb: number;
}

/** The memory of /proc/<pid>/smaps mappings whose path contains `needle`. */
export function mappedMemory(smaps: string, needle: string): MappedMemory {
  const out = { rssMb: 0, pssMb: 0, privateDirtyMb: 0 };
  let inside = false;
  for (const line of smaps.split('\n')) {
    // A mapping's header: "start-end perms offset dev inode [path]".
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inside = line.includes(needle);
    else if (inside) {
      const m = /^(Rss|Pss|Private_Dirty):\s+(\d+) kB/.exec(line);
      if (m) {
        const key = m[1] === 'Rss' ? 'rssMb' : m[1] === 'Pss' ? 'pssMb' : 'privateDirtyMb';
        out[key] += Number(m[2]) / 1024;
      }
    }
  }
  return out;
}
