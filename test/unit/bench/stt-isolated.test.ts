// Each recognizer runs in a worker process of its own: the clips it reads and the line it answers.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readClips, runIsolated, writeClips } from '../../../scripts/bench/stt/isolated.js';
import type { Clip } from '../../../scripts/bench/stt/test-set.js';

const clip = (id: string, pcm: number[]): Clip => ({
  id,
  voice: id.split('/')[0]!,
  sentence: id.split('/')[1]!,
  text: 'x',
  pcm: Int16Array.from(pcm),
  audioMs: pcm.length / 16,
});

let dir: string;
beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'callbridge-stt-test-'))));
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('writeClips', () => {
  it('writes clips that read back as the same ids and samples in order', async () => {
    const clips = [clip('a/one', [1, -2, 3]), clip('b/one', []), clip('a/two', [32767, -32768])];
    await writeClips(dir, clips);
    const back = await readClips(dir);
    expect(back.map((c) => c.id)).toEqual(['a/one', 'b/one', 'a/two']);
    expect(back.map((c) => [...c.pcm])).toEqual([[1, -2, 3], [], [32767, -32768]]);
  });
});

describe('runIsolated', () => {
  it('reports a recognizer skipped, with why, when it cannot run here', async () => {
    await writeClips(dir, [clip('a/one', [0, 0, 0])]);
    const key = process.env.DEEPGRAM_API_KEY;
    delete process.env.DEEPGRAM_API_KEY;
    try {
      expect(await runIsolated('deepgram', dir)).toEqual({
        status: 'skipped',
        reason: 'DEEPGRAM_API_KEY is not set',
      });
    } finally {
      if (key !== undefined) process.env.DEEPGRAM_API_KEY = key;
    }
  });

  it('reports a failure, not a crash, when the worker cannot read the clips', async () => {
    const result = await runIsolated('deepgram', join(dir, 'missing'));
    expect(result.status).toBe('failed');
  });
});
