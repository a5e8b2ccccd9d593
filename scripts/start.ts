// `npm start`: the local lab. Boots the whole call path on this machine (Redis, livekit-server and
// livekit-sip; SIP trunks and dispatch provisioned; the agent worker with offline speech; the real
// SMA handler on dynalite; the Chime and Connect stand-in), then a scripted caller places calls
// and prints each call's timeline: SMA events and actions, both sides of the conversation, and
// TTFA, CTD and E2E at the caller's ear and from the components' own telemetry. Exits 0 only when
// every call's expectations held.
//
//   npm start                                  the default scenario, once
//   npm start -- goodbye                       a bundled scenario (sip/lab/scenarios/), or a file
//   npm start -- --calls 20 --concurrent 5     20 calls, 5 at a time
//   npm start -- --keep                        keep the stack up afterwards (npm run dev-room)
//   npm start -- --json                        last line of stdout: {"calls":[…]}
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEFAULT_SCENARIO,
  type Scenario,
  ScenarioError,
  loadScenario,
} from '../sip/lab/scenario.js';
import { type Lab, startLab } from './lib/lab.js';
import { ROOT, defaultPorts } from './lib/local-stack.js';
import { type CallResult, runScriptedCall } from './lib/scripted-caller.js';
import { type HistogramTotals, meanMsBetween, scrapeHistograms } from './lib/scrape.js';
import { quantile } from './bench/stats.js';

const USAGE = `usage: npm start -- [scenario name or file] [--calls N] [--concurrent K] [--keep] [--json]
  scenarios: sip/lab/scenarios/*.yaml (default ${DEFAULT_SCENARIO})`;

const TTFA = 'voice_call_time_to_first_audio_seconds';
const CTD = 'voice_call_transfer_delay_seconds';
const E2E = 'voice_call_duration_seconds';

interface Options {
  scenario: Scenario;
  calls: number;
  concurrent: number;
  keep: boolean;
  json: boolean;
}

function options(): Options | string {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        calls: { type: 'string', default: '1' },
        concurrent: { type: 'string', default: '1' },
        keep: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    return `${(e as Error).message}\n${USAGE}`;
  }
  const { values, positionals } = parsed;
  if (values.help) return USAGE;
  const calls = Number(values.calls);
  const concurrent = Number(values.concurrent);
  if (!Number.isInteger(calls) || calls < 1 || calls > 1000)
    return `--calls must be a whole number from 1 to 1000\n${USAGE}`;
  if (!Number.isInteger(concurrent) || concurrent < 1 || concurrent > 50)
    return `--concurrent must be a whole number from 1 to 50\n${USAGE}`;
  if (positionals.length > 1) return `one scenario at a time\n${USAGE}`;
  try {
    const scenario = loadScenario(positionals[0] ?? DEFAULT_SCENARIO);
    return {
      scenario,
      calls,
      concurrent: Math.min(concurrent, calls),
      keep: values.keep,
      json: values.json,
    };
  } catch (e) {
    if (e instanceof ScenarioError) return e.message;
    throw e;
  }
}

const say = (line = '') => process.stdout.write(`${line}\n`);
const secs = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
const fmt = (ms: number | null) =>
  ms === null ? '—' : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`;

function printCall(r: CallResult, index: number, total: number, telemetry: string): void {
  say(`\n▶ call ${index}/${total} · ${r.scenario} · call ${r.tx.slice(0, 8)}`);
  for (const e of r.timeline) {
    say(`  ${`+${secs(e.at - r.startedAt)}`.padStart(10)}  ${e.source.padEnd(9)} ${e.text}`);
  }
  for (const c of r.checks) {
    say(`  ${c.ok ? '✓' : '✗'} ${c.what}${c.detail && !c.ok ? ` (${c.detail})` : ''}`);
  }
  say(`  at the caller's ear:   TTFA ${fmt(r.ttfaMs)} · CTD ${fmt(r.ctdMs)} · E2E ${fmt(r.e2eMs)}`);
  if (telemetry) say(`  components' telemetry: ${telemetry}`);
}

/** The components' own view, between two scrapes: the agent's TTFA, the SMA's CTD and E2E. */
function telemetryLine(
  before: Record<string, HistogramTotals>,
  after: Record<string, HistogramTotals>,
  what: string,
): string {
  const part = (name: string, label: string, by: string) => {
    const ms = meanMsBetween(before[name], after[name]);
    return ms === null ? undefined : `${label} ${fmt(ms)} (${by})`;
  };
  const parts = [
    part(TTFA, 'TTFA', 'agent: SIP answer → first audio sent'),
    part(CTD, 'CTD', 'SMA: requestedAt → person connected'),
    part(E2E, 'E2E', 'SMA: LEG-A start → call end'),
  ].filter((p) => p !== undefined);
  return parts.length ? `${what}${parts.join(' · ')}` : '';
}

