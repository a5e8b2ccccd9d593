// G.711 (ITU-T G.711): µ-law and A-law, 8 kHz, one byte per sample. The telephone codec of every
// way in that carries raw phone audio: the Twilio gateway's Media Streams (twilio/) and the lab's
// phone (lab/phone/rtp-phone.ts), which both use this one definition.

export type G711 = 'PCMU' | 'PCMA';
export const RTP_RATE = 8000;

const MULAW_BIAS = 0x84;
const MULAW_CLIP = 32635;

export function mulawEncode(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  const m = Math.min(Math.abs(sample), MULAW_CLIP) + MULAW_BIAS;
  // The segment is the position of the highest set bit above bit 7.
  let exponent = 7;
  while (exponent > 0 && (m & (0x80 << exponent)) === 0) exponent--;
  const mantissa = (m >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

export function mulawDecode(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + MULAW_BIAS) << exponent) - MULAW_BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

export function alawEncode(sample: number): number {
  // A-law works on 13 bits; even bits are inverted on the wire (the 0x55 mask).
  let v = sample >> 3;
  let mask = 0xd5;
  if (v < 0) {
    mask = 0x55;
    v = -v - 1;
  }
  let segment = 0;
  while (segment < 8 && v >= 0x20 << segment) segment++;
  if (segment >= 8) return 0x7f ^ mask;
  const mantissa = segment < 2 ? (v >> 1) & 0x0f : (v >> segment) & 0x0f;
  return ((segment << 4) | mantissa) ^ mask;
}

export function alawDecode(byte: number): number {
  const a = byte ^ 0x55;
  const segment = (a & 0x70) >> 4;
  let t = ((a & 0x0f) << 4) + 8;
  if (segment >= 1) t = (t + 0x100) << (segment - 1);
  return a & 0x80 ? t : -t;
}

const DECODE: Record<G711, Int16Array> = {
  PCMU: Int16Array.from({ length: 256 }, (_, b) => mulawDecode(b)),
  PCMA: Int16Array.from({ length: 256 }, (_, b) => alawDecode(b)),
};

export function encodeG711(pcm: Int16Array, codec: G711): Buffer {
  const encode = codec === 'PCMU' ? mulawEncode : alawEncode;
  const out = Buffer.allocUnsafe(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = encode(pcm[i]!);
  return out;
}

export function decodeG711(payload: Uint8Array, codec: G711): Int16Array {
  const table = DECODE[codec];
  const out = new Int16Array(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = table[payload[i]!]!;
  return out;
}
