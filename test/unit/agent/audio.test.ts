import { AudioFrame } from '@livekit/rtc-node';
import { describe, expect, it } from 'vitest';
import { dropLeadingSilence, frameRms } from '../../../agent/audio.js';
import { pcmToFrames, synthesizeToPcm } from '../../../agent/providers/flite-tts.js';

const frame = (level: number) => new AudioFrame(new Int16Array(320).fill(level), 16000, 1, 320);

describe('dropLeadingSilence', () => {
  it('starts at the onset, or the asked number of quiet frames before it', () => {
    const frames = [frame(0), frame(3), frame(10), frame(2000), frame(0), frame(1500)];
    expect(dropLeadingSilence(frames).map(frameRms)).toEqual([2000, 0, 1500]);
    expect(dropLeadingSilence(frames, 1).map(frameRms)).toEqual([10, 2000, 0, 1500]);
  });

  it('leaves speech that starts at once, and silence-only audio, whole', () => {
    const speech = [frame(900), frame(0)];
    expect(dropLeadingSilence(speech)).toBe(speech);
    const silence = [frame(0), frame(1), frame(0)];
    expect(dropLeadingSilence(silence)).toBe(silence);
  });

  it("removes Flite's lead-in, so the first frame is speech", async () => {
    const pcm = await synthesizeToPcm('Hello, you have reached Springfield 311.', {
      voice: 'kal16',
    });
    const frames = pcmToFrames(pcm);
    const leadIn = frames.findIndex((f) => frameRms(f) >= 64);
    expect(leadIn).toBeGreaterThan(2); // the engine's own silence, 60 ms or more
    const trimmed = dropLeadingSilence(frames);
    expect(frameRms(trimmed[0]!)).toBeGreaterThanOrEqual(64);
    expect(trimmed.length).toBe(frames.length - leadIn);
  });
});
