// The benchmark's command line, checked before anything is made or loaded.
import { parseArgs } from 'node:util';
import { RECOGNIZER_NAMES, type RecognizerName } from './recognizers.js';
import { SENTENCES, type Sentence } from './sentences.js';
import { VOICES, type Voice } from './voices.js';

export const USAGE = `usage: npm run bench:stt [-- --json --voices a,b --recognizers moonshine,deepgram
                        --sentences N|id,id --worst N --feed utterance|clip --list]`;

/**
 * How a clip is given to the recognizers: `utterance` (the default) with the silence the agent's
 * VAD hands over around an utterance (./phone.ts asUtterance); `clip` as the voice spoke it.
 */
export const FEEDS = ['utterance', 'clip'] as const;
export type Feed = (typeof FEEDS)[number];

export interface BenchArgs {
  json: boolean;
  list: boolean;
  voices: Voice[];
  sentences: Sentence[];
  recognizers: RecognizerName[];
  /** Worst sentences printed per recognizer. */
  worst: number;
  feed: Feed;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

/** The named items of `all`, in the order given; an unknown name is a usage error. */
function pick<T>(given: string, all: readonly T[], key: (t: T) => string, what: string): T[] {
  const names = given
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (names.length === 0) throw new UsageError(`--${what} names none`);
  const unknown = names.filter((n) => !all.some((t) => key(t) === n));
  if (unknown.length)
    throw new UsageError(
      `unknown ${what}: ${unknown.join(', ')} (known: ${all.map(key).join(', ')})`,
    );
  return [...new Set(names)].map((n) => all.find((t) => key(t) === n)!);
}

function wholeNumber(given: string, flag: string, max: number): number {
  const n = Number(given);
  if (!/^\d+$/.test(given) || n < 1 || n > max)
    throw new UsageError(`--${flag} must be a whole number from 1 to ${max} (got "${given}")`);
  return n;
}

/** `--sentences 4` takes the first four; `--sentences pothole,goodbye` those two. */
function sentences(given: string | undefined): Sentence[] {
  if (given === undefined) return [...SENTENCES];
  if (/^\d+$/.test(given))
    return SENTENCES.slice(0, wholeNumber(given, 'sentences', SENTENCES.length));
  return pick(given, SENTENCES, (s) => s.id, 'sentences');
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        json: { type: 'boolean', default: false },
        list: { type: 'boolean', default: false },
        voices: { type: 'string' },
        sentences: { type: 'string' },
        recognizers: { type: 'string' },
        worst: { type: 'string', default: '3' },
        feed: { type: 'string', default: 'utterance' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
  const feed = values.feed as Feed;
  if (!FEEDS.includes(feed))
    throw new UsageError(`--feed must be one of ${FEEDS.join(', ')} (got "${values.feed}")`);
  return {
    feed,
    json: values.json,
    list: values.list,
    voices:
      values.voices === undefined
        ? [...VOICES]
        : pick(values.voices, VOICES, (v) => v.id, 'voices'),
    sentences: sentences(values.sentences),
    recognizers:
      values.recognizers === undefined
        ? [...RECOGNIZER_NAMES]
        : pick(values.recognizers, RECOGNIZER_NAMES, (r) => r, 'recognizers'),
    worst: wholeNumber(values.worst, 'worst', SENTENCES.length),
  };
}
