// The Deepgram stand-in's endpointing: phrases found by loudness on the stream's own clock.
import { describe, expect, it } from 'vitest';
import { Endpointer, MIN_ENDPOINT_MS } from '../../../lab/cloud/endpointer.js';

const RATE = 16000;
const silence = (s: number) => new Int16Array(Math.round(s * RATE));
function tone(s: number, amplitude = 4000): Int16Array {
  const out = new Int16Array(Math.round(s * RATE));
  for (let i = 0; i < out.length; i++)
    out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 300 * i) / RATE));
  return out;
}

describe('Endpointer', () => {
  it('finds a phrase and ends it after the pause when endpointing is short', () => {
    const ep = new Endpointer({ sampleRate: RATE, endpointing: 10 });
    const events = [...ep.push(silence(0.5)), ...ep.push(tone(1)), ...ep.push(silence(1))];
    expect(events.map((e) => e.type)).toEqual(['start', 'end']);
    const [start, end] = events as [
      Extract<(typeof events)[number], { type: 'start' }>,
      Extract<(typeof events)[number], { type: 'end' }>,
    ];
    expect(start.atS).toBeCloseTo(0.5, 1);
    expect(end.endS).toBeCloseTo(1.5, 1);
    // The phrase's audio: the speech, with a short prefix and the pause that ended it.
    const seconds = end.audio.length / RATE;
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThan(1 + 0.25 + MIN_ENDPOINT_MS / 1000 + 0.05);
    expect(ep.speaking).toBe(false);
  });

  it('keeps a phrase going across a pause shorter than the endpoint', () => {
    const ep = new Endpointer({ sampleRate: RATE, endpointing: 500 });
    const events = [
      ...ep.push(tone(0.6)),
      ...ep.push(silence(0.3)),
      ...ep.push(tone(0.6)),
      ...ep.push(silence(0.6)),
    ];
    expect(events.map((e) => e.type)).toEqual(['start', 'end']);
  });

  it('ignores a click shorter than an onset', () => {
    const ep = new Endpointer({ sampleRate: RATE, endpointing: 10 });
    expect([...ep.push(tone(0.02)), ...ep.push(silence(1))]).toEqual([]);
  });

  it('ends a phrase only when asked when endpointing is off', () => {
    const ep = new Endpointer({ sampleRate: RATE, endpointing: false });
    const events = [...ep.push(tone(0.5)), ...ep.push(silence(2))];
    expect(events.map((e) => e.type)).toEqual(['start']);
    expect(ep.finish()?.type).toBe('end');
    expect(ep.finish()).toBeUndefined();
  });

  it('reads audio that arrives in pieces of any length', () => {
    const ep = new Endpointer({ sampleRate: RATE, endpointing: 10 });
    const all = new Int16Array([...silence(0.2), ...tone(0.5), ...silence(0.6)]);
    const events = [];
    for (let i = 0; i < all.length; i += 123) events.push(...ep.push(all.subarray(i, i + 123)));
    expect(events.map((e) => e.type)).toEqual(['start', 'end']);
    expect(ep.seconds).toBeCloseTo(1.3, 2);
  });
});
