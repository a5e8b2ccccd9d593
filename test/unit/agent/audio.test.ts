import { AudioFrame } from '@livekit/rtc-node';
import { describe, expect, it } from 'vitest';
import {
  frameRms,
  joinFrames,
  pcmFrames,
  speechFrames,
  speechOnset,
} from '../../../agent/audio.js';
import { synthesizeToPcm } from '../../../agent/providers/flite-tts.js';

/** 16 kHz PCM: 20 ms windows at the given constant levels. */
const pcm = (...levels: number[]) => {
  const out = new Int16Array(levels.length * 320);
  levels.forEach((level, i) => out.fill(level, i * 320, (i + 1) * 320));
  return out;
};

describe('joinFrames', () => {
  const frame = (rate: number, channels: number, ...samples: number[]) =>
    new AudioFrame(Int16Array.from(samples), rate, channels, samples.length / channels);

  it('joins frames in order into one frame of its own', () => {
    const a = frame(8000, 2, 1, -1, 2, -2);
    const b = frame(8000, 2, 3, -3);
    const joined = joinFrames([a, b]);
    expect([...joined.data]).toEqual([1, -1, 2, -2, 3, -3]);
    expect([joined.sampleRate, joined.channels, joined.samplesPerChannel]).toEqual([8000, 2, 3]);
    joined.data[0] = 9; // a copy: the VAD reuses the buffers it hands over
    expect(a.data[0]).toBe(1);
    expect([...joinFrames([b]).data]).toEqual([3, -3]);
  });

  it('refuses frames of another rate or channel count, and none at all', () => {
    expect(() => joinFrames([frame(8000, 1, 1), frame(16000, 1, 1)])).toThrow(/16000 Hz × 1/);
    expect(() => joinFrames([frame(8000, 1, 1), frame(8000, 2, 1, 1)])).toThrow(/differ/);
    expect(() => joinFrames([])).toThrow(/no audio frames/);
  });
});

describe('speechOnset', () => {
  it('is the first 20 ms window at speech level', () => {
    expect(speechOnset(pcm(0, 3, 10, 2000, 0, 1500), 16000)).toBe(3 * 320);
    expect(speechOnset(pcm(900, 0), 16000)).toBe(0);
  });

  it('keeps silence-only audio whole', () => {
    expect(speechOnset(pcm(0, 1, 0), 16000)).toBe(0);
  });
});

describe('speechFrames', () => {
  it('starts at the onset and cuts 100 ms frames, the last one shorter', () => {
    const samples = pcm(0, 0, ...new Array<number>(12).fill(1000)); // 40 ms quiet, 240 ms speech
    const frames = speechFrames(samples, 16000);
    expect(frames.map((f) => f.samplesPerChannel)).toEqual([1600, 1600, 640]);
    expect(frameRms(frames[0]!)).toBe(1000);
    frames[0]!.data[0] = 7; // each frame owns its buffer
    expect(samples[640]).toBe(1000);
  });

  it("removes Flite's lead-in, so the first frame starts with speech", async () => {
    const tts = await synthesizeToPcm('Hello, you have reached Springfield 311.', {
      voice: 'kal16',
    });
    const onset = speechOnset(tts.samples, tts.sampleRate);
    expect(onset).toBeGreaterThanOrEqual(0.06 * tts.sampleRate); // the engine's own silence
    const frames = speechFrames(tts.samples, tts.sampleRate);
    const first20ms = pcmFrames(frames[0]!.data, tts.sampleRate, 20)[0]!;
    expect(frameRms(first20ms)).toBeGreaterThanOrEqual(64);
    const played = frames.reduce((n, f) => n + f.samplesPerChannel, 0);
    expect(played).toBe(tts.samples.length - onset);
  });
});
