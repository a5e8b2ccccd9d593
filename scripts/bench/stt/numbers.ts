// Number words and numerals as digits, for the WER's normalisation (./wer.ts). A run of number
// tokens is read as a sequence of numbers, each as long as English lets it grow ("twenty" takes a
// following "three", "four" takes a following "hundred", "fourteen" does not take "twenty"), and
// the numbers' digits are concatenated: callers say addresses, years and phone numbers in pieces.

const UNITS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
const TEENS = [
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const ORDINAL_UNITS = [
  '',
  'first',
  'second',
  'third',
  'fourth',
  'fifth',
  'sixth',
  'seventh',
  'eighth',
  'ninth',
];
const ORDINAL_TEENS = TEENS.map((t) => (t === 'twelve' ? 'twelfth' : `${t}th`));
const ORDINAL_TENS = TENS.map((t) => (t ? `${t.slice(0, -1)}ieth` : ''));

type Kind = 'unit' | 'teen' | 'tens' | 'hundred' | 'thousand' | 'numeral';
interface Word {
  kind: Kind;
  value: number;
  ordinal: boolean;
  /** A numeral's own digits (leading zeros kept). */
  digits?: string;
}

const WORDS = new Map<string, Word>();
const add = (names: string[], kind: Kind, ordinal: boolean, offset = 0) =>
  names.forEach(
    (n, i) =>
      n && WORDS.set(n, { kind, value: (i + offset) * (kind === 'tens' ? 10 : 1), ordinal }),
  );
add(UNITS, 'unit', false);
add(ORDINAL_UNITS, 'unit', true);
add(TEENS, 'teen', false, 10);
add(ORDINAL_TEENS, 'teen', true, 10);
add(TENS, 'tens', false);
add(ORDINAL_TENS, 'tens', true);
WORDS.set('hundred', { kind: 'hundred', value: 100, ordinal: false });
WORDS.set('hundredth', { kind: 'hundred', value: 100, ordinal: true });
WORDS.set('thousand', { kind: 'thousand', value: 1000, ordinal: false });
WORDS.set('thousandth', { kind: 'thousand', value: 1000, ordinal: true });

const NUMERAL = /^(\d+)(st|nd|rd|th)?$/;

function lookup(token: string): Word | undefined {
  const m = NUMERAL.exec(token);
  if (m) return { kind: 'numeral', value: Number(m[1]), ordinal: m[2] !== undefined, digits: m[1] };
  return WORDS.get(token);
}

export const isNumberToken = (token: string) => lookup(token) !== undefined;

/** The English suffix of an ordinal: 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st. */
export function ordinalSuffix(n: number): string {
  if (n % 100 >= 11 && n % 100 <= 13) return 'th';
  return ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th';
}

/** One number being read: the thousands already complete, the part below a thousand, the last word. */
interface Group {
  thousands: number;
  below: number;
  last: Kind;
}

/** Whether `w` continues `g` (and how), or starts a new number. */
function extend(g: Group, w: Word): Group | undefined {
  const open = g.last === 'hundred' || g.last === 'thousand';
  switch (w.kind) {
    case 'unit':
      if (w.value === 0) return undefined;
      if (g.last === 'tens' || open) return { ...g, below: g.below + w.value, last: 'unit' };
      return undefined;
    case 'teen':
    case 'tens':
      return open ? { ...g, below: g.below + w.value, last: w.kind } : undefined;
    case 'hundred':
      if (g.last === 'hundred' || g.last === 'thousand' || g.below === 0 || g.below >= 100)
        return undefined;
      return { ...g, below: g.below * 100, last: 'hundred' };
    case 'thousand':
      if (g.thousands > 0 || g.below === 0) return undefined;
      return { thousands: g.below * 1000, below: 0, last: 'thousand' };
    default:
      return undefined;
  }
}

/**
 * Reads the number tokens at the start of `tokens` (all of them number tokens) as one token of
 * digits. A run stops after an ordinal; `used` says how many tokens it took.
 */
export function parseNumberRun(tokens: readonly string[]): { tokens: string[]; used: number } {
  let digits = '';
  let group: Group | undefined;
  let used = 0;
  let ordinalValue: number | undefined;
  const close = () => {
    if (group) digits += String(group.thousands + group.below);
    group = undefined;
  };
  for (const token of tokens) {
    const w = lookup(token);
    if (!w) break;
    used += 1;
    const next = group && extend(group, w);
    if (next) group = next;
    else if (w.kind === 'numeral') {
      close();
      digits += w.digits;
    } else {
      close();
      // A scale word alone ("hundred") is read as one of it.
      group = { thousands: 0, below: w.value, last: w.kind };
    }
    if (w.ordinal) {
      ordinalValue = w.kind === 'numeral' ? w.value : group!.thousands + group!.below;
      break;
    }
  }
  close();
  const suffix = ordinalValue === undefined ? '' : ordinalSuffix(ordinalValue);
  return { tokens: digits ? [digits + suffix] : [], used };
}
