// The figures of bench:cpu: each child's result line (parsed here, once), and the summary of the
// runs per pipeline with the ratio stock / callbridge.
import { z } from 'zod';

export const PIPELINES = ['callbridge', 'stock'] as const;
export type Pipeline = (typeof PIPELINES)[number];

const msRecord = z.record(z.string(), z.number());

/** What one child prints as its last line: one session's CPU, and how it went. */
export const RunResult = z.object({
  pipeline: z.enum(PIPELINES),
  /** The pipeline and the environment it ran with (`callbridge`, `callbridge+NAME=1`). */
  label: z.string(),
  /** process.cpuUsage() over the session: all threads, user + system. */
  cpuMs: z.number(),
  wallMs: z.number(),
  /** /proc per-thread CPU over the session, by the load step each thread was born in. */
  threads: msRecord,
  /** Parts measured inside the session: STT decode, TTS, GC pauses. */
  parts: msRecord,
  /** The job process's load before the call, by step (all threads). */
  prewarm: msRecord,
  /** End of a caller line -> first frame of the reply. */
  turnsMs: z.array(z.number()),
  heard: z.array(z.string()),
  /** Resident memory after the call (MB): the process, and the model files it maps. */
  memoryMb: msRecord,
  /** Whether the call ended with the agent's goodbye (end_call), as scripted. */
  ended: z.boolean(),
});
export type RunResult = z.infer<typeof RunResult>;

/** The result in a child's output: its last JSON line. */
export function parseRunOutput(stdout: string): RunResult {
  const last = stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (!last) throw new Error('the session child printed no result');
  return RunResult.parse(JSON.parse(last));
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** Median (the lower middle of an even count), min and max. */
export function spread(xs: readonly number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
  return { median: s[Math.floor((s.length - 1) / 2)]!, min: s[0]!, max: s.at(-1)!, n: s.length };
}

/** A call's length differs from run to run: its CPU is also compared per 25 s of it. */
export const PER_CALL_MS = 25_000;

export interface PipelineSummary {
  cpuMs: Spread;
  wallMs: Spread;
  /** CPU per 25 s of call, run by run. */
  per25sMs: Spread;
  /** Median per key over the runs (a key missing in a run counts 0 there). */
  threads: Record<string, number>;
  parts: Record<string, number>;
  prewarm: Record<string, number>;
  memoryMb: Record<string, number>;
  turnsMs: Spread;
  ended: number;
  heard: string[];
}

function medianByKey(records: readonly Record<string, number>[]): Record<string, number> {
  const keys = [...new Set(records.flatMap((r) => Object.keys(r)))].sort();
  return Object.fromEntries(keys.map((k) => [k, spread(records.map((r) => r[k] ?? 0)).median]));
}

export function summarize(runs: readonly RunResult[]): PipelineSummary {
  return {
    cpuMs: spread(runs.map((r) => r.cpuMs)),
    wallMs: spread(runs.map((r) => r.wallMs)),
    per25sMs: spread(runs.map((r) => (r.cpuMs / r.wallMs) * PER_CALL_MS)),
    threads: medianByKey(runs.map((r) => r.threads)),
    parts: medianByKey(runs.map((r) => r.parts)),
    prewarm: medianByKey(runs.map((r) => r.prewarm)),
    memoryMb: medianByKey(runs.map((r) => r.memoryMb)),
    turnsMs: spread(runs.flatMap((r) => r.turnsMs)),
    ended: runs.filter((r) => r.ended).length,
    heard: runs[0]?.heard ?? [],
  };
}

export interface Comparison {
  /** By label, in the order the runs came. */
  pipelines: Record<string, PipelineSummary>;
  /** Median CPU per 25 s of a stock call over callbridge's (undefined without both). */
  ratio: number | undefined;
}

export function compare(runs: readonly RunResult[]): Comparison {
  const pipelines: Comparison['pipelines'] = {};
  for (const label of new Set(runs.map((r) => r.label))) {
    pipelines[label] = summarize(runs.filter((r) => r.label === label));
  }
  const { callbridge, stock } = pipelines;
  const ratio =
    callbridge && stock && callbridge.per25sMs.median > 0
      ? stock.per25sMs.median / callbridge.per25sMs.median
      : undefined;
  return { pipelines, ratio };
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const line = (r: Record<string, number>) =>
  Object.entries(r)
    .map(([k, v]) =>
      k.endsWith('(count)') ? `${k.replace(' (count)', '')} ×${v}` : `${k} ${s(v)}`,
    )
    .join(', ');

/** The report's lines for a person. */
export function formatComparison(c: Comparison): string[] {
  const out: string[] = [];
  for (const [name, p] of Object.entries(c.pipelines)) {
    out.push(
      `${name}: CPU per call median ${s(p.cpuMs.median)} (min ${s(p.cpuMs.min)}, max ${s(p.cpuMs.max)}, n=${p.cpuMs.n}), call ${s(p.wallMs.median)} long; per 25 s of call median ${s(p.per25sMs.median)} (min ${s(p.per25sMs.min)}, max ${s(p.per25sMs.max)}); ${p.ended}/${p.cpuMs.n} ended by the goodbye`,
      `  threads: ${line(p.threads)}`,
      `  parts: ${line(p.parts)}`,
      `  turn (end of caller line -> first reply frame): median ${p.turnsMs.median} ms, max ${p.turnsMs.max} ms`,
      `  heard: ${p.heard.map((h) => JSON.stringify(h)).join(', ')}`,
    );
    const mb = Object.entries(p.memoryMb).map(([k, v]) => `${k} ${v.toFixed(0)} MB`);
    if (mb.length > 0) out.push(`  memory after the call: ${mb.join(', ')}`);
    if (Object.keys(p.prewarm).length > 0)
      out.push(`  this process's load (sources through tsx, not the bundle): ${line(p.prewarm)}`);
  }
  if (c.ratio !== undefined)
    out.push(`ratio stock / callbridge (median CPU per 25 s of call): ${c.ratio.toFixed(2)}`);
  return out;
}

/** A spare's load from the bundle, median by step over the rounds, and its total. */
export function formatPrewarm(label: string, rounds: readonly Record<string, number>[]): string {
  const steps = medianByKey(rounds);
  const total = spread(rounds.map((r) => Object.values(r).reduce((a, b) => a + b, 0)));
  return `prewarm of a spare, bundled worker (${label}, n=${total.n}): ${s(total.median)} (min ${s(total.min)}, max ${s(total.max)}): ${line(steps)}`;
}
