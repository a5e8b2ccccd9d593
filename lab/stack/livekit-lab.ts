// A real local LiveKit stack (Redis, livekit-server, livekit-sip on free loopback ports), SIP
// provisioned from the product's definitions and the lab's outbound trunk (./lab-sip.ts), and a
// real agent worker: what the tests against the real stack and the SIP benchmark share.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RoomServiceClient, SipClient } from 'livekit-server-sdk';
import { DEFAULT_AGENT_NAME } from '../../contracts/ids.js';
import type { SipDefinitions } from '../../sip/livekit/definitions.js';
import { provision, type ProvisionResult } from '../../sip/livekit/provision.js';
import { loadUseCases, type UseCaseCatalog } from '../../contracts/use-cases.js';
import bundledUseCases from '../../contracts/use-cases.json' with { type: 'json' };
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ChimeSDKVoiceClient } from '@aws-sdk/client-chime-sdk-voice';
import { DynamoCallRecords } from '../../guard/call-records.js';
import { DynamoCallStore } from '../../guard/open-calls.js';
import { type CallGuard, startCallGuardServer } from '../../guard/server.js';
import { ChimeVoiceApi } from '../../guard/voice-api.js';
import { type AgentWorker, startAgentWorker } from './agent-worker.js';
import { labSipDefinitions } from './lab-sip.js';
import {
  freePorts,
  type LocalStack,
  type StackPorts,
  localStackCredentials,
  startLocalStack,
} from './local-stack.js';

export const AGENT_NAME = DEFAULT_AGENT_NAME;

export interface LiveKitLab {
  stack: LocalStack;
  sip: SipClient;
  rooms: RoomServiceClient;
  useCases: UseCaseCatalog;
  defs: SipDefinitions;
  provisioned: ProvisionResult;
  worker: AgentWorker | undefined;
  /** Every agent worker (`workers`), `worker` first; all under the lab's agent name. */
  readonly workers: AgentWorker[];
  /** The call guard livekit-server sends its webhooks to. */
  guard: CallGuard;
  logDir: string;
  /**
   * Starts a new agent worker in place of this one (killed first if still running; its log kept
   * as agent.<n>.log): after a fault that killed it (the fault benchmark).
   */
  restartWorker(): Promise<AgentWorker>;
  stop(): Promise<void>;
}

export interface LiveKitLabOptions {
  worker: boolean;
  /**
   * Agent workers started with `worker` (default 1), each its own process group, log (agent.log,
   * agent-2.log, ...) and metrics port, with `maxCalls` each: LiveKit sends each call to one of
   * them, weighted by how much room each has left.
   */
  workers?: number;
  /** livekit-server nodes on the one Redis (default 1); workers take turns registering with each. */
  nodes?: 1 | 2;
  /** Where the servers and the worker log (default: a fresh temporary directory). */
  logDir?: string;
  /** The stack's ports (default: free ones). */
  ports?: StackPorts;
  maxCalls?: number;
  idleProcesses?: number;
  /** How long a call room may lack its agent before the call guard ends the AI leg. */
  guardGraceMs?: number;
  /** How often the call guard sweeps the call rooms (default 10 s). */
  guardSweepIntervalMs?: number;
  /** false: livekit-server sends the guard no webhooks, so only its sweep finds rooms. */
  guardWebhooks?: boolean;
  /** false: the workers hold no presence connection to the guard (default on). */
  guardPresence?: boolean;
  /**
   * The calls table and Chime's Voice API as the deployed guard has them (CALLS_TABLE,
   * SMA_APPLICATION_ID): the sweep then reads the open calls, and the guard fails callers over
   * and closes the records of calls that are gone. Without it the guard sees LiveKit only.
   */
  guardAws?: GuardAws;
  /** More environment for the worker (e.g. AWS_ENDPOINT_URL_CHIME_SDK_VOICE of the stand-in). */
  workerEnv?: Record<string, string>;
}

export interface GuardAws {
  dynamoEndpoint: string;
  table: string;
  voiceApiEndpoint: string;
  applicationId: string;
}

