// How the worker's main process learns that a job process went (agent/job-watch.ts): a real Unix
// socket, a real process killed outright, and a job's own reporter ending its call normally.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { FailoverReason, WatchedJob } from '../../../agent/job-failover.js';
import {
  JOB_WATCH_ENV,
  reportJob,
  startJobWatch,
  type JobWatch,
} from '../../../agent/job-watch.js';

const ROOM = 'call_+12065550199_a1b2c3';

interface Gone {
  job: WatchedJob;
  reason: FailoverReason;
  silentMs?: number;
}

let watch: JobWatch | undefined;
afterEach(async () => {
  await watch?.close();
  watch = undefined;
});

async function watching(unresponsiveAfterMs?: number) {
  const gone: Gone[] = [];
  let notify = () => {};
  const env: Record<string, string | undefined> = {};
  watch = await startJobWatch(
    {
      onGone: (job, reason, silentMs) => {
        gone.push({ job: { ...job }, reason, silentMs });
        notify();
      },
      unresponsiveAfterMs,
    },
    env,
  );
  const next = () =>
    new Promise<Gone>((resolve) => {
      if (gone.length > 0) return resolve(gone.shift()!);
      notify = () => resolve(gone.shift()!);
    });
  return { env, next };
}

/** A process that reports a job the way a job process does, then waits to be killed. */
async function jobProcess(path: string) {
  const script = `
    const s = require('node:net').createConnection(process.env.${JOB_WATCH_ENV});
    s.write(JSON.stringify({ t: 'job', room: '${ROOM}', pid: process.pid }) + '\\n', () =>
      process.stdout.write('ready\\n'));
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script], {
    env: { ...process.env, [JOB_WATCH_ENV]: path },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await once(child.stdout, 'data');
  return child;
}

describe('job watch', () => {
  it('reports a job process killed mid-call as exited, with its room and pid', async () => {
    const { env, next } = await watching();
    const child = await jobProcess(env[JOB_WATCH_ENV]!);
    child.kill('SIGKILL');
    const gone = await next();
    expect(gone.reason).toBe('exited');
    expect(gone.job).toMatchObject({ room: ROOM, pid: child.pid, over: false });
    expect(gone.job.exitCode).toBeUndefined();
  });

  it('reports a job that ends its call normally as over', async () => {
    const { env, next } = await watching();
    const reporter = reportJob(ROOM, env);
    await reporter.over();
    const gone = await next();
    expect(gone.job).toMatchObject({ room: ROOM, pid: process.pid, over: true });
  });

  it('reports a job whose beats stop as unresponsive, its connection still open', async () => {
    const { env, next } = await watching(100);
    const socket = createConnection(env[JOB_WATCH_ENV]!);
    socket.write(`${JSON.stringify({ t: 'job', room: ROOM, pid: 1 })}\n`);
    socket.write('not json\n{"t":"nonsense"}\n'); // ignored
    const gone = await next();
    expect(gone.reason).toBe('unresponsive');
    expect(gone.silentMs).toBeGreaterThanOrEqual(100);
    expect(gone.job).toMatchObject({ room: ROOM, over: false });
    socket.destroy();
    expect((await next()).reason).toBe('exited');
  });

  it('reports nothing from a job run outside a worker', async () => {
    await expect(reportJob(ROOM, {}).over()).resolves.toBeUndefined();
  });
});