async function scrapeAll(lab: Lab): Promise<Record<string, HistogramTotals>> {
  const [agent, sma] = await Promise.all([
    scrapeHistograms(lab.livekit.worker!.metricsUrl, [TTFA]),
    scrapeHistograms(lab.sma.metricsUrl, [CTD, E2E]),
  ]);
  return { ...agent, ...sma };
}

async function runCalls(lab: Lab, o: Options): Promise<CallResult[]> {
  const results: CallResult[] = [];
  let next = 0;
  const runBefore = await scrapeAll(lab);
  const worker = async () => {
    while (next < o.calls) {
      const index = ++next;
      const before = o.concurrent === 1 ? await scrapeAll(lab) : undefined;
      const result = await runScriptedCall(lab, o.scenario);
      results.push(result);
      let telemetry = '';
      if (before) {
        await new Promise((r) => setTimeout(r, 300)); // the job process relays its measurements
        telemetry = telemetryLine(before, await scrapeAll(lab), '');
      }
      printCall(result, index, o.calls, telemetry);
    }
  };
  await Promise.all(Array.from({ length: o.concurrent }, worker));
  if (o.calls > 1) {
    await new Promise((r) => setTimeout(r, 300));
    const telemetry = telemetryLine(runBefore, await scrapeAll(lab), 'mean ');
    printSummary(results, o, telemetry);
  }
  return results;
}

function printSummary(results: CallResult[], o: Options, telemetry: string): void {
  const ok = results.filter((r) => r.ok).length;
  say(
    `\n${o.calls} calls of ${o.scenario.name}, ${o.concurrent} at a time: ${ok} held every expectation`,
  );
  const row = (label: string, values: (number | null)[]) => {
    const xs = values.filter((v): v is number => v !== null);
    if (xs.length === 0) return say(`  ${label.padEnd(5)} —`);
    const s = [...xs].sort((a, b) => a - b);
    const q = (p: number) => fmt(Math.round(quantile(s, p)));
    say(
      `  ${label.padEnd(5)} median ${q(0.5)} · p95 ${q(0.95)} · max ${q(1)} (${xs.length} calls)`,
    );
  };
  say("  at the caller's ear:");
  row(
    'TTFA',
    results.map((r) => r.ttfaMs),
  );
  row(
    'CTD',
    results.map((r) => r.ctdMs),
  );
  row(
    'E2E',
    results.map((r) => r.e2eMs),
  );
  if (telemetry) say(`  components' telemetry, ${telemetry}`);
}

async function main(): Promise<number> {
  const o = options();
  if (typeof o === 'string') {
    process.stderr.write(`${o}\n`);
    return 2;
  }
  const logDir = join(ROOT, '.lab', 'logs');
  mkdirSync(logDir, { recursive: true });
  say(`callbridge lab: ${o.scenario.name}: ${o.scenario.description}`);
  say(
    '  starting Redis, livekit-server, livekit-sip, the agent worker (offline speech), the SMA ' +
      'handler on dynalite, and the Chime/Connect stand-in…',
  );
  const t0 = performance.now();
  const lab = await startLab({
    ports: o.keep ? defaultPorts() : undefined,
    logDir,
    maxCalls: Math.max(4, o.concurrent + 2),
    idleProcesses: o.concurrent,
  });
  let results: CallResult[];
  try {
    // Calls placed before their job process has loaded would wait for it (seconds each).
    await lab.livekit.worker!.waitPrewarmed(o.concurrent);
    say(`  ready in ${secs(performance.now() - t0)} (logs: ${logDir})`);
    results = await runCalls(lab, o);
  } finally {
    if (o.keep) {
      const s = lab.livekit.stack;
      say(`\nThe stack stays up: LiveKit ${s.url}, SIP ${s.sipAddress}, agent worker registered.`);
      say('Try the agent in a room: npm run dev-room    Stop: Ctrl-C');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    }
    await lab.stop();
  }
  const ok = results.length === o.calls && results.every((r) => r.ok);
  say(ok ? '\nall expectations held' : '\nSOME EXPECTATIONS FAILED');
  if (o.json) {
    const calls = results.map((r) => ({
      scenario: r.scenario,
      ok: r.ok,
      ttfaMs: r.ttfaMs,
      ctdMs: r.ctdMs,
      e2eMs: r.e2eMs,
    }));
    say(JSON.stringify({ calls }));
  }
  return ok ? 0 : 1;
}

// rtc-node's native side keeps the event loop alive after the last room is left.
process.exit(await main());
