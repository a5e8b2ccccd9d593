// The fault matrix: faults injected into live lab calls, and what each did to the callers. For
// each fault, `--calls` calls of `--scenario` in progress together, the fault injected once every
// caller is talking with the agent, the calls played to their end, the fault undone; then how many
// callers were affected, the longest silence any of them sat through, where each ended up (the
// agent, a person, Chime's apology, or dropped/silent) and what was left behind (rooms,
// participants, open call records, leases). Targets are printed, not asserted. The faults, their
// injection and undoing: ./faults/catalog.ts; a row: ./faults/row.ts. `--runs N` plays each
// chosen row N times on the same lab (a row's figures vary from run to run).
//
//   npm run bench:faults [-- --calls 3 --faults job-killed,dynamodb-down --json]
//   npm run bench:faults -- --faults livekit-sip-killed --runs 3
//   npm run bench:faults -- --list
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SCENARIO, loadScenario } from '../../lab/caller/scenario.js';
import { startLab } from '../../lab/lab.js';
import { SMA_BUDGETS_MS } from '../../lambdas/sma/config.js';
import { ROOT } from '../../lab/stack/local-stack.js';
import { revision } from './revision.js';
import { type SlowProxy, startSlowProxy } from '../../lab/stack/slow-proxy.js';
import { FAULTS, type FaultLab } from './faults/catalog.js';
import { printHeader, printLegend, printRow, printTotals } from './faults/matrix.js';
import { type RowResult, notInjected, runRow } from './faults/row.js';
import { SmaFaults } from './faults/sma-faults.js';
import { parseCli } from '../lib/cli.js';

const values = parseCli('npm run bench:faults --', {
  calls: { type: 'string', default: '3' },
  runs: { type: 'string', default: '1' },
  'ramp-ms': { type: 'string', default: '1000' },
  scenario: { type: 'string', default: DEFAULT_SCENARIO },
  faults: { type: 'string', default: FAULTS.map((f) => f.id).join(',') },
  burst: { type: 'string', default: '6' },
  'dynamo-delay-ms': { type: 'string', default: '1500' },
  'sma-slow-ms': { type: 'string', default: '6000' },
  json: { type: 'boolean', default: false },
  list: { type: 'boolean', default: false },
});
const say = (line = '') => process.stdout.write(`${line}\n`);
if (values.list) {
  for (const f of FAULTS) say(`${f.id.padEnd(26)} ${f.title}`);
  process.exit(0);
}
const whole = (name: string, min: number) => {
  const n = Number(values[name as keyof typeof values]);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`--${name} must be a whole number of at least ${min}\n`);
    process.exit(2);
  }
  return n;
};
const calls = whole('calls', 1);
const runs = whole('runs', 1);
const rampMs = whole('ramp-ms', 0);
const settings = {
  burstPerCall: whole('burst', 1),
  dynamoDelayMs: whole('dynamo-delay-ms', 0),
  smaSlowMs: whole('sma-slow-ms', 0),
};
const wanted = values.faults.split(',').filter(Boolean);
const unknown = wanted.filter((id) => !FAULTS.some((f) => f.id === id));
if (unknown.length) {
  process.stderr.write(`unknown faults: ${unknown.join(', ')} (--list shows them)\n`);
  process.exit(2);
}
const scenario = loadScenario(values.scenario);

// The SMA handler runs in this process and logs to its output: each fault makes it warn, which
// the matrix says better. LOG_LEVEL=warn shows its lines.
process.env.LOG_LEVEL ??= 'error';
// The SMA's DynamoDB budgets as deployed: the lab otherwise stretches them for its dynalite under
// load (lab/lab.ts), and the DynamoDB rows would then measure the stretched ones.
process.env.JOURNAL_TIMEOUT_MS ??= String(SMA_BUDGETS_MS.journal);
process.env.ADMISSION_TIMEOUT_MS ??= String(SMA_BUDGETS_MS.admission);
const logDir = join(ROOT, '.lab', 'logs', 'bench-faults');
mkdirSync(logDir, { recursive: true });
let proxy: SlowProxy | undefined;
const lab = await startLab({
  logDir,
  maxCalls: calls + 2,
  idleProcesses: calls,
  smaDynamoEndpoint: async (dynalite) => (proxy = await startSlowProxy(dynalite)).endpoint,
  // The guard as deployed: the calls table (behind the same proxy) and the Voice API.
  guardAws: true,
});
const sma = new SmaFaults(lab.sma.handler);
lab.sma.handler = sma.handler; // the calls placed from here on invoke it
const faultLab: FaultLab = { lab, proxy: proxy!, sma, settings };
const rows: RowResult[] = [];
const startedAt = Date.now();
try {
  say(`callbridge fault matrix, ${new Date().toISOString().slice(0, 10)}, revision ${revision()}`);
  say(`(logs: ${logDir})`);
  printLegend(say, calls, scenario.name);
  printHeader(say);
  for (const fault of FAULTS.filter((f) => wanted.includes(f.id))) {
    for (let run = 0; run < runs; run++) {
      const row = await runRow(faultLab, fault, { calls, rampMs, scenario }).catch((e: unknown) =>
        notInjected(
          fault,
          calls,
          `the row failed: ${String((e as Error)?.message ?? e).split('\n')[0]}`,
          [],
        ),
      );
      rows.push(row);
      printRow(say, row);
    }
  }
  for (const f of FAULTS.filter((x) => !wanted.includes(x.id)))
    say(`    (${f.id}: not run; --faults left it out)`);
  printTotals(say, rows);
  say(`  ${Math.round((Date.now() - startedAt) / 1000)} s in all`);
} finally {
  await lab.stop();
  await proxy?.stop();
}
if (values.json) {
  say(
    JSON.stringify({
      date: new Date(startedAt).toISOString(),
      revision: revision(),
      calls,
      runs,
      scenario: scenario.name,
      settings,
      rows,
    }),
  );
}
process.exit(0);
