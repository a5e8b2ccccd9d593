// The WAV files `npm run stt` reads for the offline recognizer (scripts/lib/wav-file.ts): what it
// accepts, how it decodes µ-law, and the messages that name what is wrong with a file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  mulawToLinear,
  parseWav,
  readWavFile,
  WavFileError,
} from '../../../scripts/lib/wav-file.js';

interface Format {
  format?: number;
  channels?: number;
  rate?: number;
  bits?: number;
  /** Chunks before `fmt ` and between it and `data`. */
  before?: Buffer[];
  between?: Buffer[];
}

function chunk(id: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'ascii');
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body, Buffer.alloc(body.length % 2)]);
}

function wavFile(data: Buffer, f: Format = {}): Buffer {
  const { format = 1, channels = 1, rate = 16000, bits = 16 } = f;
  const fmt = Buffer.alloc(16);
  fmt.writeUInt16LE(format, 0);
  fmt.writeUInt16LE(channels, 2);
  fmt.writeUInt32LE(rate, 4);
  fmt.writeUInt32LE((rate * channels * bits) / 8, 8);
  fmt.writeUInt16LE((channels * bits) / 8, 12);
  fmt.writeUInt16LE(bits, 14);
  const body = Buffer.concat([
    Buffer.from('WAVE'),
    ...(f.before ?? []),
    chunk('fmt ', fmt),
    ...(f.between ?? []),
    chunk('data', data),
  ]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'ascii');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

const pcm16 = (samples: number[]) => Buffer.from(Int16Array.from(samples).buffer);

describe('parseWav', () => {
  it.each([8000, 16000])('reads mono 16-bit PCM at %i Hz', (rate) => {
    const wav = parseWav(wavFile(pcm16([0, 1000, -1000, 32767, -32768]), { rate }));
    expect(wav).toEqual({
      samples: Int16Array.from([0, 1000, -1000, 32767, -32768]),
      sampleRate: rate,
      encoding: 'pcm16',
    });
  });

  it('decodes G.711 µ-law to linear samples', () => {
    const wav = parseWav(
      wavFile(Buffer.from([0xff, 0x7f, 0x00, 0x80, 0xf0]), { format: 7, bits: 8, rate: 8000 }),
    );
    expect(wav.encoding).toBe('mulaw');
    expect([...wav.samples]).toEqual([0, 0, -32124, 32124, 120]);
  });

  it('keeps the sign and grows with the code as µ-law does', () => {
    for (let code = 0x80; code < 0xff; code++) {
      expect(mulawToLinear(code)).toBeGreaterThan(mulawToLinear(code + 1));
      expect(mulawToLinear(code & 0x7f)).toBe(-mulawToLinear(code));
    }
  });

  it('walks past other chunks, odd-sized ones included, to fmt and data', () => {
    const odd = chunk('LIST', Buffer.from('abc'));
    const wav = parseWav(wavFile(pcm16([7, -7]), { before: [odd], between: [odd] }));
    expect([...wav.samples]).toEqual([7, -7]);
  });

  it.each([
    ['stereo', { channels: 2 }, /2 channels/],
    ['44.1 kHz', { rate: 44100 }, /44100 Hz/],
    ['8-bit PCM', { bits: 8 }, /format 1, 8 bits/],
    ['floating point', { format: 3, bits: 32 }, /format 3/],
  ])('refuses %s audio, saying what it accepts', (_what, format, detail) => {
    const bad = () => parseWav(wavFile(pcm16([1, 2, 3, 4]), format));
    expect(bad).toThrow(WavFileError);
    expect(bad).toThrow(detail);
    expect(bad).toThrow(/accepted: mono 8000 or 16000 Hz, 16-bit PCM or 8-bit µ-law/);
  });

  it('refuses a file that is not a WAV, or holds no audio', () => {
    expect(() => parseWav(Buffer.from('ID3 not a wave file'))).toThrow(/not a RIFF\/WAVE file/);
    expect(() => parseWav(wavFile(Buffer.alloc(0)))).toThrow(/holds no audio/);
    const noData = wavFile(pcm16([1])).subarray(0, 12 + 8 + 16);
    expect(() => parseWav(noData)).toThrow(/no data chunk/);
  });
});

describe('readWavFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'callbridge-wav-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file from disk', async () => {
    const path = join(dir, 'ok.wav');
    writeFileSync(path, wavFile(pcm16([3, 4]), { rate: 8000 }));
    expect(await readWavFile(path)).toMatchObject({ sampleRate: 8000, encoding: 'pcm16' });
  });

  it('names the file in every error', async () => {
    const bad = join(dir, 'bad.wav');
    writeFileSync(bad, 'hello');
    await expect(readWavFile(bad)).rejects.toThrow(`${bad}: not a RIFF/WAVE file`);
    const missing = join(dir, 'missing.wav');
    await expect(readWavFile(missing)).rejects.toThrow(WavFileError);
    await expect(readWavFile(missing)).rejects.toThrow(missing);
  });
});
