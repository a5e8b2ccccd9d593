// The local lab's benchmark: whole calls at the caller's ear, on this machine.
//   1. `--calls` calls of the default scenario one after another: TTFA, CTD and E2E (median, p95),
//      and each turn at the caller's ear (the caller's line ends → the first audio of the reply)
//      beside the agent's own for the same turns, against the targets (every call's expectations
//      hold; TTFA p95 ≤ 150 ms; turns median ≤ 700 ms, p95 ≤ 1 s; CTD p95 ≤ 1.5 s).
//   2. Capacity: for each K in `--sweep`, K calls of `--sweep-scenario` in progress together,
//      arriving `--ramp-ms` apart, `--rounds` times; the median TTFA of all of a K's calls against
//      the one-call median. Two capacities: the largest K whose median stays within twice it with
//      every call answered by the agent (first audio: the issue's measure), and the largest with
//      every call also holding every expectation (conversations: what to set AGENT_MAX_CALLS
//      from). (The median of one round of four or five calls moves by half the one-call median
//      from run to run.)
//
//   npm run bench:lab [-- --calls 20 --sweep 1,2,4,6,8,10 --ramp-ms 1000 --rounds 2
//                        --sweep-scenario goodbye]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SCENARIO, loadScenario } from '../../lab/caller/scenario.js';
import { startLab } from '../../lab/lab.js';
import { fmtMs, printSummary, runCalls, spread } from '../../lab/lab-run.js';
import type { CallResult } from '../../lab/caller/scripted-caller.js';
import type { TurnResult } from '../../lab/caller/ear-turns.js';
import { ROOT } from '../../lab/stack/local-stack.js';
import { type HistogramTotals, meanMsBetween, scrapeHistograms } from '../../lab/scrape.js';
import { parseCli } from '../lib/cli.js';

const values = parseCli('npm run bench:lab --', {
  calls: { type: 'string', default: '20' },
  sweep: { type: 'string', default: '1,2,4,6,8,10' },
  'ramp-ms': { type: 'string', default: '1000' },
  rounds: { type: 'string', default: '2' },
  scenario: { type: 'string', default: DEFAULT_SCENARIO },
  'sweep-scenario': { type: 'string', default: 'goodbye' },
});
const calls = Number(values.calls);
const sweep = values.sweep
  .split(',')
  .filter(Boolean)
  .map(Number)
  .filter((k) => Number.isInteger(k) && k > 0);
const rampMs = Number(values['ramp-ms']);
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write(`--rounds must be a whole number of at least 1 (got ${values.rounds})\n`);
  process.exit(2);
}
const scenario = loadScenario(values.scenario);
const sweepScenario = loadScenario(values['sweep-scenario']);
const say = (line = '') => process.stdout.write(`${line}\n`);

/** The agent's histograms of a turn's parts, in order (agent/turn-parts.ts). */
const TURN_PARTS = [
  ['final transcript', 'voice_turn_transcript_delay_seconds'],
  ['end of turn', 'voice_turn_end_of_turn_delay_seconds'],
  ['first token', 'voice_turn_first_token_delay_seconds'],
  ['first audio', 'voice_turn_first_audio_delay_seconds'],
] as const;

