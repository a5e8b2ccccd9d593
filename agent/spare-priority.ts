// Spare job processes load at a lower CPU priority than calls in progress.
//
// The framework keeps job processes loaded ahead of calls (AGENT_IDLE_PROCESSES) and, each time a
// call takes one, starts loading its replacement: about 2.3 s of CPU here (modules, speech models,
// greetings). In a burst, that loading runs on the same cores as the calls that just began, and
// every caller's first audio waits behind it. So a spare loads at a higher `nice` (by default 10:
// about a tenth of a busy call thread's share of a contended core, all of an idle one) and takes
// the worker's own priority back once loaded: then it sleeps until its call, so its priority costs
// nobody anything, and the call's first steps (taking the job, joining the room) do not wait
// behind every busy thread, as they would if it stayed low until the call's entry.
//
// Taking the priority back is raising it, which Linux allows only with CAP_SYS_NICE (or an
// RLIMIT_NICE that permits it). The worker checks that before it lowers anything: without it,
// spares load at the worker's priority, as before. Linux's nice is per thread: every thread of the
// process is set, and threads started later inherit their creator's.
//
// The lowering happens first thing in the job process, before the framework's modules load (most
// of the cost): the worker adds agent/spare-preload.ts, bundled as `spare-preload.mjs`, to the job
// processes' NODE_OPTIONS.
import { existsSync, readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The nice a spare loads at (set by the worker for its job processes). */
const SPARE_NICE_ENV = 'CALLBRIDGE_SPARE_NICE';
/** The nice a job process takes back once loaded: the worker's own. */
const CALL_NICE_ENV = 'CALLBRIDGE_CALL_NICE';

/**
 * Sets every thread of this process to `nice`; false when a thread refused. A thread that one of
 * them starts while the list is being walked may inherit the old nice: the walk repeats until it
 * changes nothing.
 */
function setProcessNice(nice: number): boolean {
  for (let pass = 0; pass < 5; pass++) {
    let changed = false;
    for (const tid of threadIds()) {
      try {
        if (getPriority(tid) === nice) continue;
        setPriority(tid, nice);
        changed = true;
      } catch (err) {
        // A thread that ended since the listing is not a refusal.
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') return false;
      }
    }
    if (!changed) return true;
  }
  return true;
}

/** This process's threads (Linux); elsewhere, 0: `setpriority` then applies to the whole process. */
function threadIds(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number);
  } catch {
    return [0];
  }
}

export type SparePriority =
  { enabled: true; spareNice: number; callNice: number } | { enabled: false; reason: string };

/**
 * In the worker's main process, before the framework starts job processes: arranges for them to
 * load at `raiseBy` above the worker's nice. `preloadUrl` is spare-preload.mjs, bundled beside the
 * worker (absent when the worker runs from TypeScript sources, where the feature stays off).
 */
export function lowerSparePriority(
  raiseBy: number,
  preloadUrl: URL,
  env: NodeJS.ProcessEnv = process.env,
): SparePriority {
  if (raiseBy <= 0) return { enabled: false, reason: 'AGENT_SPARE_NICE=0' };
  if (preloadUrl.protocol !== 'file:' || !existsSync(preloadUrl)) {
    return { enabled: false, reason: `not running from the bundle (no ${preloadUrl.pathname})` };
  }
  const callNice = getPriority();
  const spareNice = Math.min(19, callNice + raiseBy);
  if (spareNice === callNice)
    return { enabled: false, reason: 'the worker already runs at nice 19' };
  if (!mayRaisePriority(callNice)) {
    return {
      enabled: false,
      reason: 'a job process could not take its priority back (needs CAP_SYS_NICE)',
    };
  }
  env[SPARE_NICE_ENV] = String(spareNice);
  env[CALL_NICE_ENV] = String(callNice);
  // Quoted: NODE_OPTIONS splits on spaces, and the path may hold some.
  const preload = `--import=${JSON.stringify(preloadUrl.href)}`;
  env.NODE_OPTIONS = env.NODE_OPTIONS ? `${env.NODE_OPTIONS} ${preload}` : preload;
  return { enabled: true, spareNice, callNice };
}

/** Can this process raise its priority above `nice`? Tried on its main thread, and undone. */
function mayRaisePriority(nice: number): boolean {
  if (nice <= -20) return false;
  try {
    setPriority(0, nice - 1);
  } catch {
    return false;
  }
  setPriority(0, nice);
  return true;
}

/**
 * In a job process, once loaded: takes the worker's priority back (a no-op when the process was
 * not lowered). False when it could not: its call would then run at the spare's priority.
 */
export function takeWorkerPriority(env: NodeJS.ProcessEnv = process.env): boolean {
  const target = env[CALL_NICE_ENV];
  if (target === undefined) return true;
  return setProcessNice(Number(target));
}

/** The preload's work: in a job process of a worker that asked for it, lower every thread. */
export function lowerIfSpare(): void {
  const nice = process.env[SPARE_NICE_ENV];
  // The worker's other children (the inference process that serves every call) keep its priority.
  if (nice === undefined || !/job_proc_lazy_main\.[cm]?js$/.test(process.argv[1] ?? '')) return;
  setProcessNice(Number(nice));
}
