// Spare job processes load at a lower CPU priority and take the worker's back once loaded
// (agent/spare-priority.ts). Real processes: a stand-in for the framework's job process (a script
// named as its entry), started with the environment the worker gives its children, reports the
// nice of each of its threads while loading and once loaded.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lowerSparePriority } from '../../../agent/spare-priority.js';
import { buildAgentOnce } from '../../../scripts/build-agent.js';
import { ROOT } from '../../../lab/stack/local-stack.js';
import { rootOnly } from '../../helpers/root.js';

const MODULE = join(ROOT, 'agent', 'spare-priority.ts');
/** The nice of each of this process's threads (field 19 of /proc/<pid>/task/<tid>/stat). */
const THREAD_NICES = `
import { readdirSync, readFileSync } from 'node:fs';
const nices = () => readdirSync('/proc/self/task').map(
  (t) => Number(readFileSync('/proc/self/task/' + t + '/stat', 'utf8').split(') ')[1].split(' ')[16]));
`;
/** Loads (reports), is loaded (takeWorkerPriority), starts a thread (its call's), reports again. */
const JOB_PROCESS = `${THREAD_NICES}
const loading = nices();
const { takeWorkerPriority } = await import(${JSON.stringify(pathToFileURL(MODULE).href)});
const took = takeWorkerPriority();
const { Worker } = await import('node:worker_threads');
const w = new Worker('setInterval(() => {}, 1000)', { eval: true });
await new Promise((r) => w.once('online', r));
const call = nices();
await w.terminate();
console.log(JSON.stringify({ loading, took, call }));
`;
const OTHER_CHILD = `${THREAD_NICES}console.log(JSON.stringify({ loading: nices() }));`;
/** Calls lowerSparePriority in a process of its own and reports the result and the environment. */
const WORKER = `
const { lowerSparePriority } = await import(${JSON.stringify(pathToFileURL(MODULE).href)});
const env = {};
const result = lowerSparePriority(10, new URL(process.argv[2]), env);
console.log(JSON.stringify({ result, env }));
`;

let dir: string;
let preloadUrl: URL;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'callbridge-spare-'));
  // As production runs it: the preload bundled beside the worker's main.mjs.
  const main = await buildAgentOnce(join(ROOT, '.lab', 'agent-bundles'));
  preloadUrl = pathToFileURL(join(dirname(main), 'spare-preload.mjs'));
  writeFileSync(join(dir, 'job_proc_lazy_main.mjs'), JOB_PROCESS);
  writeFileSync(join(dir, 'inference_proc_lazy_main.mjs'), OTHER_CHILD);
  writeFileSync(join(dir, 'worker.mjs'), WORKER);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runNode(
  script: string,
  env: NodeJS.ProcessEnv,
  args: string[] = [],
  prefix: string[] = [],
) {
  const [cmd, ...rest] = [
    ...prefix,
    process.execPath,
    '--import',
    'tsx',
    join(dir, script),
    ...args,
  ];
  const res = spawnSync(cmd!, rest, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (res.status !== 0) throw new Error(`${script} exited ${res.status}: ${res.stderr}`);
  return JSON.parse(res.stdout.trim().split('\n').at(-1)!);
}

describe('lowerSparePriority in the worker', () => {
  it('leaves the environment alone when turned off (AGENT_SPARE_NICE=0)', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(lowerSparePriority(0, preloadUrl, env)).toEqual({
      enabled: false,
      reason: 'AGENT_SPARE_NICE=0',
    });
    expect(env).toEqual({});
  });

  it('stays off without the bundled preload (a worker run from TypeScript sources)', () => {
    const env: NodeJS.ProcessEnv = {};
    const res = lowerSparePriority(10, new URL('file:///nonexistent/spare-preload.mjs'), env);
    expect(res).toMatchObject({ enabled: false, reason: expect.stringContaining('bundle') });
    expect(env).toEqual({});
  });

  // Raising a priority back needs CAP_SYS_NICE: root has it, and setpriv takes it away.
  it.runIf(rootOnly('spare priority without CAP_SYS_NICE'))(
    'stays off, lowering nothing, where a job process could not take its priority back',
    () => {
      const without = ['setpriv', '--inh-caps=-sys_nice', '--bounding-set=-sys_nice'];
      const { result, env } = runNode('worker.mjs', {}, [preloadUrl.href], without);
      expect(result).toEqual({
        enabled: false,
        reason: expect.stringContaining('CAP_SYS_NICE'),
      });
      expect(env).toEqual({});
    },
  );
});

describe.runIf(rootOnly('spare priority with CAP_SYS_NICE'))(
  'a job process started by a worker that may raise priorities (root)',
  () => {
    let childEnv: NodeJS.ProcessEnv;
    beforeAll(() => {
      const { result, env } = runNode('worker.mjs', { NODE_OPTIONS: '' }, [preloadUrl.href]);
      expect(result).toEqual({ enabled: true, spareNice: 10, callNice: 0 });
      childEnv = env;
    });

    it('loads with every thread at the spare nice, then takes the worker’s for all of them and its call', () => {
      expect(childEnv.NODE_OPTIONS).toContain('spare-preload.mjs');
      const { loading, took, call } = runNode('job_proc_lazy_main.mjs', childEnv);
      expect(loading.length).toBeGreaterThan(1); // the runtime's threads started before the preload
      expect(new Set(loading)).toEqual(new Set([10]));
      expect(took).toBe(true);
      expect(call.length).toBeGreaterThan(loading.length); // with the thread started for the call
      expect(new Set(call)).toEqual(new Set([0]));
    });

    it('leaves the worker’s other children (the inference process) at its priority', () => {
      const { loading } = runNode('inference_proc_lazy_main.mjs', childEnv);
      expect(new Set(loading)).toEqual(new Set([0]));
    });
  },
);
