// The benchmark's phone path: what G.711 µ-law and the 8 kHz band leave of a clip.
import { describe, expect, it } from 'vitest';
import { pcmRms } from '../../../agent/audio.js';
import { parseWav } from '../../../lab/phone/wav.js';
import {
  RECOGNIZER_RATE,
  UTTERANCE_PADDING_MS,
  asUtterance,
  mulawRoundTrip,
  resampleSinc,
  throughPhone,
  toTalkerLevel,
  wavFile,
} from '../../../scripts/bench/stt/phone.js';

/** A vowel-like tone: 300 Hz with harmonics, `seconds` long at `rate`. */
function tone(rate: number, seconds: number, amplitude: number): Int16Array {
  return Int16Array.from({ length: Math.round(rate * seconds) }, (_, i) => {
    const t = i / rate;
    const v = Math.sin(2 * Math.PI * 300 * t) + 0.5 * Math.sin(2 * Math.PI * 900 * t);
    return Math.round((amplitude * v) / 1.5);
  });
}

describe('mulawRoundTrip', () => {
  it('keeps the length and the energy within a few percent when a clip goes through µ-law', () => {
    const clip = tone(8000, 1, 8000);
    const back = mulawRoundTrip(clip);
    expect(back).toHaveLength(clip.length);
    expect(pcmRms(back) / pcmRms(clip)).toBeGreaterThan(0.97);
    expect(pcmRms(back) / pcmRms(clip)).toBeLessThan(1.03);
    // µ-law quantises: the samples change, by a few percent of their size at most.
    expect(back).not.toEqual(clip);
    for (let i = 0; i < clip.length; i += 97)
      expect(Math.abs(back[i]! - clip[i]!)).toBeLessThanOrEqual(Math.abs(clip[i]!) * 0.07 + 8);
  });

  it('keeps silence silent when the clip has none of a voice', () => {
    expect([...mulawRoundTrip(new Int16Array(160))].every((v) => v === 0)).toBe(true);
  });
});

describe('resampleSinc', () => {
  it('gives the very same samples when run twice (no dither)', () => {
    const clip = tone(22050, 0.5, 8000);
    expect(resampleSinc(clip, 22050, 8000)).toEqual(resampleSinc(clip, 22050, 8000));
  });

  it('keeps a tone inside the phone band at its level when going down to 8 kHz and back up', () => {
    const clip = tone(16000, 0.5, 8000);
    const down = resampleSinc(clip, 16000, 8000);
    const up = resampleSinc(down, 8000, 16000);
    expect(down).toHaveLength(4000);
    expect(up).toHaveLength(clip.length);
    expect(pcmRms(up) / pcmRms(clip)).toBeCloseTo(1, 1);
  });
});

describe('toTalkerLevel', () => {
  it('brings quiet and loud voices to the same level when neither would clip', () => {
    const quiet = pcmRms(toTalkerLevel(tone(16000, 0.5, 500)));
    const loud = pcmRms(toTalkerLevel(tone(16000, 0.5, 20000)));
    expect(quiet / loud).toBeCloseTo(1, 2);
    expect(20 * Math.log10(loud / 32768)).toBeCloseTo(-20, 0);
  });
});

describe('throughPhone', () => {
  it('gives 16 kHz audio of the same duration and rough energy when fed 16 kHz or 22.05 kHz', () => {
    for (const rate of [16000, 22050]) {
      const clip = toTalkerLevel(tone(rate, 1.5, 8000));
      const out = throughPhone(clip, rate);
      expect(Math.abs(out.length - 1.5 * RECOGNIZER_RATE)).toBeLessThan(RECOGNIZER_RATE * 0.01);
      expect(pcmRms(out) / pcmRms(clip)).toBeGreaterThan(0.8);
      expect(pcmRms(out) / pcmRms(clip)).toBeLessThan(1.2);
    }
  });

  it('removes what lies above the 4 kHz phone band when the voice has it', () => {
    const rate = 16000;
    const high = Int16Array.from({ length: rate }, (_, i) =>
      Math.round(8000 * Math.sin((2 * Math.PI * 6000 * i) / rate)),
    );
    const out = throughPhone(high, rate);
    expect(pcmRms(out)).toBeLessThan(pcmRms(toTalkerLevel(high)) * 0.05);
  });
});

describe('wavFile', () => {
  it('writes a WAV that reads back as the same samples and rate', () => {
    const clip = tone(16000, 0.1, 1000);
    const back = parseWav(wavFile(clip, 16000));
    expect(back.sampleRate).toBe(16000);
    expect(back.samples).toEqual(clip);
  });

  it("puts the VAD's silence around an utterance: 500 ms before it and 128 ms after", () => {
    const speech = tone(16000, 0.5, 8000);
    const fed = asUtterance(speech, 16000);
    const before = (UTTERANCE_PADDING_MS.before * 16000) / 1000;
    expect(before).toBe(8000);
    expect(fed.length).toBe(8000 + speech.length + 2048);
    expect(fed.subarray(before, before + speech.length)).toEqual(speech);
    expect(fed.subarray(0, before).every((v) => v === 0)).toBe(true);
    expect(fed.subarray(before + speech.length).every((v) => v === 0)).toBe(true);
    expect(asUtterance(speech, 8000).length).toBe(4000 + speech.length + 1024);
  });
});
