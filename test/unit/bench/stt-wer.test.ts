// The benchmark's word error rate: Levenshtein counts and the normalisation both sides go through.
import { describe, expect, it } from 'vitest';
import { parseNumberRun } from '../../../scripts/bench/stt/numbers.js';
import {
  alignWords,
  normalizeWords,
  sumErrors,
  wer,
  wordErrors,
} from '../../../scripts/bench/stt/wer.js';

const words = (s: string) => s.split(' ');

describe('alignWords', () => {
  it('counts nothing when the hypothesis is the reference', () => {
    expect(alignWords(words('a b c'), words('a b c'))).toEqual({
      substitutions: 0,
      deletions: 0,
      insertions: 0,
      words: 3,
    });
  });

  it('counts a substitution when one word is heard as another', () => {
    expect(alignWords(words('a big pothole'), words('a big pot'))).toMatchObject({
      substitutions: 1,
      deletions: 0,
      insertions: 0,
    });
  });

  it('counts deletions when words are missing, wherever they are', () => {
    expect(alignWords(words('thank you that is all'), words('you that all'))).toMatchObject({
      substitutions: 0,
      deletions: 2,
      insertions: 0,
    });
  });

  it('counts insertions when extra words are heard', () => {
    expect(alignWords(words('goodbye'), words('and good goodbye now'))).toMatchObject({
      substitutions: 0,
      deletions: 0,
      insertions: 3,
    });
  });

  it('counts every reference word deleted when nothing is heard', () => {
    expect(alignWords(words('i need someone'), [])).toMatchObject({ deletions: 3, words: 3 });
    expect(wer(alignWords(words('i need someone'), []))).toBe(1);
  });

  it('takes the cheapest alignment when substitutions and shifts compete', () => {
    // "a b c d" → "b c d e": one deletion and one insertion (2), not four substitutions.
    const e = alignWords(words('a b c d'), words('b c d e'));
    expect(e.substitutions + e.deletions + e.insertions).toBe(2);
    expect(e).toMatchObject({ deletions: 1, insertions: 1 });
  });
});

describe('normalizeWords', () => {
  it('lowercases and strips punctuation when the recognizer writes sentences', () => {
    expect(normalizeWords('What time does City Hall open on Monday?')).toEqual(
      words('what time does city hall open on monday'),
    );
  });

  it('splits hyphenated words and expands contractions when written either way', () => {
    expect(normalizeWords("What's the twenty-one? I'm out")).toEqual(
      words('what is the 21 i am out'),
    );
  });

  it('unifies spellings of the same words when one form is joined', () => {
    expect(normalizeWords('Good-bye, some one. OK')).toEqual(words('goodbye someone okay'));
    expect(normalizeWords('good-by, the street light')).toEqual(words('goodbye the streetlight'));
  });

  it('reads numbers in words and in digits as the same digits', () => {
    expect(normalizeWords('I live at fourteen twenty Oak Street.')).toEqual(
      normalizeWords('I live at 1420 Oak Street'),
    );
    expect(normalizeWords('one thousand four hundred twenty')).toEqual(['1420']);
  });

  it('joins a phone number said digit by digit into one token when commas or dashes split it', () => {
    const ref = 'call me at two zero six, five five five, zero one four two';
    expect(normalizeWords(ref)).toEqual(words('call me at 2065550142'));
    expect(normalizeWords('call me at 206-555-0142.')).toEqual(normalizeWords(ref));
  });

  it('keeps an ordinal suffix when the number is an ordinal, in words or digits', () => {
    expect(normalizeWords('June fifth')).toEqual(['june', '5th']);
    expect(normalizeWords('June 5th')).toEqual(['june', '5th']);
    expect(normalizeWords('Second Avenue')).toEqual(normalizeWords('2nd avenue'));
    expect(normalizeWords('the twenty first')).toEqual(['the', '21st']);
  });

  it('does not read "oh" as zero', () => {
    expect(normalizeWords('oh two')).toEqual(['oh', '2']);
  });
});

describe('parseNumberRun', () => {
  it('starts a new number when English cannot continue the current one', () => {
    expect(parseNumberRun(words('twenty twenty six')).tokens).toEqual(['2026']);
    expect(parseNumberRun(words('two thousand twenty six')).tokens).toEqual(['2026']);
    expect(parseNumberRun(words('nineteen hundred')).tokens).toEqual(['1900']);
    expect(parseNumberRun(words('four seven two')).tokens).toEqual(['472']);
  });

  it('stops after an ordinal when more numbers follow', () => {
    expect(parseNumberRun(words('fifth three'))).toEqual({ tokens: ['5th'], used: 1 });
  });
});

describe('wordErrors', () => {
  it('charges a recognizer nothing when it writes the same words differently', () => {
    const e = wordErrors(
      'Please call me back at two zero six, five five five, zero one four two.',
      'Please call me back at 206-555-0142.',
    );
    expect(wer(e)).toBe(0);
  });

  it('charges one error for a number heard wrong when it is one token', () => {
    const e = wordErrors(
      'My account number is four seven two nine one eight.',
      'my account number is 472981',
    );
    expect(e).toMatchObject({ substitutions: 1, words: 5 });
  });

  it('sums errors and words over utterances when computing a corpus WER', () => {
    const sum = sumErrors([wordErrors('a b', 'a c'), wordErrors('d e f g', 'd e f g')]);
    expect(sum).toEqual({ substitutions: 1, deletions: 0, insertions: 0, words: 6 });
    expect(wer(sum)).toBeCloseTo(1 / 6);
  });
});
