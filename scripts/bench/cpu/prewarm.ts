// What a job process's load costs: every call takes a loaded process and the framework loads a
// replacement (a spare), so each call pays for one prewarm too. Measured on what production runs:
// the bundled worker (scripts/build-agent.ts), imported by a fresh Node process whose prewarm logs
// its CPU by step (agent/main.ts, the `prewarmed` line).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { ROOT } from '../../../lab/stack/local-stack.js';
import { buildAgentOnce } from '../../build-agent.js';

const Prewarmed = z.object({
  msg: z.literal('prewarmed'),
  cpuMs: z.record(z.string(), z.number()),
});

/** The `prewarmed` line's CPU by step, from a job process's log (pino JSON lines). */
export function prewarmSteps(log: string): Record<string, number> {
  for (const line of log.split('\n')) {
    if (!line.includes('"prewarmed"')) continue;
    const parsed = Prewarmed.safeParse(JSON.parse(line));
    if (parsed.success) return parsed.data.cpuMs;
  }
  throw new Error('the job process logged no prewarmed line');
}

/** Builds the bundle of the current sources (as the lab does); its main.mjs. */
export function agentBundle(): Promise<string> {
  return buildAgentOnce(join(ROOT, '.lab', 'agent-bundles'));
}

/** One prewarm in a fresh process, by step (ms of CPU, all threads). */
export function measurePrewarm(
  main: string,
  env: Record<string, string>,
): Promise<Record<string, number>> {
  const code = `const m = await import(${JSON.stringify(pathToFileURL(main).href)});
await m.default.prewarm({ userData: {} });
process.exit(0);`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        SPEECH_PROVIDERS: 'local',
        AGENT_DEV_ROOMS_ONLY: 'true',
        LOG_LEVEL: 'info',
        ...env,
      },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      try {
        if (code !== 0) throw new Error(`the prewarm process exited with ${code}`);
        resolve(prewarmSteps(out));
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}
