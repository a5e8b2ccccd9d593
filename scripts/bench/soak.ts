// The lab's soak: calls arriving at a steady rate within the measured capacity, for a long while,
// and what each component holds as it goes, so that a leak shows as a trend. `--concurrent` calls
// of `--scenario` in progress at once (default four of `goodbye`, within the lab's conversations
// capacity of six: docs/decisions/agent-max-calls.md), a new one as soon as one ends, at least
// `--ramp-ms` after the previous arrival. From the end of the warm-up a sample every 30 s: each
// component's resident memory and open file descriptors (lab/stack's pids, /proc), the rooms and
// participants in LiveKit, the open-calls index, the leases in `limit#all`. Every
// `--report-every` minutes a report: the table against the first report, the lab's state and the
// window's calls (held, TTFA p50/p95). At the end, once the calls have ended and the lab settled,
// each component's growth and least-squares slope over the samples, and idle before → after.
//
//   npm run bench:soak [-- --minutes 30 --report-every 5 --concurrent 4 --scenario goodbye
//                         --ramp-ms 1000 --warmup-minutes 1 --json]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario } from '../../lab/caller/scenario.js';
import { runScriptedCall } from '../../lab/caller/scripted-caller.js';
import { type Lab, startLab } from '../../lab/lab.js';
import { ROOT } from '../../lab/stack/local-stack.js';
import { revision } from './revision.js';
import {
  type Sample,
  callFigures,
  callsLine,
  componentTrends,
  idleLines,
  labStateLine,
  reportLines,
  trendLine,
} from './soak/report.js';
import { takeSample } from './soak/sample.js';
import { soakSchedule } from './soak/schedule.js';
import { parseCli } from '../lib/cli.js';

const values = parseCli('npm run bench:soak --', {
  minutes: { type: 'string', default: '30' },
  'report-every': { type: 'string', default: '5' },
  concurrent: { type: 'string', default: '4' },
  scenario: { type: 'string', default: 'goodbye' },
  'ramp-ms': { type: 'string', default: '1000' },
  'warmup-minutes': { type: 'string', default: '1' },
  json: { type: 'boolean', default: false },
});
const say = (line = '') => process.stdout.write(`${line}\n`);
const fail = (why: string): never => {
  process.stderr.write(`${why}\n`);
  process.exit(2);
};
const positive = (name: keyof typeof values, whole: boolean, min: number) => {
  const v = Number(values[name]);
  if (!Number.isFinite(v) || v < min || (whole && !Number.isInteger(v)))
    fail(`--${name} must be ${whole ? 'a whole number' : 'a number'} of at least ${min}`);
  return v;
};
const minutes = positive('minutes', false, 0.5);
const reportEveryMin = positive('report-every', false, 0.5);
const concurrent = positive('concurrent', true, 1);
const rampMs = positive('ramp-ms', true, 0);
const warmupMin = positive('warmup-minutes', false, 0);
if (warmupMin >= minutes) fail('--warmup-minutes must be less than --minutes');
const scenario = loadScenario(values.scenario);
const SAMPLE_MS = 30_000;
/** LiveKit removes a room 10 s after its last participant leaves (livekit.yaml): a little more. */
const SETTLE_MS = 20_000;

