// The LiveKit agent worker. Explicit dispatch by AGENT_NAME: the worker joins only the rooms its
// dispatch rule (or a dev-room command) sends it to. Prewarm loads what every call needs (VAD,
// STT model, turn detector, each use case's greeting audio) before the worker takes jobs.
//   node --import tsx agent/main.ts start|dev   (LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli, defineAgent, ServerOptions, type JobContext, type JobProcess } from '@livekit/agents';
import { ParticipantKind, RoomEvent } from '@livekit/rtc-node';
import { pino } from 'pino';
import bundledUseCases from '../contracts/use-cases.json' with { type: 'json' };
import type { UseCase } from '../contracts/use-cases.js';
import {
  AGENT_METER,
  startAgentJobTelemetry,
  startAgentWorkerTelemetry,
  type AgentJobTelemetry,
  type AgentWorkerTelemetry,
} from '../otel/agent-worker.js';
import { createAgentWorkerInstruments } from '../otel/instruments.js';
import { ROOM_PREFIX } from '../sip/livekit/definitions.js';
import { runCall, startRefusalsAtZero, type CallDeps } from './call-session.js';
import { loadAgentConfig } from './config.js';
import { GreetingCache, RenderedLinesDir } from './greeting-cache.js';
import {
  callRoomMatcher,
  FailoverReason,
  JobFailover,
  liveKitRoomDeleter,
} from './job-failover.js';
import { reportJob, startJobWatch } from './job-watch.js';
import { handoffServices } from './handoff.js';
import { startQueueStatus } from './queue-status/index.js';
import { WorkerPresence } from './worker-presence.js';
import { loadSpeechProviders } from './providers/index.js';
import { languageVariants } from './language-switch.js';
import { lowerSparePriority, takeWorkerPriority, type SparePriority } from './spare-priority.js';
import { callerArrives } from './stray-job.js';
import { piiRedaction } from '../otel/logging.js';
import { startUseCaseFeed, tableClient } from './use-case-feed.js';

const config = loadAgentConfig(process.env, bundledUseCases);
/** Where the worker's job processes share rendered greetings: set by the main process. */
const RENDERED_LINES_DIR = 'CALLBRIDGE_RENDERED_LINES_DIR';
const logger = pino({
  name: 'agent',
  level: config.logLevel,
  redact: piiRedaction(config.logPii),
});

async function prewarm(proc: JobProcess): Promise<void> {
  const started = Date.now();
  const cost = new StepCost(); // a job process is loaded per call: what loading it costs, by step
  // Each job process exports its call's spans; its metrics go to the worker's main process.
  const telemetry = await startAgentJobTelemetry(config.telemetry, logger);
  proc.userData.telemetry = telemetry;
  startRefusalsAtZero(telemetry.instruments, config);
  cost.mark('telemetry');
  const providers = await loadSpeechProviders(config, logger);
  cost.mark('providers');
  const linesDir = process.env[RENDERED_LINES_DIR];
  const greetings = new GreetingCache(linesDir ? new RenderedLinesDir(linesDir) : undefined);
  // Each use case's lines, then the same lines in each language a caller may switch to.
  const withLanguages = (all: readonly UseCase[]) => [...all, ...languageVariants(all, providers)];
  const failures = await greetings.warmFixedLines(
    withLanguages(config.useCases.all),
    providers.renderSpeech,
  );
  cost.mark('greetings');
  for (const f of failures)
    logger.warn({ useCase: f.id, err: f.error }, 'fixed line not cached; live TTS will say it');
  const table = config.table ? tableClient() : undefined;
  // A changed use case's lines are rendered as the change arrives, before its next call.
  const useCases = await startUseCaseFeed(config, table, logger, (catalog) => {
    void greetings
      .warmFixedLines(withLanguages(catalog.all), providers.renderSpeech)
      .then((fails) => {
        for (const f of fails)
          logger.warn(
            { useCase: f.id, err: f.error },
            'fixed line not cached; live TTS will say it',
          );
      });
  });
  cost.mark('useCases');
  const deps: CallDeps = {
    config,
    useCases,
    table,
    providers,
    greetings,
    instruments: telemetry.instruments,
    logger,
    handoff: handoffServices(
      process.env,
      table && config.table
        ? { client: table, name: config.table.name, ttlSeconds: config.table.recordTtlSeconds }
        : undefined,
    ),
  };
  proc.userData.deps = deps;
  // Loaded at a lower CPU priority (spare-priority.ts), it waits for its call at the worker's.
  if (!takeWorkerPriority()) logger.warn('the job process keeps the spare priority');
  // The process takes calls from here (benchmarks wait for this line).
  logger.info({ ms: Date.now() - started, cpuMs: cost.steps }, 'prewarmed');
}

