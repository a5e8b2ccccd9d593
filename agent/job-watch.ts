// How the worker's main process knows, at once, that a job process serving a call has gone.
//
// The agents framework has no hook for it: its process pool and the job processes' ChildProcess
// objects are private to its AgentServer, and it tells livekit-server nothing when one dies. So each
// job process reports to the main process itself, over a Unix socket of the main process's own (in
// a private directory, as the metrics relay does): its room and pid when its job starts, a beat
// every second, and `over` when its call ends. The kernel closes a process's sockets when it dies,
// however it dies, so a connection that closes without `over` is a job process gone mid-call; one
// that stays open without a beat is a job process that hangs. Nothing of the framework is relied on
// but that each job runs in a process of its own, `ctx.job.room`, and the room's Disconnected event.
import { createConnection, type Socket } from 'node:net';
import * as z from 'zod';
import { listenPrivateSocket } from '../otel/private-socket.js';
import type { FailoverReason, WatchedJob } from './job-failover.js';

/** Set by the worker's main process for its job processes (they inherit its environment). */
export const JOB_WATCH_ENV = 'CALLBRIDGE_JOB_WATCH';
export const BEAT_MS = 1000;
/**
 * A job process whose beats stop this long is given up on. Its event loop has been stuck all that
 * time, so its caller hears nothing; the framework itself kills it only after 60 s without an
 * answer to its pings.
 */
export const UNRESPONSIVE_AFTER_MS = 10_000;

/** One line of a job process's report. */
const JobReport = z.discriminatedUnion('t', [
  z.object({ t: z.literal('job'), room: z.string().min(1).max(256), pid: z.number().int() }),
  z.object({ t: z.literal('beat') }),
  z.object({ t: z.literal('over') }),
  z.object({ t: z.literal('exit'), code: z.number().int() }),
]);
export type JobReport = z.infer<typeof JobReport>;

const MAX_LINE = 1024;

/** What one report tells about the job. Pure. */
export function applyReport(job: WatchedJob, report: JobReport): void {
  if (report.t === 'job') {
    job.room = report.room;
    job.pid = report.pid;
  } else if (report.t === 'over') {
    job.over = true;
  } else if (report.t === 'exit') {
    job.exitCode = report.code;
  }
}

export interface JobWatchOptions {
  /** A job went: its connection closed (`exited`) or its beats stopped (`unresponsive`). */
  onGone(job: WatchedJob, reason: FailoverReason, silentMs?: number): void;
  /** A job reported its room (worker presence names it to the call guard). */
  onRoom?(room: string): void;
  /** That job's call is over, or its process gone: its room is no longer served. */
  onRoomDone?(room: string): void;
  unresponsiveAfterMs?: number;
}

export interface JobWatch {
  path: string;
  close(): Promise<void>;
}

/** Follows one job process's connection. */
function followJob(socket: Socket, opts: JobWatchOptions): void {
  const job: WatchedJob = { over: false, handled: false };
  const silentAfter = opts.unresponsiveAfterMs ?? UNRESPONSIVE_AFTER_MS;
  let lastBeat = Date.now();
  let buffered = '';
  let watchdog: NodeJS.Timeout | undefined;
  // Checked after the poll phase (setImmediate): if the main process itself was stalled, the beats
  // that arrived meanwhile are read before a job is judged silent.
  const check = () =>
    setImmediate(() => {
      const silentMs = Date.now() - lastBeat;
      if (job.over || socket.destroyed) return;
      if (silentMs < silentAfter) return arm(silentAfter - silentMs);
      opts.onGone(job, 'unresponsive', silentMs);
    });
  const arm = (ms: number) => {
    watchdog = setTimeout(check, ms).unref();
  };
  arm(silentAfter);
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const parsed = JobReport.safeParse(safeJson(buffered.slice(0, nl)));
      buffered = buffered.slice(nl + 1);
      if (!parsed.success) continue;
      applyReport(job, parsed.data);
      lastBeat = Date.now();
      if (job.room && parsed.data.t === 'job') opts.onRoom?.(job.room);
      if (job.room && parsed.data.t === 'over') opts.onRoomDone?.(job.room);
    }
    if (buffered.length > MAX_LINE) socket.destroy();
  });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => {
    clearTimeout(watchdog);
    opts.onGone(job, 'exited');
    if (job.room) opts.onRoomDone?.(job.room);
  });
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

const DIR_PREFIX = 'callbridge-jobs-';

/** Starts the watch in the worker's main process and sets {@link JOB_WATCH_ENV} for its jobs. */
export async function startJobWatch(
  opts: JobWatchOptions,
  env: Record<string, string | undefined> = process.env,
): Promise<JobWatch> {
  const watch = await listenPrivateSocket(DIR_PREFIX, 'jobs.sock', (socket) =>
    followJob(socket, opts),
  );
  env[JOB_WATCH_ENV] = watch.path;
  return watch;
}

export interface JobReporter {
  /** The call is over: the job's end is not a failure. Resolves once the main process has it. */
  over(): Promise<void>;
}

const OVER_FLUSH_MS = 500;

/**
 * The job process's side: reports its room and pid, beats, and `over` when its call ends. Without
 * {@link JOB_WATCH_ENV} (a job run outside a worker) it reports nothing.
 */
export function reportJob(
  room: string,
  env: Record<string, string | undefined> = process.env,
): JobReporter {
  const path = env[JOB_WATCH_ENV];
  if (!path) return { over: () => Promise.resolve() };
  const socket = createConnection(path);
  // The watch is never worth failing a call for.
  socket.on('error', () => socket.destroy());
  socket.unref();
  const send = (r: JobReport) => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(r)}\n`);
  };
  send({ t: 'job', room, pid: process.pid });
  const beat = setInterval(() => send({ t: 'beat' }), BEAT_MS).unref();
  // Best effort: an uncaught exception or process.exit() gets its code said; SIGKILL gets nothing.
  const onExit = (code: number) => send({ t: 'exit', code });
  process.once('exit', onExit);
  let ended: Promise<void> | undefined;
  return {
    over: () =>
      (ended ??= new Promise<void>((resolve) => {
        clearInterval(beat);
        process.off('exit', onExit);
        if (socket.destroyed) return resolve();
        const timer = setTimeout(resolve, OVER_FLUSH_MS).unref();
        socket.end(`${JSON.stringify({ t: 'over' } satisfies JobReport)}\n`, () => {
          clearTimeout(timer);
          resolve();
        });
      })),
  };
}
