// Speech for the TTS stand-ins: Flite, in the encoding and at the rate a client asked for.
import { synthesizeToPcm } from '../../agent/providers/flite-tts.js';
import { encodeG711 } from '../phone/g711.js';

export type Encoding = 'linear16' | 'mulaw' | 'alaw';

/** The stand-ins speak every cloud voice with one Flite voice: the lab needs words, not timbre. */
const VOICE = 'slt';

export async function synthesize(
  text: string,
  opts: { sampleRate: number; encoding: Encoding; signal?: AbortSignal },
): Promise<Buffer> {
  const pcm = await synthesizeToPcm(
    text,
    { voice: VOICE, sampleRate: opts.sampleRate },
    opts.signal,
  );
  if (opts.encoding === 'mulaw') return encodeG711(pcm.samples, 'PCMU');
  if (opts.encoding === 'alaw') return encodeG711(pcm.samples, 'PCMA');
  return linear16(pcm.samples);
}

export function linear16(samples: Int16Array): Buffer {
  const out = Buffer.allocUnsafe(samples.length * 2);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i]!, i * 2);
  return out;
}

/** A RIFF/WAVE header for 16-bit mono PCM (or G.711, format 7/6) of `dataBytes` bytes. */
export function wavHeader(dataBytes: number, sampleRate: number, encoding: Encoding): Buffer {
  const bytesPerSample = encoding === 'linear16' ? 2 : 1;
  const format = encoding === 'linear16' ? 1 : encoding === 'mulaw' ? 7 : 6;
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8);
  h.write('fmt ', 12);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(format, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * bytesPerSample, 28);
  h.writeUInt16LE(bytesPerSample, 32);
  h.writeUInt16LE(bytesPerSample * 8, 34);
  h.write('data', 36);
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** Audio in pieces of about `ms`, as a streaming server sends it. */
export function chunks(audio: Buffer, bytesPerSecond: number, ms = 100): Buffer[] {
  const size = Math.max(2, Math.round((bytesPerSecond * ms) / 1000) & ~1);
  const out: Buffer[] = [];
  for (let i = 0; i < audio.length; i += size) out.push(audio.subarray(i, i + size));
  return out;
}