/**
 * CPU milliseconds (all the process's threads) spent since the process started, by step: `imports`
 * is loading the modules, before prewarm.
 */
class StepCost {
  readonly steps: Record<string, number> = {};
  private last = 0;

  constructor() {
    this.mark('imports');
  }

  mark(step: string): void {
    const { user, system } = process.cpuUsage();
    const now = Math.round((user + system) / 1000);
    this.steps[step] = now - this.last;
    this.last = now;
  }
}

export default defineAgent({
  prewarm,
  entry: async (ctx: JobContext) => {
    const start = { at: Date.now(), cpu: process.cpuUsage() };
    reportToWorker(ctx);
    // The job process exits right after its shutdown callbacks: the call's spans go out first.
    const telemetry = ctx.proc.userData.telemetry as AgentJobTelemetry;
    ctx.addShutdownCallback(() => telemetry.flush());
    if (await servedByAnotherAgent(ctx)) return;
    if (await nobodyCame(ctx)) return;
    await runCall(ctx, ctx.proc.userData.deps as CallDeps, start);
  },
});

/**
 * A job sent to a room another agent already serves leaves it without a word. livekit-server,
 * restarted, dispatches each call room again as its participants reconnect, although the job
 * serving the call reconnects on its own: without this, the caller would hear two agents.
 */
async function servedByAnotherAgent(ctx: JobContext): Promise<boolean> {
  await ctx.connect();
  const agents = [...ctx.room.remoteParticipants.values()].filter(
    (p) => p.info.kind === ParticipantKind.AGENT,
  );
  if (agents.length === 0) return false;
  logger.warn(
    { room: ctx.room.name, reason: 'agent_already_serving' },
    'another agent already serves this call; leaving the room without a word',
  );
  ctx.shutdown('agent_already_serving');
  return true;
}

/** A call room nobody came to within a few seconds: the job leaves (agent/stray-job.ts). */
async function nobodyCame(ctx: JobContext): Promise<boolean> {
  if (!callRoomMatcher(ROOM_PREFIX)(ctx.room.name ?? '')) return false;
  if (await callerArrives(ctx.room)) return false;
  logger.warn(
    { room: ctx.room.name, reason: 'no_caller' },
    'nobody came to the call room; leaving it',
  );
  ctx.shutdown('no_caller');
  return true;
}

/**
 * The job tells the worker's main process which room it serves, and when its call is over: once
 * the agent is out of the room (or its shutdown has begun), the job's end is no failure
 * (agent/job-watch.ts). The log line names this process's pid (pino's `pid`) with the room.
 */
function reportToWorker(ctx: JobContext): void {
  const room = ctx.job.room?.name;
  logger.info({ room }, 'job process serving room');
  if (!room) return;
  const reporter = reportJob(room);
  ctx.room.once(RoomEvent.Disconnected, () => void reporter.over());
  ctx.addShutdownCallback(() => reporter.over());
}

/**
 * In the main process: a job process that dies or hangs mid-call has its call's AI leg ended at
 * once, so the caller reaches a person (agent/job-failover.ts), through LiveKit's server API with
 * the worker's own credentials.
 */