const maxK = Math.max(1, ...sweep);
const logDir = join(ROOT, '.lab', 'logs', 'bench');
mkdirSync(logDir, { recursive: true });
const lab = await startLab({ logDir, maxCalls: maxK + 2, idleProcesses: maxK });
let failures = 0;
try {
  await lab.livekit.worker!.waitPrewarmed(maxK);
  say(`callbridge lab benchmark (logs: ${logDir}; ${maxK} job processes loaded)`);

  let seqMedian: number | null = null;
  if (calls > 0) {
    const run = { scenario, calls, concurrent: 1, timelines: false };
    const partsBefore = await scrapeParts();
    const report = await runCalls(lab, run);
    printSummary(say, run, report);
    printFirstAudioWays(report.results);
    const turns = printTurns(report.results);
    printParts(partsBefore, await scrapeParts());
    const cpu25 = printAgentCpu(report.results);
    const ttfa = spread(report.results.map((r) => r.ttfaMs));
    const ctd = spread(report.results.map((r) => r.ctdMs));
    seqMedian = ttfa.median;
    const held = report.results.filter((r) => r.ok).length;
    const mark = (ok: boolean) => (ok ? '✓' : '✗');
    say('  targets:');
    say(`    ${mark(held === calls)} every call's expectations hold (${held}/${calls})`);
    say(`    ${mark((ttfa.p95 ?? Infinity) <= 150)} TTFA p95 ≤ 150 ms (${fmtMs(ttfa.p95)})`);
    say(
      `    ${mark((turns.median ?? Infinity) <= 700 && (turns.p95 ?? Infinity) <= 1000)} ` +
        `turns at the ear median ≤ 700 ms, p95 ≤ 1 s (${fmtMs(turns.median)}, ${fmtMs(turns.p95)})`,
    );
    say(`    ${mark((ctd.p95 ?? Infinity) <= 1500)} CTD p95 ≤ 1.5 s (${fmtMs(ctd.p95)})`);
    if (cpu25.median !== null) {
      say(
        `    ${mark(cpu25.median <= 2500)} a 25 s call costs its job process ≤ 2.5 s of CPU ` +
          `(median ${(cpu25.median / 1000).toFixed(2)} s)`,
      );
    }
    for (const r of report.results.filter((x) => !x.ok)) {
      failures += 1;
      const why = r.checks.filter((c) => !c.ok).map((c) => `${c.what} (${c.detail ?? ''})`);
      say(`    call ${r.tx.slice(0, 8)}: ${why.join('; ')}`);
    }
  }

  if (sweep.length > 0) {
    say(
      `\ncapacity: K calls of ${sweepScenario.name} in progress together, arriving ${rampMs} ms ` +
        `apart, ${rounds} round(s) per K`,
    );
    say('     K   held   TTFA median   TTFA p95   × one-call median   agent TTFA (mean)');
    say('         (held: every expectation of the scenario; failed checks are listed under a row)');
    // The one-call median: from the calls one after another when there were any (20 samples),
    // else from five calls of the sweep's scenario one after another.
    let base: number | null = seqMedian;
    await lab.livekit.worker!.waitPrewarmed(maxK);
    if (base === null) {
      const one = { scenario: sweepScenario, calls: 5, concurrent: 1, timelines: false };
      base = spread((await runCalls(lab, one)).results.map((r) => r.ttfaMs)).median;
      say(`  one-call median TTFA over 5 calls one after another: ${fmtMs(base)}`);
      await lab.livekit.worker!.waitPrewarmed(maxK);
    }
    // A capacity reaches K only from the K before it in the sweep: a later K that passes by
    // chance after one that failed does not count.
    const capacity = { firstAudio: 0, conversations: 0 };
    let previousK = 0;
    for (const k of sweep) {
      const results: CallResult[] = [];
      const agentTtfa: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const report = await runCalls(lab, {
          scenario: sweepScenario,
          calls: k,
          concurrent: k,
          rampMs,
          timelines: false,
        });
        results.push(...report.results);
        if (report.components.ttfaMs !== null) agentTtfa.push(report.components.ttfaMs);
        // Each call took a loaded job process and the worker loads a new one: let it have all of
        // them back before the next round, so every round starts from the same pool.
        await lab.livekit.worker!.waitPrewarmed(maxK);
        await new Promise((r) => setTimeout(r, 2000));
      }
      const s = spread(results.map((r) => r.ttfaMs));
      const held = results.filter((r) => r.ok).length;
      const ratio = base && s.median !== null ? s.median / base : null;
      const byAgent = results.filter((r) => r.ttfaMs !== null).length;
      const withinTwice = ratio !== null && ratio <= 2 && byAgent === results.length;
      if (withinTwice && capacity.firstAudio === previousK) capacity.firstAudio = k;
      if (withinTwice && held === results.length && capacity.conversations === previousK)
        capacity.conversations = k;
      previousK = k;
      const agent = fmtMs(
        agentTtfa.length ? agentTtfa.reduce((a, b) => a + b, 0) / agentTtfa.length : null,
      );
      say(
        `  ${String(k).padStart(4)}   ${`${held}/${results.length}`.padEnd(5)}  ${fmtMs(s.median).padStart(11)}` +
          `   ${fmtMs(s.p95).padStart(8)}   ${(ratio === null ? '—' : ratio.toFixed(2)).padStart(17)}` +
          `   ${agent.padStart(17)}`,
      );
      // Each failed check once, with how often and what went wrong (its distinct details).
      const failed = new Map<string, { times: number; details: Set<string> }>();
      for (const r of results)
        for (const c of r.checks.filter((x) => !x.ok)) {
          const f = failed.get(c.what) ?? { times: 0, details: new Set<string>() };
          f.times += 1;
          if (c.detail) f.details.add(c.detail);
          failed.set(c.what, f);
        }
      for (const [what, f] of failed) {
        const why = f.details.size ? `: ${[...f.details].slice(0, 3).join('; ')}` : '';
        say(`           ${f.times}× ✗ ${what}${why}`);
      }
    }
    say(
      `  first audio: the median TTFA stays within twice the one-call median (${fmtMs(base)}), ` +
        `every call answered by the agent, up to ${capacity.firstAudio} simultaneous calls`,
    );
    say(
      `  conversations: every call also holds every expectation up to ` +
        `${capacity.conversations} simultaneous calls`,
    );
  }
} finally {
  await lab.stop();
}
process.exit(failures > 0 ? 1 : 0);