interface Ended {
  /** Since the first call, ms. */
  endedAtMs: number;
  ok: boolean;
  ttfaMs: number | null;
  /** Why it did not hold, when it did not. */
  failed: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Calls until `untilMs`: each slot places its next as soon as its call ends, arrivals spaced. */
async function placeCalls(lab: Lab, t0: number, untilMs: number, ended: Ended[]): Promise<void> {
  let nextStart = t0;
  const slot = async () => {
    for (;;) {
      const wait = nextStart - performance.now();
      nextStart = Math.max(performance.now(), nextStart) + rampMs;
      await sleep(wait);
      if (performance.now() - t0 >= untilMs) return;
      const call = await runScriptedCall(lab, scenario, { observe: false }).then(
        (r) => ({
          ok: r.ok,
          ttfaMs: r.ttfaMs,
          failed: r.checks.filter((c) => !c.ok).map((c) => c.what),
        }),
        (e: unknown) => ({ ok: false, ttfaMs: null, failed: [`the call failed: ${String(e)}`] }),
      );
      ended.push({ ...call, endedAtMs: performance.now() - t0 });
    }
  };
  await Promise.all(Array.from({ length: concurrent }, slot));
}

/** Samples on the schedule, printing a report where one is due. */
async function sampleRun(lab: Lab, t0: number, ended: Ended[]) {
  const samples: Sample[] = [];
  const reports: { atMs: number; window: ReturnType<typeof callFigures> }[] = [];
  let windowStart = 0;
  const schedule = soakSchedule({
    durationMs: minutes * 60_000,
    warmupMs: warmupMin * 60_000,
    sampleMs: SAMPLE_MS,
    reportEveryMs: reportEveryMin * 60_000,
  });
  for (const point of schedule) {
    await sleep(t0 + point.atMs - performance.now());
    const sample = await takeSample(lab, point.atMs);
    samples.push(sample);
    if (!point.report) continue;
    const window = callFigures(
      ended.filter((e) => e.endedAtMs >= windowStart && e.endedAtMs < point.atMs),
    );
    windowStart = point.atMs;
    reports.push({ atMs: point.atMs, window });
    for (const line of reportLines(sample, samples[0]!, window)) say(line);
  }
  return { samples, reports };
}

/** Once the last calls ended: up to 20 s for LiveKit to remove their rooms. */
async function settle(lab: Lab): Promise<void> {
  const end = performance.now() + SETTLE_MS;
  while (performance.now() < end) {
    const rooms = await lab.livekit.rooms.listRooms().catch(() => []);
    if (rooms.length === 0) return;
    await sleep(500);
  }
}

function printSummary(samples: Sample[], before: Sample, after: Sample, ended: Ended[]): void {
  const first = samples[0]!;
  const last = samples.at(-1)!;
  say(
    `\nsummary: ${samples.length} samples from ${(first.atMs / 60_000).toFixed(1)} to ` +
      `${(last.atMs / 60_000).toFixed(1)} min, calls in progress (slope: least squares, MB per 10 min)`,
  );
  for (const t of componentTrends(samples)) {
    say(trendLine(t, first.components.find((c) => c.name === t.name)?.group ?? false));
  }
  say('  idle, before the first call → after the last one ended and the lab settled:');
  for (const line of idleLines(before, after)) say(`  ${line}`);
  say(`  left at the end:${labStateLine(after.lab).slice(1)}`);
  say(callsLine(`all ${ended.length} calls`, callFigures(ended)));
  const why = new Map<string, number>();
  for (const f of ended.flatMap((e) => e.failed)) why.set(f, (why.get(f) ?? 0) + 1);
  for (const [what, times] of why) say(`           ${times}× ✗ ${what}`);
}

const logDir = join(ROOT, '.lab', 'logs', 'bench-soak');
mkdirSync(logDir, { recursive: true });
const lab = await startLab({ logDir, maxCalls: concurrent + 2, idleProcesses: concurrent });
const date = new Date().toISOString();
let json: unknown;
try {
  await lab.livekit.worker!.waitPrewarmed(concurrent);
  say(`callbridge lab soak, ${date.slice(0, 10)}, revision ${revision()} (logs: ${logDir})`);
  say(
    `  ${minutes} min of ${scenario.name} calls, ${concurrent} in progress at once, arriving at ` +
      `least ${rampMs} ms apart; a sample every ${SAMPLE_MS / 1000} s, a report every ` +
      `${reportEveryMin} min`,
  );
  say(`  warm-up: the first ${warmupMin} min of calls; growth and slopes are counted from its end`);
  const before = await takeSample(lab, 0);
  const t0 = performance.now();
  const ended: Ended[] = [];
  const [, run] = await Promise.all([
    placeCalls(lab, t0, minutes * 60_000, ended),
    sampleRun(lab, t0, ended),
  ]);
  await settle(lab);
  const after = await takeSample(lab, performance.now() - t0);
  printSummary(run.samples, before, after, ended);
  json = {
    date,
    revision: revision(),
    settings: { minutes, reportEveryMin, concurrent, scenario: scenario.name, rampMs, warmupMin },
    idle: { before, after },
    ...run,
    trends: componentTrends(run.samples),
    calls: { ...callFigures(ended), each: ended },
  };
} finally {
  await lab.stop();
}
if (values.json) say(JSON.stringify(json));
process.exit(0);
