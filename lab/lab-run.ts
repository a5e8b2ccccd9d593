// Running scripted calls on the lab and reporting them: N calls of a scenario, K at a time, their
// arrivals spaced by a ramp; each call's timeline and checks; the figures at the caller's ear
// beside the components' own telemetry (the agent's and the SMA's Prometheus endpoints). Shared by
// `npm start` and the lab benchmark.
import { quantile } from './stats.js';
import type { Scenario } from './caller/scenario.js';
import type { Via } from './caller/call-run.js';
import type { Lab } from './lab.js';
import { type CallResult, runScriptedCall } from './caller/scripted-caller.js';
import { type HistogramTotals, meanMsBetween, scrapeHistograms } from './scrape.js';
import { HOP_LABELS } from './caller/transfer-hops.js';

const TTFA = 'voice_call_time_to_first_audio_seconds';
const CTD = 'voice_call_transfer_delay_seconds';
const E2E = 'voice_call_duration_seconds';

export interface RunOptions {
  scenario: Scenario;
  calls: number;
  /** Calls in progress at once. */
  concurrent: number;
  /** At least this long between two calls' arrivals (0: as fast as the pool allows). */
  rampMs?: number;
  /** Where the report goes, line by line (default: nowhere). */
  say?: (line?: string) => void;
  /**
   * Print every call's timeline (default true). Without timelines, no observer joins the calls'
   * rooms to read what the agent said and heard.
   */
  timelines?: boolean;
  /** How the calls reach callbridge (default: through Chime's SMA). */
  via?: Via;
}

/** The components' own figures (means, ms), null where they recorded nothing. */
export interface ComponentFigures {
  /** The agent: SIP answer → first audio sent. */
  ttfaMs: number | null;
  /** The SMA: requestedAt → the person's leg connected. */
  ctdMs: number | null;
  /** The SMA: LEG-A start → call end. */
  e2eMs: number | null;
}

export interface RunReport {
  results: CallResult[];
  /** The components' means over the run. */
  components: ComponentFigures;
}

export const fmtMs = (ms: number | null) =>
  ms === null ? '—' : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
const secs = (ms: number) => `${(ms / 1000).toFixed(3)} s`;

export async function runCalls(lab: Lab, o: RunOptions): Promise<RunReport> {
  const say = o.say ?? (() => {});
  const results: CallResult[] = [];
  let next = 0;
  let nextStart = performance.now();
  const runBefore = await scrapeAll(lab);
  const worker = async () => {
    while (next < o.calls) {
      const index = ++next;
      const wait = nextStart - performance.now();
      nextStart = Math.max(performance.now(), nextStart) + (o.rampMs ?? 0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      // One call at a time: the components' figures between two scrapes are this call's.
      const before = o.concurrent === 1 ? await scrapeAll(lab) : undefined;
      const result = await runScriptedCall(lab, o.scenario, {
        observe: o.timelines ?? true,
        via: o.via,
      });
      results.push(result);
      let telemetry = '';
      if (before) {
        await new Promise((r) => setTimeout(r, 300)); // the job process relays its measurements
        telemetry = describeComponents(componentsBetween(before, await scrapeAll(lab)));
      }
      if (o.timelines ?? true) printCall(say, result, index, o.calls, telemetry);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrent, o.calls) }, worker));
  await new Promise((r) => setTimeout(r, 300));
  return { results, components: componentsBetween(runBefore, await scrapeAll(lab)) };
}

function printCall(
  say: (line?: string) => void,
  r: CallResult,
  index: number,
  total: number,
  telemetry: string,
): void {
  say(`\n▶ call ${index}/${total} · ${r.scenario} · call ${r.tx.slice(0, 8)}`);
  for (const e of r.timeline) {
    say(`  ${`+${secs(e.at - r.startedAt)}`.padStart(10)}  ${e.source.padEnd(9)} ${e.text}`);
  }
  for (const c of r.checks) {
    say(`  ${c.ok ? '✓' : '✗'} ${c.what}${c.detail && !c.ok ? ` (${c.detail})` : ''}`);
  }
  say(
    `  at the caller's ear:   TTFA ${fmtMs(r.ttfaMs)} · CTD ${fmtMs(r.ctdMs)} · E2E ${fmtMs(r.e2eMs)}`,
  );
  if (r.hops?.updateAcceptedMs != null) {
    const hops = HOP_LABELS.map(([k, label]) => `${label} ${fmtMs(r.hops![k])}`).join(' · ');
    say(`  transfer hops, from the request: ${hops}`);
  }
  if (telemetry) say(`  components' telemetry: ${telemetry}`);
}

