// `npm start`: the local lab. Boots the whole call path on this machine (Redis, livekit-server and
// livekit-sip; SIP trunks and dispatch provisioned; the agent worker with offline speech; the real
// SMA handler on dynalite; the Chime and Connect stand-in), then a scripted caller places calls
// and prints each call's timeline: SMA events and actions, both sides of the conversation, and
// TTFA, CTD and E2E at the caller's ear and from the components' own telemetry. Exits 0 only when
// every call's expectations held.
//
//   npm start                                  the default scenario, once
//   npm start -- goodbye                       a bundled scenario (lab/caller/scenarios/), or a file
//   npm start -- --calls 20 --concurrent 5     20 calls, 5 at a time
//   npm start -- --concurrent 10 --calls 10 --ramp-ms 1000   calls arriving a second apart
//   npm start -- --keep                        keep the stack up afterwards, with the console
//   npm start -- --json                        last line of stdout: {"calls":[…]}
//   npm start -- --via twilio                  the calls come in through Twilio's gateway (docs/twilio.md)
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEFAULT_SCENARIO,
  type Scenario,
  ScenarioError,
  loadScenario,
} from '../lab/caller/scenario.js';
import { type Lab, startLab } from '../lab/lab.js';
import { ROOT, defaultPorts } from '../lab/stack/local-stack.js';
import { LAB_SMA } from '../lab/stack/lab-sma.js';
import { printSummary, runCalls } from '../lab/lab-run.js';
import type { CallResult } from '../lab/caller/scripted-caller.js';
import { startConsole } from '../console/console.js';

const USAGE = `usage: npm start -- [scenario name or file] [--calls N] [--concurrent K] [--ramp-ms MS] [--keep] [--json] [--via chime|twilio]
  scenarios: lab/caller/scenarios/*.yaml (default ${DEFAULT_SCENARIO})`;

interface Options {
  scenario: Scenario;
  calls: number;
  concurrent: number;
  /** At least this long between two calls' arrivals (0: as fast as the pool allows). */
  rampMs: number;
  keep: boolean;
  json: boolean;
  /** How the calls come in: Chime's SMA (default) or Twilio's Media Streams gateway. */
  via: 'chime' | 'twilio';
}

function options(): Options | string {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        calls: { type: 'string', default: '1' },
        concurrent: { type: 'string', default: '1' },
        'ramp-ms': { type: 'string', default: '0' },
        keep: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        via: { type: 'string', default: 'chime' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    return `${(e as Error).message}\n${USAGE}`;
  }
  const { values, positionals } = parsed;
  if (values.help) return USAGE;
  const counts = countsOf(values);
  if (typeof counts === 'string') return `${counts}\n${USAGE}`;
  if (positionals.length > 1) return `one scenario at a time\n${USAGE}`;
  const via = values.via;
  if (via !== 'chime' && via !== 'twilio') return `--via must be chime or twilio\n${USAGE}`;
  try {
    const scenario = loadScenario(positionals[0] ?? DEFAULT_SCENARIO);
    const concurrent = Math.min(counts.concurrent, counts.calls);
    return { scenario, ...counts, concurrent, keep: values.keep, json: values.json, via };
  } catch (e) {
    if (e instanceof ScenarioError) return e.message;
    throw e;
  }
}

/** --calls, --concurrent and --ramp-ms as numbers, or what is wrong with them. */
function countsOf(values: { calls: string; concurrent: string; 'ramp-ms': string }) {
  const calls = Number(values.calls);
  const concurrent = Number(values.concurrent);
  const rampMs = Number(values['ramp-ms']);
  if (!Number.isInteger(calls) || calls < 1 || calls > 1000)
    return '--calls must be a whole number from 1 to 1000';
  if (!Number.isInteger(concurrent) || concurrent < 1 || concurrent > 50)
    return '--concurrent must be a whole number from 1 to 50';
  if (!Number.isInteger(rampMs) || rampMs < 0 || rampMs > 600_000)
    return '--ramp-ms must be a whole number of milliseconds up to 600000';
  return { calls, concurrent, rampMs };
}

const say = (line = '') => process.stdout.write(`${line}\n`);

/** The whole lab, logging to `logDir`. */
async function bootLab(o: Options, logDir: string): Promise<Lab> {
  mkdirSync(logDir, { recursive: true });
  say(`callbridge lab: ${o.scenario.name}: ${o.scenario.description}`);
  say(
    '  starting Redis, livekit-server, livekit-sip, the agent worker (offline speech), the SMA ' +
      'handler on dynalite, and the Chime/Connect stand-in…',
  );
  if (o.via === 'twilio') {
    say(
      '  the calls come in through the Twilio stand-in and the Media Streams gateway (docs/twilio.md)',
    );
  }
  return startLab({
    ports: o.keep ? defaultPorts() : undefined,
    logDir,
    maxCalls: Math.max(4, o.concurrent + 2),
    idleProcesses: o.concurrent,
    twilio: o.via === 'twilio',
  });
}

/** With --keep: the stack stays up until Ctrl-C. */
async function keepUp(lab: Lab): Promise<void> {
  const s = lab.livekit.stack;
  say(`\nThe stack stays up: LiveKit ${s.url}, SIP ${s.sipAddress}, agent worker registered.`);
  say(`Register a caller's number: ${lab.verification.url}/ (the codes arrive below)`);
  lab.sms.onMessage((m) => say(`  SMS to the caller: "${m.body}"`));
  // The operator console on the lab's LiveKit and calls table; its "Call me" rings the lab's
  // phone through the Chime stand-in (docs/console.md).
  const { url, apiKey, apiSecret } = s;
  const console_ = await startConsole({
    env: { ...process.env, CONSOLE_AUTH: 'local', SMA_APPLICATION_ID: LAB_SMA.applicationId },
    livekit: { url, apiKey, apiSecret },
    dynamoEndpoint: lab.sma.dynamoEndpoint,
    voiceEndpoint: lab.voiceApi.endpoint,
  });
  say(`The console: ${console_.signInLink()} (one-time sign-in link)`);
  say('Try the agent in a room: npm run dev-room, or the console    Stop: Ctrl-C');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await console_.close();
}

async function main(): Promise<number> {
  const o = options();
  if (typeof o === 'string') {
    process.stderr.write(`${o}\n`);
    return 2;
  }
  const logDir = join(ROOT, '.lab', 'logs');
  const t0 = performance.now();
  const lab = await bootLab(o, logDir);
  let results: CallResult[];
  try {
    // Calls placed before their job process has loaded would wait for it (seconds each).
    await lab.livekit.worker!.waitPrewarmed(o.concurrent);
    say(`  ready in ${`${((performance.now() - t0) / 1000).toFixed(1)} s`} (logs: ${logDir})`);
    const run = { ...o, say };
    const report = await runCalls(lab, run);
    results = report.results;
    if (o.calls > 1) printSummary(say, run, report);
  } finally {
    if (o.keep) await keepUp(lab);
    await lab.stop();
  }
  const ok = results.length === o.calls && results.every((r) => r.ok);
  say(ok ? '\nall expectations held' : '\nSOME EXPECTATIONS FAILED');
  if (o.json) {
    const calls = results.map(({ scenario, ok, ttfaMs, ctdMs, e2eMs }) => {
      return { scenario, ok, ttfaMs, ctdMs, e2eMs };
    });
    say(JSON.stringify({ calls }));
  }
  return ok ? 0 : 1;
}

// rtc-node's native side keeps the event loop alive after the last room is left.
process.exit(await main());
