// The lab's stand-in for the S3 objects PlayAudio names: `<root>/<bucket>/<key>` on disk, a PCM WAV
// as Chime plays them ("PCM WAV files of no more than 50 MB … 8 KHz mono" recommended:
// https://docs.aws.amazon.com/chime-sdk/latest/dg/play-audio.html). 16-bit PCM only; a file with
// more than one channel plays its first.
import { readFile, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { AudioSourceError } from '../chime/media.js';

export interface Pcm {
  samples: Int16Array;
  sampleRate: number;
}

const MAX_BYTES = 50 * 1024 * 1024;
const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** Reads and decodes `<root>/<bucket>/<key>`; rejects with AudioSourceError. */
export async function readWavObject(
  root: string,
  source: { bucket: string; key: string },
): Promise<Pcm> {
  const base = resolve(root);
  const path = resolve(base, source.bucket, source.key);
  // A key is a name in its bucket, never a way out of it.
  if (!path.startsWith(resolve(base, source.bucket) + sep))
    throw new AudioSourceError('missing', `no object ${source.bucket}/${source.key}`);
  let bytes: Buffer;
  try {
    const info = await stat(path);
    if (!info.isFile())
      throw new AudioSourceError('missing', `no object ${source.bucket}/${source.key}`);
    if (info.size > MAX_BYTES)
      throw new AudioSourceError('format', `${source.key} is over 50 MB (${info.size} bytes)`);
    bytes = await readFile(path);
  } catch (err) {
    if (err instanceof AudioSourceError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const missing = code === 'ENOENT' || code === 'ENOTDIR';
    throw new AudioSourceError(
      missing ? 'missing' : 'unreadable',
      `${missing ? 'no object' : 'cannot read'} ${source.bucket}/${source.key}`,
      { cause: err },
    );
  }
  try {
    return parseWav(bytes);
  } catch (err) {
    throw new AudioSourceError('format', `${source.key}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Decodes a RIFF/WAVE file of 16-bit PCM, walking its chunks for `fmt ` and `data`. */
export function parseWav(bytes: Buffer): Pcm {
  if (
    bytes.length < 12 ||
    bytes.toString('ascii', 0, 4) !== 'RIFF' ||
    bytes.toString('ascii', 8, 12) !== 'WAVE'
  )
    throw new Error('not a RIFF/WAVE file');
  let fmt: { format: number; channels: number; sampleRate: number; bits: number } | undefined;
  let data: Buffer | undefined;
  for (let at = 12; at + 8 <= bytes.length && !data;) {
    const id = bytes.toString('ascii', at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    const body = bytes.subarray(at + 8, Math.min(at + 8 + size, bytes.length));
    if (id === 'fmt ') fmt = readFmt(body);
    else if (id === 'data') {
      if (!fmt) throw new Error('the data chunk comes before the fmt chunk');
      data = body;
    }
    at += 8 + size + (size % 2); // chunks are padded to an even length
  }
  if (!fmt) throw new Error('no fmt chunk');
  if (!data) throw new Error('no data chunk');
  const { channels, sampleRate } = fmt;
  const frames = Math.floor(data.length / (2 * channels));
  const samples = new Int16Array(frames);
  for (let i = 0; i < frames; i++) samples[i] = data.readInt16LE(i * 2 * channels);
  return { samples, sampleRate };
}

function readFmt(body: Buffer) {
  if (body.length < 16) throw new Error('the fmt chunk is too short');
  let format = body.readUInt16LE(0);
  // WAVE_FORMAT_EXTENSIBLE names the real format in the first two bytes of its SubFormat GUID.
  if (format === WAVE_FORMAT_EXTENSIBLE && body.length >= 26) format = body.readUInt16LE(24);
  const channels = body.readUInt16LE(2);
  const sampleRate = body.readUInt32LE(4);
  const bits = body.readUInt16LE(14);
  if (format !== WAVE_FORMAT_PCM || bits !== 16)
    throw new Error(
      `only 16-bit PCM is played (this file: format ${format}, ${bits} bits per sample)`,
    );
  if (channels < 1 || sampleRate < 1) throw new Error('no channels or no sample rate');
  return { format, channels, sampleRate, bits };
}

/** A RIFF/WAVE file of 16-bit mono PCM (what the lab's RecordAudio writes). */
export function encodeWav(pcm: Pcm): Buffer {
  const data = Buffer.from(pcm.samples.buffer, pcm.samples.byteOffset, pcm.samples.byteLength);
  const head = Buffer.alloc(44);
  head.write('RIFF', 0, 'ascii');
  head.writeUInt32LE(36 + data.length, 4);
  head.write('WAVE', 8, 'ascii');
  head.write('fmt ', 12, 'ascii');
  head.writeUInt32LE(16, 16);
  head.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  head.writeUInt16LE(1, 22); // mono
  head.writeUInt32LE(pcm.sampleRate, 24);
  head.writeUInt32LE(pcm.sampleRate * 2, 28);
  head.writeUInt16LE(2, 32);
  head.writeUInt16LE(16, 34);
  head.write('data', 36, 'ascii');
  head.writeUInt32LE(data.length, 40);
  return Buffer.concat([head, data]);
}
