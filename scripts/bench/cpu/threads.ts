// Per-thread CPU of this process, from /proc/self/task/<tid>/stat. Node names nearly all of its
// threads "node" (V8's platform workers, libuv's pool, koffi's and ONNX Runtime's threads), so a
// thread's role is the load step it was born in: a ThreadRoles is told the steps as they happen.
import { readdirSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc reports thread CPU in 10 ms ticks on every mainstream kernel. */
export const TICK_MS = 10;

export interface ThreadCpu {
  tid: number;
  comm: string;
  /** User + system CPU, in ms. */
  cpuMs: number;
}

/** One line of /proc/<pid>/task/<tid>/stat. The name may hold spaces and parentheses. */
export function parseTaskStat(text: string): ThreadCpu {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a task stat line: ${text.slice(0, 40)}`);
  // After the name: field 3 (state) is at index 0, so utime (14) and stime (15) are at 11 and 12.
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('no utime/stime');
  return {
    tid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    cpuMs: (utime + stime) * TICK_MS,
  };
}

/** The process's live threads now (a thread that ends between listing and reading is skipped). */
export function readThreads(dir = '/proc/self/task'): Map<number, ThreadCpu> {
  const out = new Map<number, ThreadCpu>();
  for (const tid of readdirSync(dir)) {
    try {
      const t = parseTaskStat(readFileSync(`${dir}/${tid}/stat`, 'utf8'));
      out.set(t.tid, t);
    } catch {
      // gone
    }
  }
  return out;
}

/** Roles of threads: the first step a thread was seen after. */
export class ThreadRoles {
  readonly roles = new Map<number, string>();

  constructor(readonly mainTid: number) {
    this.roles.set(mainTid, 'main');
  }

  /** Threads alive now and not yet seen get `role`. */
  mark(role: string, now: Map<number, ThreadCpu> = readThreads()): void {
    for (const tid of now.keys()) if (!this.roles.has(tid)) this.roles.set(tid, role);
  }

  roleOf(tid: number, fallback: string): string {
    return this.roles.get(tid) ?? fallback;
  }
}

/**
 * CPU ms by role between two snapshots. Threads born in between count from zero under
 * `bornRole` (unless already given a role); threads that ended in between are lost to /proc, so
 * the sum may fall short of the process's own figure (the caller reports that gap).
 */
export function cpuByRole(
  before: Map<number, ThreadCpu>,
  after: Map<number, ThreadCpu>,
  roles: ThreadRoles,
  bornRole = 'born during the call',
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [tid, t] of after) {
    const delta = t.cpuMs - (before.get(tid)?.cpuMs ?? 0);
    if (delta <= 0) continue;
    // Threads with names of their own (rtc-node's tokio runtime) are told by name.
    const role = t.comm === 'node' || tid === roles.mainTid ? roles.roleOf(tid, bornRole) : t.comm;
    out[role] = (out[role] ?? 0) + delta;
  }
  return out;
}

/** CPU ms of every thread but `mainTid` between two snapshots. */
export function offMainCpu(
  before: Map<number, ThreadCpu>,
  after: Map<number, ThreadCpu>,
  mainTid: number,
): number {
  let sum = 0;
  for (const [tid, t] of after) {
    if (tid !== mainTid) sum += Math.max(0, t.cpuMs - (before.get(tid)?.cpuMs ?? 0));
  }
  return sum;
}
