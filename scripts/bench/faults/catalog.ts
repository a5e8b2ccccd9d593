// The faults the benchmark injects, in the order it runs them: each one's injection, at the row's
// chosen moment into calls in progress, and what undoing it takes once they have ended.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CallRun } from '../../../lab/caller/call-run.js';
import type { Scenario } from '../../../lab/caller/scenario.js';
import type { ForcedStatus } from '../../../lab/chime/voice-api-server.js';
import type { Lab } from '../../../lab/lab.js';
import type { StackServer } from '../../../lab/stack/local-stack.js';
import type { SlowProxy } from '../../../lab/stack/slow-proxy.js';
import { provision } from '../../../sip/livekit/provision.js';
import type { SmaFault, SmaFaults } from './sma-faults.js';

export interface FaultSettings {
  /** Voice API requests refused per call in a burst. */
  burstPerCall: number;
  /** Latency the slow DynamoDB adds to every request. */
  dynamoDelayMs: number;
  /** How late the slow SMA handler answers. */
  smaSlowMs: number;
}

/** The lab and the switches a fault pulls. */
export interface FaultLab {
  lab: Lab;
  /** In front of dynalite: where the SMA handler reaches DynamoDB. */
  proxy: SlowProxy;
  sma: SmaFaults;
  settings: FaultSettings;
}

export interface FaultContext extends FaultLab {
  /** The row's calls, in progress. */
  runs: CallRun[];
  /** performance.now() of the injection. */
  faultAt: number;
}

export interface Fault {
  id: string;
  title: string;
  /** The scenario the row's calls play, from the run's. */
  scenario?(s: Scenario): Scenario;
  /**
   * It acts at the calls' next SMA event or request, not when injected: a gap near the injection
   * is not its own, so the row has no near-fault figure.
   */
  deferred?: true;
  /** Why this lab cannot inject it: the row then says "not injected", with no figures. */
  missing?(f: FaultLab): string | undefined;
  /** Injects it; what it did, for the row's notes. Throws when nothing could be injected. */
  inject(ctx: FaultContext): Promise<string | undefined>;
  /** Once the calls have ended: undoes what is left of the fault; what that took. */
  restore?(ctx: FaultContext): Promise<string | undefined>;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The call's room, once the observer found it (the agent's first audio), within `ms`. */
async function roomOf(run: CallRun, ms: number): Promise<string | undefined> {
  const end = performance.now() + ms;
  while (run.observer.roomName === undefined && performance.now() < end)
    await new Promise((r) => setTimeout(r, 100));
  return run.observer.roomName;
}

async function killJobs({ lab, runs }: FaultContext): Promise<string> {
  const worker = lab.livekit.worker!;
  const rooms = await Promise.all(runs.map((r) => roomOf(r, 3000)));
  const errors: string[] = [];
  let killed = 0;
  for (const room of rooms) {
    if (room === undefined) continue;
    await worker.killJobProcess(room).then(
      () => (killed += 1),
      (e: unknown) => errors.push((e as Error).message.split('\n')[0]!),
    );
  }
  if (killed === 0) throw new Error(`no job process killed: ${errors[0] ?? 'no call room found'}`);
  const failed = errors.length ? `; ${errors.length} not: ${errors[0]}` : '';
  return `${killed} job processes killed (SIGKILL), the worker left running${failed}`;
}

function voiceApiBurst(status: ForcedStatus, title: string): Fault {
  return {
    id: `voice-api-${status}`,
    title,
    deferred: true,
    async inject({ lab, runs, settings }) {
      const n = settings.burstPerCall * runs.length;
      lab.voiceApi.failNext(n, status);
      return `the next ${n} Voice API requests answer ${status}`;
    },
    async restore({ lab, runs, faultAt }) {
      lab.voiceApi.failNext(0, status);
      const ours = new Set(runs.map((r) => `/calls/${r.tx}`));
      const hit = lab.voiceApi.requests.filter(
        (r) =>
          r.at >= faultAt &&
          r.status === status &&
          ours.has(r.path.slice(r.path.lastIndexOf('/calls/'))),
      ).length;
      return `${hit} of the calls' requests were answered ${status}`;
    },
  };
}

function smaFault(id: string, title: string, fault: (s: FaultSettings) => SmaFault): Fault {
  return {
    id,
    title,
    deferred: true,
    async inject({ sma, runs, settings }) {
      sma.arm(
        fault(settings),
        runs.map((r) => r.tx),
      );
      return undefined;
    },
    async restore({ sma }) {
      const hits = [...sma.hits.values()];
      sma.disarm();
      const attempts = Math.max(0, ...hits.map((h) => h.attempts));
      return `${hits.length} calls' next event faulted (Chime invoked it up to ${attempts} times)`;
    },
  };
}

