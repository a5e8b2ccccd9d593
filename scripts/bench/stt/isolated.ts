// Each recognizer runs in a Node process of its own (./worker.ts), so its load time, memory and
// CPU are its own and not those of the recognizer before it, and a native crash costs one row.
// The parent writes the clips to a directory once; each worker reads them and prints one line of
// JSON, parsed here.
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import type { RecognizerName } from './recognizers.js';
import type { Clip } from './test-set.js';

const ClipIndex = z.array(z.object({ id: z.string(), offset: z.number(), length: z.number() }));

const ClipResult = z.object({
  id: z.string(),
  hypothesis: z.string(),
  decodeMs: z.number(),
  cpuMs: z.number(),
});
export type ClipResult = z.infer<typeof ClipResult>;

export const WorkerResult = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('ran'),
    loadMs: z.number(),
    /** The worker's RSS before the recognizer loaded, after it, and its peak over the run. */
    rssBeforeLoadMb: z.number(),
    rssAfterLoadMb: z.number(),
    peakRssMb: z.number(),
    note: z.string().optional(),
    clips: z.array(ClipResult),
  }),
  z.object({ status: z.literal('skipped'), reason: z.string() }),
  z.object({ status: z.literal('failed'), reason: z.string() }),
]);
export type WorkerResult = z.infer<typeof WorkerResult>;

/** Writes the clips' samples as one raw file beside an index. */
export async function writeClips(dir: string, clips: readonly Clip[]): Promise<void> {
  let offset = 0;
  const index = clips.map((c) => {
    const entry = { id: c.id, offset, length: c.pcm.length };
    offset += c.pcm.length;
    return entry;
  });
  const raw = Buffer.concat(
    clips.map((c) => Buffer.from(c.pcm.buffer, c.pcm.byteOffset, c.pcm.byteLength)),
  );
  await writeFile(join(dir, 'clips.pcm'), raw);
  await writeFile(join(dir, 'clips.json'), JSON.stringify(index));
}

export async function readClips(dir: string): Promise<{ id: string; pcm: Int16Array }[]> {
  const index = ClipIndex.parse(JSON.parse(await readFile(join(dir, 'clips.json'), 'utf8')));
  const raw = await readFile(join(dir, 'clips.pcm'));
  const all = new Int16Array(raw.buffer, raw.byteOffset, raw.byteLength / 2);
  return index.map((c) => ({ id: c.id, pcm: all.slice(c.offset, c.offset + c.length) }));
}

const WORKER = join(import.meta.dirname, 'worker.ts');

/** Runs one recognizer over the clips in `dir` in a process of its own. */
export function runIsolated(name: RecognizerName, dir: string): Promise<WorkerResult> {
  return new Promise((settle) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, name, dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.on('error', (err) => settle({ status: 'failed', reason: err.message }));
    child.on('close', (code, signal) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      try {
        settle(WorkerResult.parse(JSON.parse(last)));
      } catch {
        const how = signal ? `signal ${signal}` : `exit code ${code}`;
        settle({ status: 'failed', reason: `the worker ended (${how}) without a result` });
      }
    });
  });
}
