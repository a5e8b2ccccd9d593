// What a recognizer's run comes to: WER overall, per voice and per sentence, real-time factors,
// load time and memory; and how it is printed.
import type { WorkerResult } from './isolated.js';
import type { RecognizerName } from './recognizers.js';
import type { Clip } from './test-set.js';
import { sumErrors, wer, wordErrors, type WordErrors } from './wer.js';

export interface ScoredClip {
  id: string;
  voice: string;
  sentence: string;
  reference: string;
  hypothesis: string;
  errors: WordErrors;
  audioMs: number;
  decodeMs: number;
  cpuMs: number;
}

export interface WorstSentence {
  sentence: string;
  reference: string;
  wer: number;
  /** The voice it was heard worst in, and what was heard. */
  worstVoice: string;
  worstHypothesis: string;
}

export type RecognizerReport =
  | { name: RecognizerName; status: 'skipped' | 'failed'; reason: string }
  | {
      name: RecognizerName;
      status: 'ran';
      note?: string;
      wer: number;
      errors: WordErrors;
      werByVoice: Record<string, number>;
      /** Decode time over audio time: wall clock, and the process's CPU (all its threads). */
      rtfWall: number;
      rtfCpu: number;
      loadMs: number;
      rssAfterLoadMb: number;
      rssBeforeLoadMb: number;
      peakRssMb: number;
      worst: WorstSentence[];
      clips: ScoredClip[];
    };

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

/** The sentences with the highest WER over all voices, worst first (ties: plan order). */
export function worstSentences(clips: readonly ScoredClip[], count: number): WorstSentence[] {
  const rows = [...groupBy(clips, (c) => c.sentence)].map(([sentence, cs]) => {
    const worstClip = cs.reduce((a, b) => (wer(b.errors) > wer(a.errors) ? b : a));
    return {
      sentence,
      reference: cs[0]!.reference,
      wer: wer(sumErrors(cs.map((c) => c.errors))),
      worstVoice: worstClip.voice,
      worstHypothesis: worstClip.hypothesis,
    };
  });
  return rows
    .map((row, order) => ({ row, order }))
    .sort((a, b) => b.row.wer - a.row.wer || a.order - b.order)
    .slice(0, count)
    .map((r) => r.row);
}

/** Each clip's transcript against its reference. */
function scoreClips(result: Extract<WorkerResult, { status: 'ran' }>, clips: readonly Clip[]) {
  const byId = new Map(clips.map((c) => [c.id, c]));
  return result.clips.map((r): ScoredClip => {
    const clip = byId.get(r.id);
    if (!clip) throw new Error(`the worker returned a clip that was not sent: ${r.id}`);
    const { voice, sentence, text, audioMs } = clip;
    return {
      ...r,
      voice,
      sentence,
      reference: text,
      errors: wordErrors(text, r.hypothesis),
      audioMs,
    };
  });
}

const werOf = (clips: readonly ScoredClip[]) => wer(sumErrors(clips.map((c) => c.errors)));

/** A worker's result scored against the clips it heard. */
export function scoreRun(
  name: RecognizerName,
  result: WorkerResult,
  clips: readonly Clip[],
  worst: number,
): RecognizerReport {
  if (result.status !== 'ran') return { name, status: result.status, reason: result.reason };
  const scored = scoreClips(result, clips);
  const total = (f: (c: ScoredClip) => number) => scored.reduce((s, c) => s + f(c), 0);
  const errors = sumErrors(scored.map((c) => c.errors));
  const byVoice = [...groupBy(scored, (c) => c.voice)];
  const { loadMs, rssAfterLoadMb, rssBeforeLoadMb, peakRssMb, note } = result;
  return {
    name,
    status: 'ran',
    ...(note ? { note } : {}),
    wer: wer(errors),
    errors,
    werByVoice: Object.fromEntries(byVoice.map(([v, cs]) => [v, werOf(cs)])),
    rtfWall: total((c) => c.decodeMs) / total((c) => c.audioMs),
    rtfCpu: total((c) => c.cpuMs) / total((c) => c.audioMs),
    loadMs,
    rssAfterLoadMb,
    rssBeforeLoadMb,
    peakRssMb,
    worst: worstSentences(scored, worst),
    clips: scored,
  };
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const pad = (cells: string[], widths: number[]) =>
  `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;

/** A Markdown table, columns as wide as their widest cell. */
export function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [pad(head, widths), rule, ...rows.map((r) => pad(r, widths))];
}

type Ran = Extract<RecognizerReport, { status: 'ran' }>;

const HEAD = [
  'recognizer',
  'WER',
  'sub/del/ins',
  'RTF wall',
  'RTF CPU',
  'load',
  'RSS after load',
  'peak RSS',
];

function figures(r: Ran): string[] {
  const e = r.errors;
  const loaded = Math.round(r.rssAfterLoadMb - r.rssBeforeLoadMb);
  return [
    r.name,
    pct(r.wer),
    `${e.substitutions}/${e.deletions}/${e.insertions} of ${e.words}`,
    r.rtfWall.toFixed(3),
    r.rtfCpu.toFixed(3),
    `${Math.round(r.loadMs)} ms`,
    `${Math.round(r.rssAfterLoadMb)} MB (+${loaded})`,
    `${Math.round(r.peakRssMb)} MB`,
  ];
}

function worstLines(r: Ran): string[] {
  return [
    ...(r.note ? [`${r.name}: ${r.note}`] : []),
    `${r.name}, worst sentences (WER over all voices; the worst voice's transcript):`,
    ...r.worst.map(
      (w) =>
        `  ${pct(w.wer).padStart(6)}  "${w.reference}"  ${w.worstVoice}: "${w.worstHypothesis}"`,
    ),
  ];
}

/** The figures as text: a table of recognizers, one of WER by voice, the worst sentences. */
export function printReport(
  reports: readonly RecognizerReport[],
  voices: readonly string[],
): string[] {
  const ran = reports.filter((r): r is Ran => r.status === 'ran');
  const byVoice = ran.map((r) => [r.name, ...voices.map((v) => pct(r.werByVoice[v] ?? 0))]);
  const notRun = reports.flatMap((r) =>
    r.status === 'ran' ? [] : [`${r.name}: ${r.status} (${r.reason})`],
  );
  if (ran.length === 0) return notRun;
  return [
    ...table(HEAD, ran.map(figures)),
    '',
    ...table(['WER by voice', ...voices], byVoice),
    '',
    ...ran.flatMap(worstLines),
    ...notRun,
  ];
}
