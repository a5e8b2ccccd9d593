// G.711 as the lab phone encodes and decodes it: µ-law and A-law.
import { describe, expect, it } from 'vitest';
import {
  alawDecode,
  alawEncode,
  decodeG711,
  encodeG711,
  mulawDecode,
  mulawEncode,
} from '../../../lab/phone/g711.js';

describe('G.711', () => {
  it('encodes silence as the codecs define it (µ-law 0xFF, A-law 0xD5)', () => {
    expect([...encodeG711(new Int16Array(3), 'PCMU')]).toEqual([0xff, 0xff, 0xff]);
    expect([...encodeG711(new Int16Array(3), 'PCMA')]).toEqual([0xd5, 0xd5, 0xd5]);
  });

  it('decodes every code and re-encodes it to the same code (µ-law has two zeros)', () => {
    for (let b = 0; b < 256; b++) {
      const back = mulawEncode(mulawDecode(b));
      expect(back === b || (b === 0x7f && back === 0xff)).toBe(true);
      expect(alawEncode(alawDecode(b))).toBe(b);
    }
  });

  it('keeps PCM within the quantisation step across the range, clipping at full scale', () => {
    const pcm = Int16Array.from({ length: 2001 }, (_, i) => Math.round(-32768 + i * 32.767));
    for (const codec of ['PCMU', 'PCMA'] as const) {
      const back = decodeG711(encodeG711(pcm, codec), codec);
      pcm.forEach((v, i) => {
        // Logarithmic steps: about 1/16 of the magnitude at worst, plus the smallest step.
        expect(Math.abs(back[i]! - v)).toBeLessThanOrEqual(Math.abs(v) / 16 + 16);
      });
    }
    expect(mulawDecode(mulawEncode(32767))).toBe(32124);
    expect(mulawDecode(mulawEncode(-32768))).toBe(-32124);
    expect(alawDecode(alawEncode(32767))).toBe(32256);
  });
});
