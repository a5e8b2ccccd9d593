// The local stack's process supervisor: starts each server as a child process logging to a file of
// its own, waits until it answers its health check, records the pids (so a later supervisor can
// clean up after one that was killed outright), and stops them all, newest first. When a server
// fails (exits, or never becomes healthy) the error names it and carries the tail of its log.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class LocalStackError extends Error {
  override name = 'LocalStackError';
}

export interface RestartOptions {
  /** SIGTERM (default: livekit-server drains its participants first), or SIGKILL for a crash. */
  signal?: NodeJS.Signals;
  /** Down this long before it is started again (default 0: at once, as a supervisor does). */
  downMs?: number;
  /** Killed (SIGKILL) when it has not exited this long after the signal (default 5 s). */
  killAfterMs?: number;
}

export interface ServerSpec {
  name: string;
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  /** Resolves true once the server answers; a rejection counts as not yet. */
  healthy(): Promise<boolean>;
}

interface Managed {
  name: string;
  spec: ServerSpec;
  child: ChildProcess;
  logFile: string;
  stopping: boolean;
  /** Why it exited, once it has. */
  exited: string | null;
}

export class Supervisor {
  /** Rejects when a server exits while the stack is meant to be up. */
  readonly failed: Promise<never>;
  private rejectFailed: (e: Error) => void = () => {};
  private readonly managed: Managed[] = [];
  private readonly pidFile: string;
  private readonly killAll = () => {
    for (const m of this.managed) if (m.child.exitCode === null) m.child.kill('SIGKILL');
  };

  constructor(
    private readonly cwd: string,
    private readonly logDir: string,
    private readonly timeoutMs: number,
    private readonly log: (line: string) => void,
  ) {
    this.pidFile = join(logDir, 'stack.pids');
    killStale(this.pidFile);
    this.failed = new Promise<never>((_, reject) => (this.rejectFailed = reject));
    this.failed.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
    process.once('exit', this.killAll);
  }

  /** Process ids by server name. */
  get pids(): Record<string, number> {
    return Object.fromEntries(this.managed.map((m) => [m.name, m.child.pid as number]));
  }

  /** Starts a server and resolves once it is healthy; stops everything when it is not. */
  async launch(spec: ServerSpec): Promise<void> {
    await this.start(spec, this.managed.length, 'w');
  }

  /**
   * Stops one server (SIGTERM, or SIGKILL for a crash), leaves it down `downMs`, and starts it
   * again as it was first started, resolving once it is healthy: a fault for the fault benchmark.
   * A server that has not exited `killAfterMs` (5 s) after the signal is killed: a drain is given
   * longer. Its log goes on in the same file. Resolves with how long it took to exit.
   */
  async restart(name: string, opts: RestartOptions = {}): Promise<{ exitedAfterMs: number }> {
    const m = this.find(name);
    m.stopping = true;
    const signalled = performance.now();
    await stopChild(m.child, opts.signal ?? 'SIGTERM', opts.killAfterMs);
    const exitedAfterMs = performance.now() - signalled;
    if (opts.downMs) await new Promise((r) => setTimeout(r, opts.downMs));
    const index = this.managed.indexOf(m);
    this.managed.splice(index, 1);
    await this.start(m.spec, index, 'a');
    return { exitedAfterMs };
  }

  /** Stops one server for good (SIGTERM, SIGKILL after 5 s) and forgets it. */
  async remove(name: string): Promise<void> {
    const m = this.find(name);
    m.stopping = true;
    await stopChild(m.child, 'SIGTERM');
    this.managed.splice(this.managed.indexOf(m), 1);
    this.writePids();
  }

  private find(name: string): Managed {
    const m = this.managed.find((x) => x.name === name);
    if (!m) throw new LocalStackError(`no server named ${name}`);
    return m;
  }

  private writePids(): void {
    writeFileSync(this.pidFile, this.managed.map((x) => `${x.child.pid} ${x.name}`).join('\n'));
  }

  private async start(spec: ServerSpec, index: number, logMode: 'w' | 'a'): Promise<void> {
    const logFile = join(this.logDir, `${spec.name}.log`);
    const fd = openSync(logFile, logMode);
    const started = Date.now();
    const child = spawn(spec.cmd, spec.args, {
      cwd: this.cwd,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...spec.env },
    });
    closeSync(fd);
    const m: Managed = { name: spec.name, spec, child, logFile, stopping: false, exited: null };
    this.managed.splice(index, 0, m);
    this.writePids();
    child.on('error', (e) => (m.exited = `could not start (${e.message})`));
    child.on('exit', (code, signal) => {
      m.exited = `exited with ${signal ?? `code ${code}`}`;
      if (!m.stopping) this.rejectFailed(this.error(m, m.exited));
    });
    await this.waitHealthy(m, spec.healthy, started);
    this.log(`${spec.name} healthy in ${Date.now() - started} ms (log: ${logFile})`);
  }

  private async waitHealthy(m: Managed, healthy: () => Promise<boolean>, started: number) {
    while (!(await healthy().catch(() => false))) {
      if (m.exited) {
        await this.stop();
        throw this.error(m, `${m.exited} during start-up`);
      }
      if (Date.now() - started > this.timeoutMs) {
        await this.stop();
        throw this.error(m, `was not healthy after ${this.timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private error(m: Managed, what: string): LocalStackError {
    return new LocalStackError(`${m.name} ${what}\n${logTail(m.logFile, m.name)}`);
  }

  /** Stops every server, newest first: SIGTERM, then SIGKILL after 5 s. */
  async stop(): Promise<void> {
    process.off('exit', this.killAll);
    for (const m of [...this.managed].reverse()) {
      m.stopping = true;
      await stopChild(m.child, 'SIGTERM');
    }
    rmSync(this.pidFile, { force: true });
  }
}

/** Signals a child and resolves once it has exited; SIGKILL after `killAfterMs`. */
async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals,
  killAfterMs = 5000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  await exited;
  clearTimeout(timer);
}

const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

/**
 * Servers a previous supervisor started and could not stop (it was killed outright): killed, so
 * their ports are free again. Only processes still running the binary recorded are touched.
 */
function killStale(pidFile: string): void {
  if (!existsSync(pidFile)) return;
  for (const line of readFileSync(pidFile, 'utf8').split('\n')) {
    const [pid, name] = line.split(' ');
    if (!pid || !name) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // gone
    }
    // A second node (`livekit-server-2`) runs the same binary.
    const binary = name === 'redis' ? 'redis-server' : name.replace(/-\d+$/, '');
    if (cmdline.includes(binary)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // exited meanwhile
      }
      // Its ports are free once it is gone: wait for that (a moment at most).
      const until = Date.now() + 2000;
      while (existsSync(`/proc/${pid}`) && Date.now() < until) Atomics.wait(SLEEPER, 0, 0, 20);
    }
  }
  rmSync(pidFile, { force: true });
}

/** The last lines of a server's log, for an error that names it. */
export function logTail(file: string, name: string, lines = 20): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return `(no log at ${file})`;
  }
  const tail = text.trimEnd().split('\n').slice(-lines);
  return [`--- last ${tail.length} lines of ${name}'s log (${file}) ---`, ...tail].join('\n');
}