async function watchJobs(worker: AgentWorkerTelemetry, presence?: WorkerPresence): Promise<void> {
  const { LIVEKIT_URL: url, LIVEKIT_API_KEY: key, LIVEKIT_API_SECRET: secret } = process.env;
  if (!url || !key || !secret) {
    logger.warn(
      { reason: 'no_livekit_env' },
      'job failover off: LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET are not all set',
    );
    return;
  }
  const { jobFailovers } = createAgentWorkerInstruments(worker.telemetry.meter(AGENT_METER));
  for (const reason of FailoverReason) jobFailovers.add(0, { reason });
  const failover = new JobFailover({
    deleteRoom: liveKitRoomDeleter(url, key, secret),
    isCallRoom: callRoomMatcher(ROOM_PREFIX),
    count: (reason) => jobFailovers.add(1, { reason }),
    logger,
  });
  const isCallRoom = callRoomMatcher(ROOM_PREFIX);
  await startJobWatch({
    onGone: (job, reason, silentMs) => void failover.jobGone(job, reason, silentMs),
    onRoom: (room) => {
      if (isCallRoom(room)) presence?.add(room);
    },
    onRoomDone: (room) => presence?.remove(room),
  });
}

/**
 * In the main process: the call guard is told which call rooms this worker serves, so a worker that
 * dies whole has its callers sent to a person at once (agent/worker-presence.ts).
 */
function startPresence(): WorkerPresence | undefined {
  if (!config.presence) {
    logger.info(
      { reason: 'no_presence_url' },
      'worker presence off: GUARD_PRESENCE_URL is not set',
    );
    return undefined;
  }
  const presence = new WorkerPresence({ ...config.presence, logger });
  presence.start();
  process.on('exit', () => presence.leave());
  return presence;
}

/** Set in the worker's main process, before its options are made. */
let sparePriority: SparePriority | undefined;

/**
 * With AGENT_MAX_CALLS the worker's load is its share of calls in progress: deterministic, so a
 * machine that also runs other work (the lab: servers, caller, all on two cores) still takes
 * calls, and LiveKit picks among the workers with room, weighted by their free share (the load is
 * reported every 2.5 s, so a burst may land on one worker). livekit.yaml's
 * `agents.target_load` must then be 1.0. Without it, the framework's CPU load applies.
 */
function serverOptions(): ConstructorParameters<typeof ServerOptions>[0] {
  const base = {
    agent: fileURLToPath(import.meta.url),
    agentName: config.agentName,
    ...(config.http.host ? { host: config.http.host } : {}),
    ...(config.http.port ? { port: config.http.port } : {}),
    ...(config.idleProcesses !== undefined ? { numIdleProcesses: config.idleProcesses } : {}),
    // A spare loading at low priority on a busy machine takes longer than the framework's 10 s.
    ...(sparePriority?.enabled ? { initializeProcessTimeout: 60_000 } : {}),
  };
  const maxCalls = config.maxCalls;
  if (maxCalls === undefined) return base;
  return {
    ...base,
    loadFunc: async (server) => Math.min(1, server.activeJobs.length / maxCalls),
    loadThreshold: 1,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // The main process: the metrics of all calls, their scrape endpoint and the relay jobs use.
  const workerTelemetry = await startAgentWorkerTelemetry(config.telemetry, logger);
  await watchJobs(workerTelemetry, startPresence());
  await startQueueStatus(process.env, logger); // one poller for all the worker's calls
  if (config.calls.secret === undefined) {
    logger.warn(
      { reason: 'dev_rooms_only' },
      'AGENT_DEV_ROOMS_ONLY=true: every phone call is refused',
    );
  }
  sparePriority = lowerSparePriority(
    config.spareNice,
    new URL('./spare-preload.mjs', import.meta.url),
  );
  if (sparePriority.enabled) {
    const { spareNice, callNice } = sparePriority;
    logger.info({ spareNice, callNice }, 'spare job processes load at a lower CPU priority');
  } else {
    logger.info(
      { reason: sparePriority.reason },
      'spare job processes load at the worker priority',
    );
  }
  // Rendered greetings shared by the job processes, only with CALLBRIDGE_SHARE_RENDERED_LINES=true:
  // with it, the ten-call test failed in CI (a caller heard nothing), cause not yet known. A
  // directory of this worker's own, so a restart renders the lines afresh (new voices, text).
  if (config.shareRenderedLines) {
    const linesDir = mkdtempSync(join(tmpdir(), 'callbridge-lines-'));
    process.env[RENDERED_LINES_DIR] = linesDir; // job processes inherit it
    process.on('exit', () => rmSync(linesDir, { recursive: true, force: true }));
  }
  cli.runApp(new ServerOptions(serverOptions()));
}
