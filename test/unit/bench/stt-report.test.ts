// What a recognizer's run comes to: corpus WER, WER per voice, real-time factors, worst sentences.
import { describe, expect, it } from 'vitest';
import type { WorkerResult } from '../../../scripts/bench/stt/isolated.js';
import { printReport, scoreRun } from '../../../scripts/bench/stt/report.js';
import type { Clip } from '../../../scripts/bench/stt/test-set.js';

const clip = (voice: string, sentence: string, text: string, audioMs: number): Clip => ({
  id: `${voice}/${sentence}`,
  voice,
  sentence,
  text,
  pcm: new Int16Array(0),
  audioMs,
});

const CLIPS = [
  clip('a', 'pothole', 'There is a big pothole on my street.', 2000),
  clip('b', 'pothole', 'There is a big pothole on my street.', 2000),
  clip('a', 'goodbye', 'Thank you, that is all, goodbye.', 1000),
  clip('b', 'goodbye', 'Thank you, that is all, goodbye.', 1000),
];

const ran = (hypotheses: string[]): WorkerResult => ({
  status: 'ran',
  loadMs: 300,
  rssBeforeLoadMb: 100,
  rssAfterLoadMb: 190,
  peakRssMb: 200,
  clips: CLIPS.map((c, i) => ({ id: c.id, hypothesis: hypotheses[i]!, decodeMs: 600, cpuMs: 300 })),
});

describe('scoreRun', () => {
  it('sums errors over all clips, and per voice, when scoring a run', () => {
    const r = scoreRun(
      'moonshine',
      ran([
        'there is a big pot on ninth street', // 2 substitutions of 8
        'There is a big pothole on my street.',
        'thank you that is all goodbye',
        'and you get all the goodbye', // 4 errors of 6
      ]),
      CLIPS,
      2,
    );
    if (r.status !== 'ran') throw new Error('expected a run');
    expect(r.errors.words).toBe(28);
    expect(r.errors.substitutions + r.errors.deletions + r.errors.insertions).toBe(6);
    expect(r.wer).toBeCloseTo(6 / 28);
    expect(r.werByVoice).toEqual({ a: 2 / 14, b: 4 / 14 });
    // Decode time 4 × 600 ms over 6 s of audio; CPU 4 × 300 ms.
    expect(r.rtfWall).toBeCloseTo(0.4);
    expect(r.rtfCpu).toBeCloseTo(0.2);
    expect(r.worst.map((w) => w.sentence)).toEqual(['goodbye', 'pothole']);
    expect(r.worst[0]).toMatchObject({
      worstVoice: 'b',
      worstHypothesis: 'and you get all the goodbye',
    });
  });

  it('passes a skipped recognizer through with its reason when it did not run', () => {
    const r = scoreRun(
      'deepgram',
      { status: 'skipped', reason: 'DEEPGRAM_API_KEY is not set' },
      CLIPS,
      3,
    );
    expect(r).toEqual({
      name: 'deepgram',
      status: 'skipped',
      reason: 'DEEPGRAM_API_KEY is not set',
    });
    expect(printReport([r], ['a', 'b'])).toEqual([
      'deepgram: skipped (DEEPGRAM_API_KEY is not set)',
    ]);
  });

  it('refuses a result for a clip that was never sent', () => {
    const result = ran(['', '', '', '']);
    if (result.status === 'ran') result.clips[0]!.id = 'c/weather';
    expect(() => scoreRun('moonshine', result, CLIPS, 3)).toThrow(/not sent: c\/weather/);
  });
});
