// The soak's words: a report's table (each component's memory and open file descriptors, and their
// change since the first report), the lab's own state, the calls of the window, and the summary's
// trend per component. Pure: the figures come in, lines go out.
import { quantile } from '../../../lab/stats.js';
import { type Trend, trendOf } from './trend.js';

/** One component's processes at one sample, summed; null figures: none of them could be read. */
export interface ComponentUsage {
  name: string;
  /** The agent's job processes come and go: the row counts them. */
  group: boolean;
  pids: number;
  rssBytes: number | null;
  fds: number | null;
}

/** What the lab holds: null where the read failed. */
export interface LabState {
  rooms: number | null;
  participants: number | null;
  /** State items in the open-calls index, and those of them whose call is not in progress. */
  openCalls: number | null;
  openNotInProgress: number | null;
  /** Leases in `limit#all`, and those of them whose call is not in progress. */
  leases: number | null;
  leasesNotInProgress: number | null;
  /** Calls in progress at the callers' end. */
  inProgress: number;
}

export interface Sample {
  /** Since the first call, ms. */
  atMs: number;
  components: ComponentUsage[];
  lab: LabState;
}

export interface CallFigures {
  /** Calls that ended (the window's, or the run's). */
  ended: number;
  held: number;
  /** Of which the agent's first audio reached the caller. */
  answered: number;
  ttfaP50Ms: number | null;
  ttfaP95Ms: number | null;
}

export function callFigures(calls: readonly { ok: boolean; ttfaMs: number | null }[]): CallFigures {
  const ttfa = calls
    .map((c) => c.ttfaMs)
    .filter((v): v is number => v !== null)
    .sort((a, b) => a - b);
  return {
    ended: calls.length,
    held: calls.filter((c) => c.ok).length,
    answered: ttfa.length,
    ttfaP50Ms: ttfa.length ? quantile(ttfa, 0.5) : null,
    ttfaP95Ms: ttfa.length ? quantile(ttfa, 0.95) : null,
  };
}

const MB = 2 ** 20;
export const fmtMb = (bytes: number | null) =>
  bytes === null ? '—' : `${(bytes / MB).toFixed(1)} MB`;
const fmtMs = (ms: number | null) => (ms === null ? '—' : `${Math.round(ms)} ms`);
const fmtMin = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;
/** A change with its sign; a change that rounds to nothing is ±0. */
export function signed(v: number | null, digits = 0, unit = ''): string {
  if (v === null) return '—';
  const r = Number(v.toFixed(digits));
  const sign = r > 0 ? '+' : r < 0 ? '-' : '±';
  return `${sign}${Math.abs(r).toFixed(digits)}${unit}`;
}
const diff = (a: number | null, b: number | null | undefined) =>
  a === null || b === null || b === undefined ? null : a - b;
const label = (c: ComponentUsage) => (c.group ? `${c.name} ×${c.pids}` : c.name);

/** The rows of one report: each component against the first report's sample. */
export function usageTable(sample: Sample, first: Sample): string[] {
  const lines = [
    `  ${'component'.padEnd(26)}${'RSS'.padStart(10)}${'Δ first'.padStart(11)}` +
      `${'fds'.padStart(7)}${'Δ first'.padStart(9)}`,
  ];
  for (const c of sample.components) {
    const was = first.components.find((f) => f.name === c.name);
    const dRss = diff(c.rssBytes, was?.rssBytes);
    lines.push(
      `  ${label(c).padEnd(26)}${fmtMb(c.rssBytes).padStart(10)}` +
        `${signed(dRss === null ? null : dRss / MB, 1, ' MB').padStart(11)}` +
        `${String(c.fds ?? '—').padStart(7)}${signed(diff(c.fds, was?.fds)).padStart(9)}`,
    );
  }
  return lines;
}

const n = (v: number | null) => (v === null ? '?' : String(v));