/** Whether the worker logged `registered worker` at or after `sinceMs` (epoch), within `ms`. */
async function registeredAgain(logFile: string, sinceMs: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    const lines = readFileSync(logFile, 'utf8').split('\n');
    const again = lines.some((l) => {
      if (!l.includes('"msg":"registered worker"')) return false;
      return Number((JSON.parse(l) as { time?: unknown }).time) >= sinceMs;
    });
    if (again || Date.now() > end) return again;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * After livekit-server or Redis came back: the worker registered with the new server (else it is
 * restarted), and the SIP trunks and dispatch rules, which live in Redis, are there (else they are
 * provisioned again).
 */
async function repairAfterRestart(ctx: FaultContext, server: StackServer): Promise<string[]> {
  const { lab, faultAt } = ctx;
  const notes: string[] = [];
  const since = performance.timeOrigin + faultAt;
  if (
    server === 'livekit-server' &&
    !(await registeredAgain(lab.livekit.worker!.logFile, since, 30_000))
  ) {
    await lab.livekit.restartWorker();
    notes.push('lab repaired: the worker had not registered again in 30 s and was restarted');
  }
  const { changes } = await provision(lab.livekit.sip, lab.livekit.defs);
  const made = changes.filter((c) => c.action !== 'unchanged').length;
  if (made > 0) notes.push(`lab repaired: ${made} SIP trunks and dispatch rules provisioned again`);
  return notes;
}

function serverRestart(
  id: string,
  server: StackServer,
  title: string,
  signal: NodeJS.Signals,
): Fault {
  return {
    id,
    title,
    async inject({ lab }) {
      const started = performance.now();
      await lab.livekit.stack.restart(server, { signal });
      const how = signal === 'SIGKILL' ? 'killed' : 'stopped';
      return `${server} ${how}, healthy again ${secs(performance.now() - started)} later`;
    },
    restore: async (ctx) => (await repairAfterRestart(ctx, server)).join('; ') || undefined,
  };
}

/**
 * livekit-server's host gone without a word: the process stopped (SIGSTOP), so every connection to
 * it stays open and nothing arrives on it, as when a machine loses power or its network. Once the
 * calls have ended the host is replaced: the stopped process killed and a new one started.
 */
function serverFrozen(): Fault {
  return {
    id: 'livekit-server-frozen',
    title: "livekit-server's host gone silent",
    async inject({ lab }) {
      process.kill(lab.livekit.stack.pids['livekit-server']!, 'SIGSTOP');
      return 'livekit-server stopped (SIGSTOP): its connections open, nothing flowing';
    },
    async restore(ctx) {
      const started = performance.now();
      await ctx.lab.livekit.stack.restart('livekit-server', { signal: 'SIGKILL' });
      const replaced = `lab repaired: the stopped livekit-server killed and started again (${secs(performance.now() - started)})`;
      return [replaced, ...(await repairAfterRestart(ctx, 'livekit-server'))].join('; ');
    },
  };
}

/** Longest a draining node may take: the row's calls end well within it. */
const DRAIN_LIMIT_MS = 300_000;

/**
 * A planned restart as production does one: a second node joins the Redis, the node holding the
 * calls is sent SIGTERM and drains (new rooms go to the other node; its own calls go on), exits
 * once its calls have ended, and is started again; the second node is then stopped. A new call
 * placed during the drain must reach the agent.
 */
function plannedRestart(): Fault {
  let drained: Promise<{ exitedAfterMs: number }> | undefined;
  // A lab started with two nodes keeps its second one after the row.
  let addedNode = false;
  return {
    id: 'livekit-server-drained',
    title: 'livekit-server drained for a planned restart',
    async inject(ctx) {
      const { lab } = ctx;
      const stack = lab.livekit.stack;
      const started = performance.now();
      addedNode = stack.nodeUrls.length < 2;
      await stack.addNode();
      const added = secs(performance.now() - started);
      drained = stack.restart('livekit-server', {
        signal: 'SIGTERM',
        killAfterMs: DRAIN_LIMIT_MS,
      });
      drained.catch(() => {}); // awaited in restore
      const probe = await callDuringDrain(lab);
      return `a second node up in ${added}, then livekit-server (the calls' node) sent SIGTERM; ${probe}`;
    },
    async restore(ctx) {
      const notes: string[] = [];
      if (drained) {
        const { exitedAfterMs } = await drained;
        drained = undefined;
        notes.push(
          `livekit-server exited ${secs(exitedAfterMs)} after SIGTERM, its calls over, and was started again`,
        );
      }
      notes.push(...(await repairAfterRestart(ctx, 'livekit-server')));
      if (addedNode) {
        await ctx.lab.livekit.stack.removeNode();
        notes.push('the second node stopped');
      }
      return notes.join('; ');
    },
  };
}

/**
 * A call placed while the first node drains: how long until its caller heard the agent, and which
 * node took its room (the second node's log names the rooms it started). Hung up at once, so it is
 * not what keeps the draining node up.
 */
async function callDuringDrain(lab: Lab): Promise<string> {
  const c = lab.newCall();
  const placed = performance.now();
  try {
    await c.call.startInbound();
    await c.media.waitFirstAudio(20_000);
    const heard = secs(performance.now() - placed);
    const room = lab.livekit.workers
      .flatMap((w) => w.calls())
      .find((x) => x.transactionId === c.tx)?.room;
    const log = join(lab.livekit.logDir, 'livekit-server-2.log');
    const onSecond =
      room !== undefined && existsSync(log) && readFileSync(log, 'utf8').includes(`"${room}"`);
    return `a new call during the drain heard the agent ${heard} after it was placed, its room on the ${onSecond ? 'second' : 'draining'} node`;
  } catch (e) {
    return `a new call during the drain did not reach the agent: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    await c.media.callerHangsUp().catch(() => {});
    await c.media.close();
  }
}

export const FAULTS: Fault[] = [
  { id: 'none', title: 'no fault (the baseline)', inject: async () => 'nothing injected' },
  {
    id: 'job-killed',
    title: "the agent's job process killed",
    missing: ({ lab }) =>
      typeof lab.livekit.worker?.killJobProcess === 'function'
        ? undefined
        : "the lab's agent worker cannot kill one job process (killJobProcess)",
    inject: killJobs,
  },
  {
    id: 'worker-killed',
    title: 'the whole agent worker killed',
    async inject({ lab }) {
      await lab.livekit.worker!.kill();
      return 'the worker and its job processes killed (SIGKILL)';
    },
    async restore({ lab }) {
      const started = performance.now();
      await lab.livekit.restartWorker();
      return `lab repaired: the worker restarted (${secs(performance.now() - started)})`;
    },
  },
  voiceApiBurst(429, 'the Voice API throttling (429) in a burst'),
  voiceApiBurst(500, 'the Voice API failing (500) in a burst'),
  {
    id: 'dynamodb-down',
    title: 'DynamoDB down',
    deferred: true,
    async inject({ proxy }) {
      await proxy.down();
      return "the SMA's DynamoDB endpoint refuses connections";
    },
    restore: async ({ proxy }) => (await proxy.up(), undefined),
  },
  {
    id: 'dynamodb-slow',
    title: 'DynamoDB slow',
    deferred: true,
    async inject({ proxy, settings }) {
      proxy.setDelay(settings.dynamoDelayMs);
      return `every DynamoDB request ${settings.dynamoDelayMs} ms late`;
    },
    restore: async ({ proxy }) => (proxy.setDelay(0), undefined),
  },
  smaFault('sma-slow', "the SMA handler slower than Chime's 5 s retry", (s) => ({
    kind: 'slow',
    ms: s.smaSlowMs,
  })),
  smaFault('sma-fails-once', 'the SMA handler failing once', () => ({ kind: 'fail', times: 1 })),
  smaFault('sma-fails-twice', 'the SMA handler failing twice', () => ({ kind: 'fail', times: 2 })),
  {
    id: 'queue-no-answer',
    title: 'the Connect queue not answering',
    deferred: true,
    scenario: (s) => ({ ...s, queueAnswers: false }),
    inject: async () => 'the queue and its fallback number ring out (from the start of the calls)',
  },
  serverRestart('livekit-sip-killed', 'livekit-sip', 'livekit-sip killed and restarted', 'SIGKILL'),
  serverRestart(
    'livekit-server-crashed',
    'livekit-server',
    'livekit-server crashed, restarted at once',
    'SIGKILL',
  ),
  serverFrozen(),
  plannedRestart(),
  serverRestart('redis-restarted', 'redis', 'Redis restarted', 'SIGTERM'),
];
