// The agent worker (agent/main.ts) as a process of its own against a local stack, the way it runs
// in production: registered with livekit-server, dispatched by name. The lab, the tests against
// the real stack and the SIP benchmark start it here. It runs in its own process group so that
// stopping it also stops its job processes, and it is never left behind when this process exits.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAgentOnce } from '../../scripts/build-agent.js';
import { LAB_AGENT_CALL_ENV } from './lab-sma.js';
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
  /**
   * Kills one job process outright (SIGKILL), the worker's main process left running: the one
   * serving `room`, or without it the one job process serving a call (it throws if there are
   * several). Read from the worker's log, where each job process names its room and pid.
   */
  killJobProcess(room?: string): Promise<KilledJob>;
  /**
   * The calls this worker's job processes took, oldest first, from their `call started` lines:
   * which of several workers LiveKit sent a call to.
   */
  calls(): StartedCall[];
  stop(): Promise<void>;
}

export interface StartedCall {
  room: string;
  /** The call's TransactionId (a phone call's; none for a dev room). */
  transactionId: string | undefined;
}

export interface KilledJob {
  pid: number;
  room: string;
  /** performance.now() right after the signal was sent. */
  killedAt: number;
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
  const httpPort = await freePort('tcp');
  const fd = openSync(opts.logFile, 'w');
  const child = spawn(process.execPath, [main, 'start'], {
    cwd: ROOT,
    detached: true, // its own process group: job processes die with it
    stdio: ['ignore', fd, fd],
    env: {
      ...process.env,
      // Readiness is read from the worker's "registered worker" line (info level).
      LOG_LEVEL: 'info',
      AGENT_HTTP_HOST: '127.0.0.1',
      AGENT_HTTP_PORT: String(httpPort),
      // Its Prometheus endpoint on a port of its own (loopback by default): several workers
      // on one machine (tests, the lab) would otherwise collide on 9464.
      OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
      // Calls are taken from the lab's SMA only, as a deployment takes them from its own.
      ...LAB_AGENT_CALL_ENV,
      ...opts.env,
    },
  });
  closeSync(fd);
  const worker = new WorkerProcess(child, opts.logFile, metricsPort);
  await worker.waitRegistered(opts.timeoutMs ?? 60_000);
  return worker;
}

class WorkerProcess implements AgentWorker {
  readonly pid: number;
  readonly metricsUrl: string;
  readonly failed: Promise<never>;
  /** How the worker exited, once it has. */
  private exited: string | undefined;
  private stopping = false;
  private readonly onExit = () => this.killGroup('SIGKILL');

  constructor(
    private readonly child: ChildProcess,
    readonly logFile: string,
    metricsPort: number,
  ) {
    this.pid = child.pid as number;
    this.metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    process.once('exit', this.onExit);
    let rejectFailed: (e: Error) => void = () => {};
    this.failed = new Promise<never>((_, reject) => (rejectFailed = reject));
    this.failed.catch(() => {});
    child.on('exit', (code, signal) => {
      this.exited = signal ?? `code ${code}`;
      if (!this.stopping) rejectFailed(this.error(`exited (${this.exited})`));
    });
  }

  /** Resolves once the log says the worker registered; kills it and throws if it does not. */
  async waitRegistered(timeoutMs: number): Promise<void> {
    const started = Date.now();
    while (!readFileSync(this.logFile, 'utf8').includes('"msg":"registered worker"')) {
      if (this.exited !== undefined || Date.now() - started > timeoutMs) {
        const why =
          this.exited !== undefined
            ? `exited (${this.exited})`
            : `did not register in ${timeoutMs} ms`;
        await this.stopWith('SIGKILL', 0);
        throw this.error(why);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async waitPrewarmed(n: number, timeoutMs = 120_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    const count = (log: string, msg: string) => log.split(`"msg":"${msg}"`).length - 1;
    const waiting = () => {
      const log = readFileSync(this.logFile, 'utf8');
      return count(log, 'prewarmed') - count(log, 'received job request');
    };
    while (waiting() < n) {
      if (this.exited !== undefined || Date.now() > end) {
        throw new LocalStackError(
          `agent worker: ${waiting()} of ${n} job processes loaded and waiting` +
            (this.exited !== undefined
              ? ` (worker exited: ${this.exited})`
              : ` in ${timeoutMs} ms`),
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  kill(): Promise<void> {
    return this.stopWith('SIGKILL', 0);
  }

  async killJobProcess(room?: string): Promise<KilledJob> {
    const serving = jobsServing(readFileSync(this.logFile, 'utf8')).filter(
      (j) => (room === undefined || j.room === room) && alive(j.pid),
    );
    if (serving.length !== 1) {
      const which = room === undefined ? 'a call' : `room ${room}`;
      throw this.error(`has ${serving.length} live job processes serving ${which}`);
    }
    const job = serving[0]!;
    process.kill(job.pid, 'SIGKILL');
    return { ...job, killedAt: performance.now() };
  }

  calls(): StartedCall[] {
    return logLines(readFileSync(this.logFile, 'utf8'), 'call started').flatMap((l) =>
      typeof l.room === 'string'
        ? [{ room: l.room, transactionId: stringOr(l.transactionId) }]
        : [],
    );
  }

  /** SIGTERM lets the framework close its sessions; what is still running after 5 s is killed. */
  stop(): Promise<void> {
    return this.stopWith('SIGTERM', 5000);
  }

  private async stopWith(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    this.stopping = true;
    process.off('exit', this.onExit);
    this.killGroup(signal);
    const timer = setTimeout(() => this.killGroup('SIGKILL'), graceMs);
    if (this.child.exitCode === null && this.child.signalCode === null) {
      await once(this.child, 'exit');
    }
    clearTimeout(timer);
    // Job processes may outlive the worker's main process by a moment.
    this.killGroup('SIGKILL');
  }

  private killGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // already gone
    }
  }

  private error(what: string): LocalStackError {
    return new LocalStackError(`agent worker ${what}\n${logTail(this.logFile, 'agent')}`);
  }
}

/** Each job's room and job process, from the `job process serving room` lines (newest last). */
function jobsServing(log: string): { pid: number; room: string }[] {
  const jobs = new Map<number, string>();
  for (const { pid, room } of logLines(log, 'job process serving room')) {
    if (typeof pid === 'number' && typeof room === 'string') jobs.set(pid, room);
  }
  return [...jobs].map(([pid, room]) => ({ pid, room }));
}

/** The log's lines with message `msg`, parsed (oldest first). */
function logLines(log: string, msg: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of log.split('\n')) {
    if (!line.includes(`"msg":"${msg}"`)) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut short by the log's writer
    }
  }
  return lines;
}

const stringOr = (v: unknown) => (typeof v === 'string' ? v : undefined);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