/** The guard's AWS side on local endpoints, as guard/main.ts builds it from its configuration. */
function guardAwsParts(aws: GuardAws | undefined) {
  if (!aws) return { close: () => {} };
  const local = {
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const dynamo = new DynamoDBClient({ ...local, endpoint: aws.dynamoEndpoint, maxAttempts: 2 });
  // dynalite shares the lab's two cores: a read takes longer than DynamoDB's few milliseconds.
  const timeoutMs = 2000;
  const voice = new ChimeVoiceApi(
    timeoutMs,
    () => new ChimeSDKVoiceClient({ ...local, endpoint: aws.voiceApiEndpoint, maxAttempts: 3 }),
  );
  return {
    calls: new DynamoCallStore(dynamo, aws.table, { timeoutMs, openWindowMs: 300 * 60_000 }),
    recovery: {
      voice,
      records: new DynamoCallRecords(dynamo, aws.table, timeoutMs),
      applicationId: aws.applicationId,
    },
    close: () => {
      voice.close();
      dynamo.destroy();
    },
  };
}

export async function startLiveKitLab(opts: LiveKitLabOptions): Promise<LiveKitLab> {
  const logDir = opts.logDir ?? mkdtempSync(join(tmpdir(), 'callbridge-lk-'));
  const servers = await startServers(opts.ports ?? (await freePorts()), logDir, opts);
  const { stack, guard } = servers;
  // The workers connect to the guard's presence endpoint, as deployed.
  opts = { ...opts, workerEnv: { ...servers.presenceEnv, ...opts.workerEnv } };
  let worker: AgentWorker | undefined;
  const others: AgentWorker[] = []; // the workers after the first
  const stop = async () => {
    await worker?.stop();
    for (const w of others) await w.stop();
    await stack.stop();
    await guard.stop();
  };
  try {
    const useCases = loadUseCases(undefined, bundledUseCases);
    const defs = labSipDefinitions({
      useCases,
      agentName: AGENT_NAME,
      sipAddress: stack.sipAddress,
    });
    const sip = new SipClient(stack.httpUrl, stack.apiKey, stack.apiSecret);
    const provisioned = await provision(sip, defs);
    if (opts.worker) worker = await startLabWorker(stack, logDir, opts);
    for (let i = 1; opts.worker && i < (opts.workers ?? 1); i++) {
      others.push(await startLabWorker(stack, logDir, opts, i));
    }
    const lab: LiveKitLab = {
      stack,
      sip,
      rooms: new RoomServiceClient(stack.httpUrl, stack.apiKey, stack.apiSecret),
      useCases,
      defs,
      provisioned,
      worker,
      get workers() {
        return worker ? [worker, ...others] : [...others];
      },
      logDir,
      guard: guard.guard,
      restartWorker: async () => {
        worker = lab.worker = await restartLabWorker(worker, stack, logDir, opts);
        return worker;
      },
      stop,
    };
    return lab;
  } catch (e) {
    await stop();
    throw e;
  }
}

/** The call guard, then the stack that sends it its webhooks. */
async function startServers(ports: StackPorts, logDir: string, opts: LiveKitLabOptions) {
  const { apiKey, apiSecret } = localStackCredentials();
  const aws = guardAwsParts(opts.guardAws);
  const presenceSecret = randomBytes(24).toString('hex');
  const server = await startCallGuardServer({
    presence: opts.guardPresence === false ? undefined : { secret: presenceSecret },
    httpUrl: `http://127.0.0.1:${ports.http}`,
    apiKey,
    apiSecret,
    calls: aws.calls,
    recovery: aws.recovery,
    graceMs: opts.guardGraceMs,
    sweepIntervalMs: opts.guardSweepIntervalMs,
  });
  const guard = { ...server, stop: () => server.stop().finally(aws.close) };
  try {
    const webhookUrls = opts.guardWebhooks === false ? [] : [guard.url];
    const stack = await startLocalStack({ ports, logDir, webhookUrls, nodes: opts.nodes });
    const presenceEnv: Record<string, string> = server.presenceUrl
      ? { GUARD_PRESENCE_URL: server.presenceUrl, GUARD_PRESENCE_SECRET: presenceSecret }
      : {};
    return { stack, guard, presenceEnv };
  } catch (e) {
    await guard.stop();
    throw e;
  }
}

let workerRestarts = 0;

/** A new worker for the lab; the old one's log moves aside so the new one's is read alone. */
async function restartLabWorker(
  old: AgentWorker | undefined,
  stack: LocalStack,
  logDir: string,
  opts: LiveKitLabOptions,
): Promise<AgentWorker> {
  if (old) {
    await old.kill();
    workerRestarts += 1;
    renameSync(old.logFile, old.logFile.replace(/\.log$/, `.${workerRestarts}.log`));
  }
  return startLabWorker(stack, logDir, opts);
}

/**
 * The agent worker with offline speech, registered under the lab's agent name; the `index`th
 * (from 0) logs to agent-<index + 1>.log, the first to agent.log, and registers with the
 * livekit-server node its turn gives it.
 */
function startLabWorker(stack: LocalStack, logDir: string, opts: LiveKitLabOptions, index = 0) {
  return startAgentWorker({
    logFile: join(logDir, index === 0 ? 'agent.log' : `agent-${index + 1}.log`),
    env: {
      ...stack.env,
      LIVEKIT_URL: stack.nodeUrls[index % stack.nodeUrls.length] ?? stack.url,
      AGENT_NAME,
      AGENT_MAX_CALLS: String(opts.maxCalls ?? 4),
      AGENT_IDLE_PROCESSES: String(opts.idleProcesses ?? 2),
      SPEECH_PROVIDERS: 'local',
      // The Chime client is built at start; these calls never reach AWS.
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      ...opts.workerEnv,
    },
  });
}
