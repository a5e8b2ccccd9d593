// CPU of whole processes from Linux's /proc/<pid>/stat, and the JSON log lines the benchmark reads
// the gateway's and the agent worker's figures from. Pure parsers, and readers that give null for a
// process that is gone.
import { readFileSync } from 'node:fs';
import { TICK_MS } from '../cpu/threads.js';

export interface ProcCpu {
  ppid: number;
  /** The process's own CPU so far (utime + stime), ms. */
  cpuMs: number;
  /** Its children's that it has waited for (cutime + cstime), ms: a reaped child's whole life. */
  childrenMs: number;
}

/**
 * One /proc/<pid>/stat line. The command name (second field, in parentheses) may hold spaces and
 * parentheses: the fields are counted after its last ')'.
 */
export function parseProcCpu(stat: string): ProcCpu {
  const close = stat.lastIndexOf(')');
  if (stat.indexOf('(') < 0 || close < 0) throw new Error('not a /proc/<pid>/stat line');
  // After the name, index 0 is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
  const f = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/)
    .map(Number);
  const [ppid, utime, stime, cutime, cstime] = [f[1], f[11], f[12], f[13], f[14]];
  if (![ppid, utime, stime, cutime, cstime].every((n) => Number.isInteger(n))) {
    throw new Error('a /proc/<pid>/stat line without its CPU fields');
  }
  return {
    ppid: ppid!,
    cpuMs: (utime! + stime!) * TICK_MS,
    childrenMs: (cutime! + cstime!) * TICK_MS,
  };
}

export function readProcCpu(pid: number): ProcCpu | null {
  try {
    return parseProcCpu(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null; // exited (or reaped) meanwhile
  }
}

/**
 * The CPU a call's job process spent from the `before` reading of the worker's job processes to
 * now, once it has exited: what its parent's children's CPU grew by (the whole lives of the
 * children it reaped meanwhile) less what those children had already spent at `before` (their
 * loading, before the call). `exited` are the pids of `before` gone since.
 */
export function exitedChildrenCpuMs(
  before: ReadonlyMap<number, ProcCpu>,
  exited: readonly number[],
  parentChildrenMsBefore: number,
  parentChildrenMsAfter: number,
): number {
  const already = exited.reduce((s, pid) => s + (before.get(pid)?.cpuMs ?? 0), 0);
  return parentChildrenMsAfter - parentChildrenMsBefore - already;
}

/** The lines of a pino JSON log whose message is `msg`, parsed, oldest first. */
export function logRecords(log: string, msg: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const needle = `"msg":${JSON.stringify(msg)}`;
  for (const line of log.split('\n')) {
    if (!line.includes(needle)) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut short by the writer
    }
  }
  return out;
}

export interface FrameSpread {
  n: number;
  p50: number;
  p95: number;
  max: number;
}

/** The gateway's `stream ended` figures for a call: its own time per frame each way. */
export function streamFigures(
  gatewayLog: string,
  callSid: string,
): { inMs: FrameSpread; outMs: FrameSpread; framesIn: number; framesOut: number } | null {
  const line = logRecords(gatewayLog, 'stream ended').find((r) => r['callSid'] === callSid);
  if (!line) return null;
  const spreadOf = (v: unknown): FrameSpread => {
    const s = (v ?? {}) as Partial<FrameSpread>;
    return { n: s.n ?? 0, p50: s.p50 ?? 0, p95: s.p95 ?? 0, max: s.max ?? 0 };
  };
  return {
    inMs: spreadOf(line['inMs']),
    outMs: spreadOf(line['outMs']),
    framesIn: Number(line['framesIn'] ?? 0),
    framesOut: Number(line['framesOut'] ?? 0),
  };
}
