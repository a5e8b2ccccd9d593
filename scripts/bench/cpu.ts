// CPU of one call, callbridge's session against the stock framework pipeline on the same offline
// providers. Prints figures, asserts nothing.
//   npm run bench:cpu [-- --runs 3 --pipelines callbridge,stock --json]
// A pipeline may carry environment variables for its child, to compare a setting in the same run:
//   --pipelines callbridge,callbridge+MOONSHINE_ORT_SINGLE_THREAD=0,stock
// Each session runs alone in a fresh child process (scripts/bench/cpu/session-child.ts), so the
// process's CPU is the session's; the pipelines alternate run by run, so a machine busy with other
// work weighs on both alike. No room: each pipeline gets the caller's audio at the rate and frame
// size its room input would give it (callbridge 16 kHz in 40 ms frames; the framework's default
// 24 kHz in 10 ms frames), in real time, and plays its speech at its output's rate in real time.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { revision } from './revision.js';
import {
  compare,
  formatComparison,
  formatPrewarm,
  parseRunOutput,
  PIPELINES,
  type RunResult,
} from './cpu/summary.js';
import { agentBundle, measurePrewarm } from './cpu/prewarm.js';
import { parseVariant, type Variant } from './cpu/variants.js';
import { parseCli } from '../lib/cli.js';

const values = parseCli('npm run bench:cpu --', {
  runs: { type: 'string', default: '3' },
  pipelines: { type: 'string', default: PIPELINES.join(',') },
  json: { type: 'boolean', default: false },
});

const CHILD = fileURLToPath(new URL('./cpu/session-child.ts', import.meta.url));

function runChild(v: Variant): Promise<RunResult> {
  const pipeline = v.pipeline;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, pipeline], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...v.env },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`the ${pipeline} session exited with ${code}`));
      else {
        try {
          resolve({ ...parseRunOutput(out), label: v.label });
        } catch (err) {
          reject(err as Error);
        }
      }
    });
  });
}

const variants = values.pipelines.split(',').map(parseVariant);
const runs: RunResult[] = [];
const bundle = await agentBundle();
const prewarms: Record<string, Record<string, number>[]> = {};
for (let i = 0; i < Number(values.runs); i++) {
  // A spare's load, once a round per environment: from the bundle, as production runs it.
  for (const v of variants.filter((v) => v.pipeline === 'callbridge')) {
    (prewarms[v.label] ??= []).push(await measurePrewarm(bundle, v.env));
  }
  for (const v of variants) {
    const r = await runChild(v);
    runs.push(r);
    console.log(
      `run ${i + 1} ${v.label}: ${(r.cpuMs / 1000).toFixed(2)} s CPU over a ${(r.wallMs / 1000).toFixed(1)} s call`,
    );
  }
}
const comparison = compare(runs);
console.log(`CPU per call (${revision()}, Node ${process.versions.node}, shared machine: rough)`);
for (const l of formatComparison(comparison)) console.log(l);
for (const [label, steps] of Object.entries(prewarms)) console.log(formatPrewarm(label, steps));
if (values.json) {
  console.log(JSON.stringify({ revision: revision(), ...comparison, prewarms, runs }));
}
