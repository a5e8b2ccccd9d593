// The benchmark's command line: what it accepts, and the errors it gives before doing anything.
import { describe, expect, it } from 'vitest';
import { parseBenchArgs, UsageError } from '../../../scripts/bench/stt/args.js';
import { RECOGNIZER_NAMES } from '../../../scripts/bench/stt/recognizers.js';
import { SENTENCES } from '../../../scripts/bench/stt/sentences.js';
import { VOICES } from '../../../scripts/bench/stt/voices.js';

describe('parseBenchArgs', () => {
  it('takes every voice, sentence and recognizer when given nothing', () => {
    const a = parseBenchArgs([]);
    expect(a).toMatchObject({ json: false, list: false, worst: 3, feed: 'utterance' });
    expect(a.voices).toHaveLength(VOICES.length);
    expect(a.sentences).toHaveLength(SENTENCES.length);
    expect(a.recognizers).toEqual([...RECOGNIZER_NAMES]);
  });

  it('takes the named voices and recognizers in the order given when listed', () => {
    const a = parseBenchArgs([
      '--json',
      '--voices',
      'espeak-us,flite-slt',
      '--recognizers',
      'deepgram,moonshine',
    ]);
    expect(a.json).toBe(true);
    expect(a.voices.map((v) => v.id)).toEqual(['espeak-us', 'flite-slt']);
    expect(a.recognizers).toEqual(['deepgram', 'moonshine']);
  });

  it('takes the first N sentences when --sentences is a number, the named ones otherwise', () => {
    expect(parseBenchArgs(['--sentences', '4']).sentences).toEqual(SENTENCES.slice(0, 4));
    expect(parseBenchArgs(['--sentences', 'goodbye,pothole']).sentences.map((s) => s.id)).toEqual([
      'goodbye',
      'pothole',
    ]);
  });

  it('feeds bare clips when told --feed clip', () => {
    expect(parseBenchArgs(['--feed', 'clip']).feed).toBe('clip');
  });

  it.each([
    [['--feed', 'padded'], /--feed must be one of utterance, clip/],
    [['--voices', 'flite-slt,nobody'], /unknown voices: nobody/],
    [['--recognizers', 'whisper'], /unknown recognizers: whisper/],
    [['--sentences', 'pothole,weather'], /unknown sentences: weather/],
    [['--voices', ','], /--voices names none/],
    [['--sentences', '0'], /--sentences must be a whole number from 1/],
    [['--sentences', '99'], /--sentences must be a whole number from 1 to 16/],
    [['--worst', 'two'], /--worst must be a whole number/],
    [['--fast'], /Unknown option '--fast'/],
    [['moonshine'], /Unexpected argument 'moonshine'/],
    [['--voices'], /argument missing/],
  ])('refuses %j with a usage error', (argv, message) => {
    expect(() => parseBenchArgs(argv)).toThrow(UsageError);
    expect(() => parseBenchArgs(argv)).toThrow(message);
  });
});
