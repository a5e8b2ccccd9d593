// The lab's audio folder: WAV objects read from <root>/<bucket>/<key> and parsed to PCM.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AudioSourceError } from '../../../lab/chime/simulated-call.js';
import { parseWav, readWavObject } from '../../../lab/phone/wav.js';
import { wavBytes } from '../../helpers/chime.js';

describe('the lab audio folder (readWavObject, parseWav)', () => {
  it('finds fmt and data past other chunks, odd-sized ones padded', () => {
    const bytes = wavBytes([0, 1000, -1000, 32767, -32768], { rate: 8000 }, [
      { id: 'LIST', body: Buffer.from('abc') },
    ]);

    const pcm = parseWav(bytes);

    expect(pcm.sampleRate).toBe(8000);
    expect([...pcm.samples]).toEqual([0, 1000, -1000, 32767, -32768]);
  });

  it('plays the first channel of a stereo file', () => {
    const pcm = parseWav(wavBytes([1, -1, 2, -2, 3, -3], { channels: 2, rate: 16000 }));

    expect(pcm.sampleRate).toBe(16000);
    expect([...pcm.samples]).toEqual([1, 2, 3]);
  });

  it.each([
    ['8-bit PCM', { bits: 8 }, /only 16-bit PCM.*format 1, 8 bits/],
    ['32-bit float', { format: 3, bits: 32 }, /only 16-bit PCM.*format 3, 32 bits/],
    ['A-law', { format: 6, bits: 8 }, /only 16-bit PCM/],
  ])('rejects %s with a clear error', (_name, fmt, message) => {
    expect(() => parseWav(wavBytes([1, 2], fmt))).toThrow(message);
  });

  it('rejects what is not a RIFF/WAVE file', () => {
    expect(() => parseWav(Buffer.from('ID3\u0004 not a wav at all'))).toThrow(/not a RIFF\/WAVE/);
  });

  it('maps <root>/<bucket>/<key> to a file and tells missing objects from bad ones', async () => {
    const root = await mkdtemp(join(tmpdir(), 'callbridge-audio-'));
    try {
      await mkdir(join(root, 'bucket', 'prompts'), { recursive: true });
      await writeFile(join(root, 'bucket', 'prompts', 'hi.wav'), wavBytes([5, 6, 7]));
      await writeFile(join(root, 'bucket', 'notes.txt'), 'not audio');
      await writeFile(join(root, 'secret.wav'), wavBytes([9]));
      const reason = (key: string) =>
        readWavObject(root, { bucket: 'bucket', key }).then(
          () => 'read',
          (e: unknown) => (e instanceof AudioSourceError ? e.reason : `other: ${String(e)}`),
        );

      const pcm = await readWavObject(root, { bucket: 'bucket', key: 'prompts/hi.wav' });

      expect([...pcm.samples]).toEqual([5, 6, 7]);
      expect(await reason('nope.wav')).toBe('missing');
      expect(await reason('prompts')).toBe('missing');
      expect(await reason('../secret.wav')).toBe('missing');
      expect(await reason('notes.txt')).toBe('format');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