export function labStateLine(s: LabState): string {
  return (
    `  LiveKit ${n(s.rooms)} rooms, ${n(s.participants)} participants · open call records ` +
    `${n(s.openCalls)} (${n(s.openNotInProgress)} not in progress) · limit#all leases ` +
    `${n(s.leases)} (${n(s.leasesNotInProgress)} not in progress) · calls in progress ${s.inProgress}`
  );
}

export function callsLine(what: string, f: CallFigures): string {
  if (f.ended === 0) return `  ${what}: none ended`;
  return (
    `  ${what}: ${f.held}/${f.ended} held every expectation · TTFA p50 ${fmtMs(f.ttfaP50Ms)}, ` +
    `p95 ${fmtMs(f.ttfaP95Ms)} (${f.answered} heard the agent)`
  );
}

/** A report: its heading, the table, the lab's state and the window's calls. */
export function reportLines(sample: Sample, first: Sample, window: CallFigures): string[] {
  const since = sample.atMs - first.atMs;
  return [
    `\nreport at ${fmtMin(sample.atMs)}` + (since > 0 ? ` (${fmtMin(since)} after the first)` : ''),
    ...usageTable(sample, first),
    labStateLine(sample.lab),
    callsLine('calls ended since the last report', window),
  ];
}

export interface ComponentTrend {
  name: string;
  rssMb: Trend | null;
  fds: Trend | null;
  pids: { first: number; last: number };
}

/** Each component's trend over the samples (those where it could be read). */
export function componentTrends(samples: readonly Sample[]): ComponentTrend[] {
  const names = [...new Set(samples.flatMap((s) => s.components.map((c) => c.name)))];
  return names.map((name) => {
    const of = samples.flatMap((s) =>
      s.components.filter((c) => c.name === name).map((c) => ({ atMs: s.atMs, c })),
    );
    const points = (get: (c: ComponentUsage) => number | null) =>
      of.flatMap(({ atMs, c }) => (get(c) === null ? [] : [{ atMs, value: get(c)! }]));
    return {
      name,
      rssMb: trendOf(points((c) => (c.rssBytes === null ? null : c.rssBytes / MB))),
      fds: trendOf(points((c) => c.fds)),
      pids: { first: of[0]?.c.pids ?? 0, last: of.at(-1)?.c.pids ?? 0 },
    };
  });
}

/** "grew by X MB over N minutes (first → last)", the slope, and the same for the fds. */
export function trendLine(t: ComponentTrend, group: boolean): string {
  const head = `  ${t.name.padEnd(22)}`;
  if (!t.rssMb) return `${head}not read`;
  const r = t.rssMb;
  const grew =
    r.growth < 0 ? `shrank by ${(-r.growth).toFixed(1)} MB` : `grew by ${signed(r.growth, 1)} MB`;
  const fds = t.fds
    ? `; fds ${t.fds.first} → ${t.fds.last} (${signed(t.fds.per10Min, 1)} per 10 min)`
    : '';
  const procs = group ? `; processes ${t.pids.first} → ${t.pids.last}` : '';
  return (
    `${head}${grew} over ${r.minutes.toFixed(1)} min (${r.first.toFixed(1)} → ${r.last.toFixed(1)} MB), ` +
    `slope ${signed(r.per10Min, 2)} MB per 10 min${fds}${procs}`
  );
}

/** Each component idle before the first call and idle after the last, side by side. */
export function idleLines(before: Sample, after: Sample): string[] {
  return after.components.map((c) => {
    const was = before.components.find((b) => b.name === c.name);
    const dRss = diff(c.rssBytes, was?.rssBytes);
    const name = c.group ? `${c.name} ×${was?.pids ?? 0} → ×${c.pids}` : c.name;
    return (
      `  ${name.padEnd(30)}${fmtMb(was?.rssBytes ?? null)} → ${fmtMb(c.rssBytes)} ` +
      `(${signed(dRss === null ? null : dRss / MB, 1, ' MB')}) · fds ${was?.fds ?? '—'} → ` +
      `${c.fds ?? '—'} (${signed(diff(c.fds, was?.fds))})`
    );
  });
}
