// Reads the WAV files `npm run stt` is given: mono telephone or wideband audio (8 or 16 kHz), as
// 16-bit PCM or G.711 µ-law (what phone recordings usually are). Anything else is refused with a
// message saying what the file is and what is accepted.
import { readFile } from 'node:fs/promises';

export interface WavAudio {
  samples: Int16Array;
  sampleRate: number;
  /** The file's encoding, for the report. */
  encoding: 'pcm16' | 'mulaw';
}

export class WavFileError extends Error {
  override name = 'WavFileError';
}

export const WAV_RATES = [8000, 16000] as const;
const FORMAT_PCM = 1;
const FORMAT_MULAW = 7;
const FORMAT_EXTENSIBLE = 0xfffe;

interface Fmt {
  format: number;
  channels: number;
  sampleRate: number;
  bits: number;
}

function readFmt(body: Buffer): Fmt {
  if (body.length < 16) throw new WavFileError('the fmt chunk is too short');
  let format = body.readUInt16LE(0);
  // WAVE_FORMAT_EXTENSIBLE names the real format in the first two bytes of its SubFormat GUID.
  if (format === FORMAT_EXTENSIBLE && body.length >= 26) format = body.readUInt16LE(24);
  return {
    format,
    channels: body.readUInt16LE(2),
    sampleRate: body.readUInt32LE(4),
    bits: body.readUInt16LE(14),
  };
}

/** The `fmt ` and `data` chunks of a RIFF/WAVE file. */
function chunks(bytes: Buffer): { fmt: Fmt; data: Buffer } {
  if (
    bytes.length < 12 ||
    bytes.toString('ascii', 0, 4) !== 'RIFF' ||
    bytes.toString('ascii', 8, 12) !== 'WAVE'
  ) {
    throw new WavFileError('not a RIFF/WAVE file');
  }
  let fmt: Fmt | undefined;
  for (let at = 12; at + 8 <= bytes.length;) {
    const id = bytes.toString('ascii', at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    const body = bytes.subarray(at + 8, Math.min(at + 8 + size, bytes.length));
    if (id === 'fmt ') fmt = readFmt(body);
    else if (id === 'data') {
      if (!fmt) throw new WavFileError('the data chunk comes before the fmt chunk');
      return { fmt, data: body };
    }
    at += 8 + size + (size % 2); // chunks are padded to an even length
  }
  throw new WavFileError(fmt ? 'no data chunk' : 'no fmt chunk');
}

function checkFmt(fmt: Fmt): 'pcm16' | 'mulaw' {
  const what = `format ${fmt.format}, ${fmt.bits} bits, ${fmt.channels} channels, ${fmt.sampleRate} Hz`;
  const accepted = `mono ${WAV_RATES.join(' or ')} Hz, 16-bit PCM or 8-bit µ-law`;
  const encoding =
    fmt.format === FORMAT_PCM && fmt.bits === 16
      ? 'pcm16'
      : fmt.format === FORMAT_MULAW && fmt.bits === 8
        ? 'mulaw'
        : undefined;
  const rateOk = (WAV_RATES as readonly number[]).includes(fmt.sampleRate);
  if (!encoding || fmt.channels !== 1 || !rateOk) {
    throw new WavFileError(`unsupported audio (${what}); accepted: ${accepted}`);
  }
  return encoding;
}

/** G.711 µ-law byte to a 16-bit linear sample. */
export function mulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const magnitude = ((((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4)) - 0x84;
  return u & 0x80 ? -magnitude : magnitude;
}

/** Decodes a mono 8 or 16 kHz WAV of 16-bit PCM or µ-law; WavFileError otherwise. */
export function parseWav(bytes: Buffer): WavAudio {
  const { fmt, data } = chunks(bytes);
  const encoding = checkFmt(fmt);
  let samples: Int16Array;
  if (encoding === 'mulaw') {
    samples = Int16Array.from(data, mulawToLinear);
  } else {
    samples = new Int16Array(Math.floor(data.length / 2));
    for (let i = 0; i < samples.length; i++) samples[i] = data.readInt16LE(i * 2);
  }
  if (samples.length === 0) throw new WavFileError('the file holds no audio');
  return { samples, sampleRate: fmt.sampleRate, encoding };
}

/** Reads and decodes a WAV file; WavFileError names the file and what is wrong with it. */
export async function readWavFile(path: string): Promise<WavAudio> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new WavFileError(`${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    return parseWav(bytes);
  } catch (err) {
    if (err instanceof WavFileError) throw new WavFileError(`${path}: ${err.message}`);
    throw err;
  }
}
