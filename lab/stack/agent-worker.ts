// The agent worker (agent/main.ts) as a process of its own against a local stack, the way it runs
// in production: registered with livekit-server, dispatched by name. The lab, the tests against
// the real stack and the SIP benchmark start it here. It runs in its own process group so that
// stopping it also stops its job processes, and it is never left behind when this process exits.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAgentOnce } from '../../scripts/build-agent.js';
import { LocalStackError, ROOT, logTail } from './local-stack.js';
import { freePort } from './net.js';

export interface AgentWorker {
  pid: number;
  logFile: string;
  /** The worker's Prometheus scrape endpoint (all calls' metrics: see otel/). */
  metricsUrl: string;
  /** Rejects when the worker exits before `stop()`. */
  readonly failed: Promise<never>;
  /**
   * Resolves once `n` loaded job processes wait for a call: loaded since start (background
   * warm-up included: a process takes calls before that, but its warm-up competes for the CPU)
   * less those that took a job. The framework loads them one at a time, so a burst of calls
   * larger than the loaded pool waits seconds per call. Counted from the worker's log, so a call
   * that never reached the worker (its AI leg failed first) takes none.
   */
  waitPrewarmed(n: number, timeoutMs?: number): Promise<void>;
  /** Kills the worker and all its job processes at once (SIGKILL): a crash, for failure tests. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export interface AgentWorkerOptions {
  /** LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET and anything else for the worker. */
  env: Record<string, string>;
  logFile: string;
  /** Start-up budget: model loading included (default 60 s). */
  timeoutMs?: number;
}

/**
 * Starts the worker from the current sources, bundled as in production (`npm run build:agent`),
 * and resolves once it has registered with LiveKit.
 */
export async function startAgentWorker(opts: AgentWorkerOptions): Promise<AgentWorker> {
  const main = await buildAgentOnce(join(ROOT, '.lab', 'agent-bundles'));
  const metricsPort = await freePort('tcp');
  const fd = openSync(opts.logFile, 'w');
  const child: ChildProcess = spawn(process.execPath, [main, 'start'], {
    cwd: ROOT,
    detached: true, // its own process group: job processes die with it
    stdio: ['ignore', fd, fd],
    env: {
      ...process.env,
      // Readiness is read from the worker's "registered worker" line (info level).
      LOG_LEVEL: 'info',
      AGENT_HTTP_HOST: '127.0.0.1',
      AGENT_HTTP_PORT: String(await freePort('tcp')),
      // Its Prometheus endpoint on a port of its own (loopback by default): several workers
      // on one machine (tests, the lab) would otherwise collide on 9464.
      OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
      ...opts.env,
    },
  });
  closeSync(fd);
  const pid = child.pid as number;
  let stopping = false;
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  };
  const onExit = () => killGroup('SIGKILL');
  process.once('exit', onExit);

  let rejectFailed: (e: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => (rejectFailed = reject));
  failed.catch(() => {});
  let exited: string | undefined;
  child.on('exit', (code, signal) => {
    exited = signal ?? `code ${code}`;
    if (!stopping) {
      rejectFailed(
        new LocalStackError(`agent worker exited (${exited})\n${logTail(opts.logFile, 'agent')}`),
      );
    }
  });

  const stopWith = async (signal: NodeJS.Signals, graceMs: number) => {
    stopping = true;
    process.off('exit', onExit);
    killGroup(signal);
    const timer = setTimeout(() => killGroup('SIGKILL'), graceMs);
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    clearTimeout(timer);
    // Job processes may outlive the worker's main process by a moment.
    killGroup('SIGKILL');
  };

  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? 60_000;
  for (;;) {
    if (readFileSync(opts.logFile, 'utf8').includes('"msg":"registered worker"')) break;
    if (exited !== undefined || Date.now() - started > timeoutMs) {
      const why =
        exited !== undefined ? `exited (${exited})` : `did not register in ${timeoutMs} ms`;
      await stopWith('SIGKILL', 0);
      throw new LocalStackError(`agent worker ${why}\n${logTail(opts.logFile, 'agent')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    pid,
    logFile: opts.logFile,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    failed,
    async waitPrewarmed(n, prewarmTimeoutMs = 120_000) {
      const end = Date.now() + prewarmTimeoutMs;
      const count = (log: string, msg: string) => log.split(`"msg":"${msg}"`).length - 1;
      const waiting = () => {
        const log = readFileSync(opts.logFile, 'utf8');
        return count(log, 'prewarmed') - count(log, 'received job request');
      };
      while (waiting() < n) {
        if (exited !== undefined || Date.now() > end) {
          throw new LocalStackError(
            `agent worker: ${waiting()} of ${n} job processes loaded and waiting` +
              (exited !== undefined ? ` (worker exited: ${exited})` : ` in ${prewarmTimeoutMs} ms`),
          );
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    kill: () => stopWith('SIGKILL', 0),
    // SIGTERM lets the framework close its sessions; what is still running after 5 s is killed.
    stop: () => stopWith('SIGTERM', 5000),
  };
}