function scrapeParts(): Promise<Record<string, HistogramTotals>> {
  return scrapeHistograms(
    lab.livekit.worker!.metricsUrl,
    TURN_PARTS.map(([, name]) => name),
  );
}

/** Where the agent's own turn time went over the run: each part's mean, in order. */
function printParts(
  before: Record<string, HistogramTotals>,
  after: Record<string, HistogramTotals>,
): void {
  const parts = TURN_PARTS.map(
    ([label, name]) => `${label} +${fmtMs(meanMsBetween(before[name], after[name]))}`,
  );
  say(`    agent's parts, mean: end of speech → ${parts.join(' → ')}`);
}

/** Where the greeting's time at the ear went, part by part, over the calls that logged both ends. */
function printFirstAudioWays(results: CallResult[]) {
  const ways = results.flatMap((r) => (r.ttfaWays ? [r.ttfaWays] : []));
  if (ways.length === 0) return;
  const line = (pick: (w: (typeof ways)[number]) => number) => {
    const s = spread(ways.map(pick));
    return `median ${fmtMs(s.median)} · p95 ${fmtMs(s.p95)} · max ${fmtMs(s.max)}`;
  };
  const ring = spread(results.map((r) => r.ringMs));
  if (ring.n > 0) {
    say(
      `  ringing       median ${fmtMs(ring.median)} · p95 ${fmtMs(ring.p95)} · max ${fmtMs(ring.max)} ` +
        "(the AI leg's INVITE → its answer, at the phone)",
    );
  }
  say(`  TTFA at the ear, part by part (${ways.length} calls):`);
  say(`    answer's way  ${line((w) => w.answerMs)} (answered at the phone → the agent learns it)`);
  say(`    agent's own   ${line((w) => w.agentMs)} (→ the greeting's first frame sent)`);
  say(`    way out       ${line((w) => w.outMs)} (→ audible at the ear)`);
}

/**
 * What each call cost its agent job process (the `call ended` line: every thread, the room's media
 * included), and that rate over a 25 s call; returns the latter's spread (ms).
 */
function printAgentCpu(results: CallResult[]) {
  const cpu = results.flatMap((r) => (r.agentCpu ? [r.agentCpu] : []));
  const per25 = spread(cpu.map((c) => (c.cpuMs * 25_000) / c.ms));
  if (cpu.length === 0) return per25;
  const s = (ms: number | null) => (ms === null ? '–' : `${(ms / 1000).toFixed(2)} s`);
  const used = spread(cpu.map((c) => c.cpuMs));
  const job = spread(cpu.map((c) => c.ms));
  say(
    `  agent's job process CPU per call  median ${s(used.median)} · max ${s(used.max)} over a ` +
      `median ${s(job.median)} job; per 25 s of call: median ${s(per25.median)} · max ` +
      `${s(per25.max)} (${cpu.length} calls; every thread, the room's media included)`,
  );
  return per25;
}

/**
 * Every turn of the calls at the caller's ear, and the agent's own latency for the same turns
 * (those it logged a reply for); returns the ear's spread.
 */
function printTurns(results: CallResult[]) {
  const turns = results.flatMap((r) => r.turns);
  const ear = spread(turns.map((t) => t.earMs));
  const own = spread(turns.filter((t) => t.earMs !== null).map((t) => t.agentMs));
  const unanswered = turns.filter((t) => t.earMs === null).length;
  const line = (s: ReturnType<typeof spread>) =>
    `median ${fmtMs(s.median)} · p95 ${fmtMs(s.p95)} · max ${fmtMs(s.max)} (${s.n} turns)`;
  say("  turns at the caller's ear (the caller's line ends → first audio of the reply):");
  say(`    at the ear    ${line(ear)}${unanswered ? `, ${unanswered} lines without a reply` : ''}`);
  say(`    agent's own   ${line(own)} (its VAD's end of speech → first frame sent)`);
  const answered = turns.filter((t) => t.earMs !== null);
  const way = (pick: (t: TurnResult) => number | null) => line(spread(answered.map(pick)));
  say(
    `    way in        ${way((t) => t.inMs)} (the line ends at the phone → the agent's end of speech)`,
  );
  say(
    `    way out       ${way((t) => t.outMs)} (the reply's first frame sent → audible at the ear)`,
  );
  return ear;
}