/** Median, p95 and max of the figures that were measured (null when none was). */
export function spread(values: (number | null)[]): {
  n: number;
  median: number | null;
  p95: number | null;
  max: number | null;
} {
  const xs = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (xs.length === 0) return { n: 0, median: null, p95: null, max: null };
  return { n: xs.length, median: quantile(xs, 0.5), p95: quantile(xs, 0.95), max: xs.at(-1)! };
}

export function printSummary(say: (line?: string) => void, o: RunOptions, report: RunReport): void {
  const { results } = report;
  const ok = results.filter((r) => r.ok).length;
  const ramp = o.rampMs ? `, arriving ${o.rampMs} ms apart` : '';
  say(
    `\n${o.calls} calls of ${o.scenario.name}, ${o.concurrent} at a time${ramp}: ` +
      `${ok} held every expectation`,
  );
  say("  at the caller's ear:");
  for (const [label, key] of [
    ['TTFA', 'ttfaMs'],
    ['CTD', 'ctdMs'],
    ['E2E', 'e2eMs'],
  ] as const) {
    const s = spread(results.map((r) => r[key]));
    say(
      s.n === 0
        ? `    ${label.padEnd(5)} —`
        : `    ${label.padEnd(5)} median ${fmtMs(s.median)} · p95 ${fmtMs(s.p95)} · ` +
            `max ${fmtMs(s.max)} (${s.n} calls)`,
    );
  }
  if (results.some((r) => r.hops?.updateAcceptedMs != null)) {
    say('  transfer hops, from the request:');
    for (const [key, label] of HOP_LABELS) {
      const s = spread(results.map((r) => r.hops?.[key] ?? null));
      if (s.n === 0) continue;
      say(
        `    ${label.padEnd(16)} median ${fmtMs(s.median)} · p95 ${fmtMs(s.p95)} · ` +
          `max ${fmtMs(s.max)} (${s.n} calls)`,
      );
    }
  }
  const telemetry = describeComponents(report.components);
  if (telemetry) say(`  components' telemetry, mean ${telemetry}`);
}

/** The components' own view between two scrapes: the agent's TTFA, the SMA's CTD and E2E. */
function componentsBetween(
  before: Record<string, HistogramTotals>,
  after: Record<string, HistogramTotals>,
): ComponentFigures {
  return {
    ttfaMs: meanMsBetween(before[TTFA], after[TTFA]),
    ctdMs: meanMsBetween(before[CTD], after[CTD]),
    e2eMs: meanMsBetween(before[E2E], after[E2E]),
  };
}

function describeComponents(f: ComponentFigures): string {
  const parts = [
    f.ttfaMs !== null && `TTFA ${fmtMs(f.ttfaMs)} (agent: SIP answer → first audio sent)`,
    f.ctdMs !== null && `CTD ${fmtMs(f.ctdMs)} (SMA: requestedAt → person connected)`,
    f.e2eMs !== null && `E2E ${fmtMs(f.e2eMs)} (SMA: LEG-A start → call end)`,
  ].filter((p) => p !== false);
  return parts.join(' · ');
}

async function scrapeAll(lab: Lab): Promise<Record<string, HistogramTotals>> {
  const [agent, sma] = await Promise.all([
    scrapeHistograms(lab.livekit.worker!.metricsUrl, [TTFA]),
    scrapeHistograms(lab.sma.metricsUrl, [CTD, E2E]),
  ]);
  return { ...agent, ...sma };
}
