// The recognition test set is made at run time, so it must be the same every time it is made.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { asUtterance } from '../../../scripts/bench/stt/phone.js';
import { SENTENCES } from '../../../scripts/bench/stt/sentences.js';
import { makeTestSet, type Clip } from '../../../scripts/bench/stt/test-set.js';
import { VOICES } from '../../../scripts/bench/stt/voices.js';

const digest = (clips: Clip[]) =>
  clips.map((c) => ({
    id: c.id,
    samples: c.pcm.length,
    sha256: createHash('sha256').update(c.pcm).digest('hex'),
  }));

const hasEspeak = (() => {
  try {
    execFileSync('espeak-ng', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const voice = (id: string) => VOICES.find((v) => v.id === id)!;

describe('makeTestSet', () => {
  it('makes the same samples in the same order when made twice from Flite voices', async () => {
    const sentences = SENTENCES.slice(0, 2);
    const voices = [voice('flite-slt'), voice('flite-kal16')];
    const first = await makeTestSet(sentences, voices);
    const second = await makeTestSet(sentences, voices);
    expect(first.map((c) => c.id)).toEqual([
      'flite-slt/pothole',
      'flite-kal16/pothole',
      'flite-slt/sanitation',
      'flite-kal16/sanitation',
    ]);
    expect(digest(second)).toEqual(digest(first));
    for (const c of first) {
      expect(c.audioMs).toBeGreaterThan(1000); // a sentence, not a click
      expect(c.audioMs).toBeCloseTo((c.pcm.length / 16) | 0, -1);
    }
  });

  it('feeds a clip as an utterance, with its silence around it, unless told to feed it bare', async () => {
    const sentences = SENTENCES.slice(0, 1);
    const voices = [voice('flite-rms')];
    const [bare] = await makeTestSet(sentences, voices, 'clip');
    const [fed] = await makeTestSet(sentences, voices);
    expect(fed!.pcm).toEqual(asUtterance(bare!.pcm, 16000));
    expect(fed!.audioMs - bare!.audioMs).toBeCloseTo(500 + 128, 0);
  });

  it.skipIf(!hasEspeak)(
    'makes the same samples when made twice from eSpeak NG voices',
    async () => {
      const sentences = SENTENCES.slice(3, 4);
      const voices = [voice('espeak-us'), voice('espeak-us-f')];
      const first = await makeTestSet(sentences, voices);
      const second = await makeTestSet(sentences, voices);
      expect(digest(second)).toEqual(digest(first));
      expect(digest(first)[0]!.sha256).not.toBe(digest(first)[1]!.sha256);
    },
  );

  it('has at least twelve sentences and four voices when none are chosen', () => {
    expect(SENTENCES.length).toBeGreaterThanOrEqual(12);
    expect(new Set(SENTENCES.map((s) => s.id)).size).toBe(SENTENCES.length);
    expect(VOICES.length).toBeGreaterThanOrEqual(4);
    expect(SENTENCES.map((s) => s.text)).toEqual(
      expect.arrayContaining([
        'There is a big pothole on my street.',
        'I need someone in the sanitation department.',
        'What time does City Hall open on Monday?',
        'Thank you, that is all, goodbye.',
      ]),
    );
  });
});
