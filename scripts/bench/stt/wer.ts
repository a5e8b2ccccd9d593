// Word error rate: word-level Levenshtein distance between a reference and a hypothesis, both
// normalised by the same rules first, so that a recognizer is not charged for writing "2nd" where
// the sentence says "second", or "I'm" for "I am":
// - lower case; an apostrophe stays inside a word; every other non-alphanumeric character
//   separates words (so "twenty-one", "3:30" and "555-0142" split into parts);
// - a few contractions are expanded ("what's" → "what is") and spellings unified ("ok" → "okay",
//   "good-by" → "goodbye", "some one" → "someone", "street light" → "streetlight", "mr" → "mister");
// - numbers: a run of consecutive number words and numerals becomes ONE token, the concatenation
//   of its numbers' digits, so "fourteen twenty", "1420" and "one thousand four hundred twenty"
//   are all "1420", and "two zero six five five five" is "206555". A run ending in an ordinal
//   keeps its English suffix ("June fifth" and "June 5th" → "june 5th"). "oh" is never zero.
import { parseNumberRun, isNumberToken } from './numbers.js';

const CONTRACTIONS: Record<string, string> = {
  "what's": 'what is',
  "that's": 'that is',
  "it's": 'it is',
  "there's": 'there is',
  "i'm": 'i am',
  "i'd": 'i would',
  "i'll": 'i will',
  "you're": 'you are',
  "don't": 'do not',
  "doesn't": 'does not',
  "isn't": 'is not',
  "wasn't": 'was not',
  "can't": 'can not',
  cannot: 'can not',
  "won't": 'will not',
};
const SPELLINGS: Record<string, string> = { ok: 'okay', mr: 'mister', mrs: 'missus' };
const JOINED: [string, string, string][] = [
  ['good', 'bye', 'goodbye'],
  ['good', 'by', 'goodbye'],
  ['some', 'one', 'someone'],
  ['street', 'light', 'streetlight'],
];

/** The words of `text` after the rules above. */
export function normalizeWords(text: string): string[] {
  const raw = text
    .toLowerCase()
    .replace(/[\u2018\u2019]/g, "'")
    .split(/[^a-z0-9']+/)
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter(Boolean)
    .flatMap((w) => (CONTRACTIONS[w] ?? SPELLINGS[w] ?? w).split(' '));
  const words: string[] = [];
  for (let i = 0; i < raw.length;) {
    const w = raw[i]!;
    const joined = JOINED.find(([a, b]) => w === a && raw[i + 1] === b);
    if (joined) {
      words.push(joined[2]);
      i += 2;
      continue;
    }
    if (!isNumberToken(w)) {
      words.push(w);
      i += 1;
      continue;
    }
    let end = i;
    while (end < raw.length && isNumberToken(raw[end]!)) end++;
    const run = parseNumberRun(raw.slice(i, end));
    words.push(...run.tokens);
    i += run.used;
  }
  return words;
}

export interface WordErrors {
  substitutions: number;
  deletions: number;
  insertions: number;
  /** Words in the reference. */
  words: number;
}

export const errorCount = (e: WordErrors) => e.substitutions + e.deletions + e.insertions;

/** The fewest substitutions, deletions and insertions that turn `ref` into `hyp`. */
export function alignWords(ref: readonly string[], hyp: readonly string[]): WordErrors {
  type Cell = { cost: number; s: number; d: number; i: number };
  let prev: Cell[] = Array.from({ length: hyp.length + 1 }, (_, j) => ({
    cost: j,
    s: 0,
    d: 0,
    i: j,
  }));
  for (let r = 1; r <= ref.length; r++) {
    const row: Cell[] = [{ cost: r, s: 0, d: r, i: 0 }];
    for (let h = 1; h <= hyp.length; h++) {
      const same = ref[r - 1] === hyp[h - 1];
      const diag = prev[h - 1]!;
      const up = prev[h]!;
      const left = row[h - 1]!;
      // Ties prefer a match or substitution, then a deletion: one fixed answer for equal costs.
      const options: Cell[] = [
        { ...diag, cost: diag.cost + (same ? 0 : 1), s: diag.s + (same ? 0 : 1) },
        { ...up, cost: up.cost + 1, d: up.d + 1 },
        { ...left, cost: left.cost + 1, i: left.i + 1 },
      ];
      row.push(options.reduce((best, c) => (c.cost < best.cost ? c : best)));
    }
    prev = row;
  }
  const last = prev[hyp.length]!;
  return { substitutions: last.s, deletions: last.d, insertions: last.i, words: ref.length };
}

/** Word errors of a hypothesis against its reference text, both normalised. */
export function wordErrors(reference: string, hypothesis: string): WordErrors {
  return alignWords(normalizeWords(reference), normalizeWords(hypothesis));
}

/** Errors summed over many utterances: the corpus WER is their sum over the words' sum. */
export function sumErrors(all: readonly WordErrors[]): WordErrors {
  const sum = { substitutions: 0, deletions: 0, insertions: 0, words: 0 };
  for (const e of all) {
    sum.substitutions += e.substitutions;
    sum.deletions += e.deletions;
    sum.insertions += e.insertions;
    sum.words += e.words;
  }
  return sum;
}

/** Errors per reference word (0 for no words). */
export const wer = (e: WordErrors) => (e.words === 0 ? 0 : errorCount(e) / e.words);
