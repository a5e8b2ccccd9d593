// The whole local lab in one process tree: the real SMA handler (DynamoDB API on dynalite), the
// Chime SDK Voice API stand-in the agent's transfer requests reach, the real LiveKit stack with
// SIP provisioned, the call guard and the agent worker. Calls are driven through the SMA as Chime
// drives them, their legs carried out as Chime carries them (lab/chime/voice-connector-media.ts).
// `npm start`, the end-to-end suites and the lab benchmark all start it here.
import { readFileSync } from 'node:fs';
import bundledUseCases from '../contracts/use-cases.json' with { type: 'json' };
import { UseCaseStore } from '../store/use-case-store.js';
import { loadUseCases } from '../contracts/use-cases.js';
import { type CloudSpeech, startCloudSpeech } from './cloud/cloud-speech.js';
import { LOCAL_SMA_ENV } from './chime/local-sma-env.js';
import { SimulatedChimeCall, type TimelineStep } from './chime/simulated-call.js';
import { type VoiceApiServer, startVoiceApiServer } from './chime/voice-api-server.js';
import { VoiceConnectorMedia } from './chime/voice-connector-media.js';
import { type LocalS3, startLocalS3 } from './stack/local-s3.js';
import { type LocalSms, startLocalSms } from './sms/local-sms.js';
import { quietRtcLogs } from './stack/rtc-log.js';
import { type LocalVerification, startLocalVerification } from './verify/local-verification.js';
import { LAB_SMA } from './stack/lab-sma.js';
import { type LiveKitLab, startLiveKitLab } from './stack/livekit-lab.js';
import type { StackPorts } from './stack/local-stack.js';
import {
  LOCAL_AWS_ENV,
  type LocalDynamo,
  callItems,
  startLocalDynamoProcess,
} from './stack/local-dynamodb.js';
import { freePort } from './stack/net.js';
import { StartedSoFar, startTogether } from './stack/started.js';
import { type LabConnect, startLabConnect } from './connect/lab-connect.js';
import type { FlowNote, LabContactFlows } from './connect/contact-flows.js';
import { type LabTwilio, prepareLabTwilio } from './twilio/lab-twilio.js';

export interface LocalSma {
  db: LocalDynamo;
  /** The lab's S3 (moto): where call recordings go (RECORDINGS_BUCKET). */
  s3: LocalS3;
  /** Where the handler reaches DynamoDB: dynalite, or what `smaDynamoEndpoint` put in front. */
  dynamoEndpoint: string;
  handler: (event: unknown) => Promise<unknown>;
  /** The handler's own metrics (Prometheus text format), as an operator would scrape them. */
  metricsUrl: string;
  /** The call's DynamoDB items (state and journal). */
  journal(tx: string): Promise<Record<string, unknown>[]>;
}

/**
 * The Lambda entry point of the SMA, configured for the lab, against dynalite in a process of its
 * own (in this one, it would compete with the callers' ears for the event loop).
 * Its metrics are served for scraping on a free loopback port. The handler module reads its
 * configuration once, at import: one SMA per process.
 */
export async function startLocalSma(
  opts: Pick<LabOptions, 'smaDynamoEndpoint'> = {},
): Promise<LocalSma> {
  Object.assign(process.env, QUIET_SDK); // before the first AWS client (dynalite's) is made
  // The local S3 starts beside dynalite (about half a second, its first bucket a second more).
  const [db, s3] = await startTogether([
    startLocalDynamoProcess({ table: LOCAL_SMA_ENV.CALLS_TABLE }),
    startLocalS3(),
  ]);
  const started = new StartedSoFar();
  started.add(s3);
  started.add(db);
  // Whatever fails from here stops both servers.
  return started.step(async () => {
    // A fresh table holds the file's use cases, as `npm run use-case -- seed` writes them.
    await new UseCaseStore(db.client, LOCAL_SMA_ENV.CALLS_TABLE).seed(labUseCaseFile());
    const metricsPort = await freePort('tcp');
    const dynamoEndpoint = (await opts.smaDynamoEndpoint?.(db.endpoint)) ?? db.endpoint;
    Object.assign(process.env, LOCAL_AWS_ENV, LOCAL_SMA_ENV, {
      AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
      // Recordings: the SMA names the bucket to Chime, the Twilio gateway writes to it.
      ...s3.env,
      // The SMA application the simulated Chime invokes as: the one the agent takes calls from.
      SMA_APPLICATION_ID: LAB_SMA.applicationId,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      OTEL_METRICS_EXPORTER: 'prometheus',
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
      OTEL_TRACES_EXPORTER: process.env.OTEL_TRACES_EXPORTER ?? 'none',
      // DynamoDB answers a write in about 10 ms; dynalite, JavaScript sharing these two cores with the
      // whole lab, took over 300 ms (the production budget), and at times over 1 s, with ten calls
      // ending together, and the journal lost items that the real table would have kept. The lab
      // gives it the most the handler allows (3 s), still within Chime's 5 s.
      JOURNAL_TIMEOUT_MS: process.env.JOURNAL_TIMEOUT_MS ?? '3000',
      // The same for the admission checks: a slow dynalite must not send the lab's verified callers
      // to people.
      ADMISSION_TIMEOUT_MS: process.env.ADMISSION_TIMEOUT_MS ?? '2000',
      // The lab's default profile holds ten calls with the agent at once; a benchmark may set more.
      MAX_CONCURRENT_CALLS: process.env.MAX_CONCURRENT_CALLS ?? LOCAL_SMA_ENV.MAX_CONCURRENT_CALLS,
      // The SMA and the agent workers (which inherit this environment) read the table's use cases
      // this often: an operator's change is heard within seconds in the lab.
      USE_CASES_REFRESH_SECONDS: process.env.USE_CASES_REFRESH_SECONDS ?? '5',
      ...QUIET_SDK,
    });
    const { handler } = await import('../lambdas/sma/index.js');
    return {
      db,
      s3,
      dynamoEndpoint,
      handler,
      metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
      journal: (tx) => callItems(db.client, LOCAL_SMA_ENV.CALLS_TABLE, tx),
    };
  });
}

/** The use cases the lab's table starts with: USE_CASES_FILE's, else the bundled file's. */
function labUseCaseFile(): unknown {
  const file = process.env.USE_CASES_FILE;
  return file ? (JSON.parse(readFileSync(file, 'utf8')) as unknown) : bundledUseCases;
}

/**
 * The AWS SDK warns on every start that its releases from 2027 need Node 22. The lab runs on the
 * Node this machine has (20); the notice stays in the README, not in every lab run's output.
 */
const QUIET_SDK = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

export interface LabCall {
  call: SimulatedChimeCall;
  media: VoiceConnectorMedia;
  /** The call's TransactionId. */
  tx: string;
}

export interface LabCallOptions {
  /** Does the Connect stand-in's queue answer? (default yes) */
  queueAnswers?: boolean;
  caller?: string;
  /** The number dialled (default: the default use case's first number). */
  dialed?: string;
  /** Each SMA invocation, as it is answered. */
  onStep?: (step: TimelineStep) => void;
  /** What the Connect stand-in's flows and person tell the call's timeline. */
  note?: FlowNote;
}

export interface Lab {
  livekit: LiveKitLab;
  sma: LocalSma;
  voiceApi: VoiceApiServer;
  /** The Amazon Connect stand-in: queue figures and hours per scenario, callbacks recorded. */
  connect: LabConnect['api'];
  /** The Connect stand-in's flows of the rolling numbers: the context the person was given. */
  contactFlows: LabContactFlows;
  /** The SMS stand-in: the verification codes the callers' phones receive. */
  sms: LocalSms;
  /** The caller verification API and its page, on the lab's DynamoDB and SMS stand-in. */
  verification: LocalVerification;
  /** Calls in progress by TransactionId: where the agent's UpdateSipMediaApplicationCall lands. */
  calls: Map<string, SimulatedChimeCall>;
  /**
   * Calls placed with CreateSipMediaApplicationCall (the console's "Call me", `npm run call --
   * dial`), in order: each rings the lab's phone, which answers at once; its line is the callee's.
   */
  placed: LabCall[];
  /** With cloud speech: the real services or the stand-ins the agent talks to. */
  cloud: CloudSpeech | undefined;
  /** With `twilio`: the Twilio stand-in and the product's gateway (docs/twilio.md). */
  twilio: LabTwilio | undefined;
  newCall(opts?: LabCallOptions): LabCall;
  /**
   * Participants left in these rooms (default: every room), once things have had up to
   * `settleMs` (default 15 s) to settle. A room that is gone counts as empty.
   */
  participantsLeft(rooms?: (string | undefined)[], settleMs?: number): Promise<number>;
  stop(): Promise<void>;
}

export interface LabOptions {
  /** The stack's ports (default: free ones; `npm start -- --keep` uses the committed ones). */
  ports?: StackPorts;
  logDir?: string;
  /** Calls the agent worker takes at once, and job processes it keeps loaded. */
  maxCalls?: number;
  idleProcesses?: number;
  guardGraceMs?: number;
  /** false: the workers hold no presence connection to the call guard (default on). */
  guardPresence?: boolean;
  /** Agent workers under the one agent name, `maxCalls` each (default 1: livekit-lab.ts). */
  workers?: number;
  /** livekit-server nodes on the one Redis (default 1: local-stack.ts). */
  nodes?: 1 | 2;
  /** Worker environment on top of the lab's (e.g. cloud speech keys). */
  workerEnv?: Record<string, string>;
  /**
   * The agent's speech providers (default: `cloud` when SPEECH_PROVIDERS=cloud, else `local`).
   * Cloud goes to Deepgram and OpenAI when both keys are set, else to local stand-ins (lab/cloud/).
   */
  speech?: 'local' | 'cloud';
  /**
   * Where the SMA handler and the verification API reach DynamoDB, given dynalite's endpoint
   * (default: dynalite itself). The fault benchmark puts a proxy in front of it that it can slow
   * down or take down.
   */
  smaDynamoEndpoint?: (dynalite: string) => Promise<string>;
  /**
   * The call guard with the calls table (through the SMA's endpoint) and the Voice API stand-in,
   * as deployed with CALLS_TABLE and SMA_APPLICATION_ID (default: LiveKit only).
   */
  guardAws?: boolean;
  /** The Twilio way in too: the Twilio stand-in and the gateway (lab/twilio/, docs/twilio.md). */
  twilio?: boolean;
  /** Where the Twilio gateway runs: in this process (default), or in its own (its CPU read apart). */
  twilioGateway?: 'in-process' | 'child';
  /** Node's options for the gateway's own process (e.g. `--cpu-prof`). */
  twilioGatewayNodeArgs?: string[];
}

export const LAB_CALLER = '+12065550100';

export async function startLab(opts: LabOptions = {}): Promise<Lab> {
  quietRtcLogs();
  const sma = await startLocalSma(opts);
  // Each server's stop, for a failure of a later one and for the lab's stop, newest first.
  const started = new StartedSoFar();
  started.add(sma.s3);
  started.add(sma.db);
  const calls = new Map<string, SimulatedChimeCall>();
  const placed: LabCall[] = [];
  /** The stack, once up: outbound calls are refused before. */
  const up: { livekit?: LiveKitLab } = {};
  const voiceApi = await started.start(() =>
    startVoiceApiServer({
      // An outbound call rings the lab's phone, which answers: NEW_OUTBOUND_CALL, RINGING and
      // CALL_ANSWERED reach the SMA, which bridges the callee to the agent.
      onCreate: (smaId, req) => {
        if (!up.livekit || smaId !== LAB_SMA.applicationId) return undefined;
        const call = newLabCall(sma, up.livekit, calls, connect.flows, {
          caller: req.FromPhoneNumber,
          dialed: req.ToPhoneNumber,
        });
        placed.push(call);
        void call.call.startOutbound(req.ArgumentsMap ?? {});
        return call.tx;
      },
      onUpdate: (_sma, tx, args) => {
        const call = calls.get(tx);
        if (!call || call.ended) return false;
        void call.update(args); // Chime invokes the handler asynchronously, after the 202
        return true;
      },
    }),
  );
  const sms = await started.start(() => startLocalSms());
  const connect = await started.step(() =>
    startLabConnect(loadUseCases(process.env.USE_CASES_FILE, bundledUseCases)),
  );
  started.add(connect.api);
  // The SDK reads AWS_ENDPOINT_URL_DYNAMODB at a client's first request, and the verification API
  // sets it in this process too: both must name the SMA's endpoint.
  const verification = await started.start(() =>
    startLocalVerification({
      dynamoEndpoint: sma.dynamoEndpoint,
      table: LOCAL_SMA_ENV.CALLS_TABLE,
      smsEndpoint: sms.endpoint,
      env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
    }),
  );
  let cloud: CloudSpeech | undefined;
  const twilio = opts.twilio ? await started.start(() => prepareLabTwilio()) : undefined;
  const stopAws = () => started.stopAll();
  const speech = opts.speech ?? (process.env.SPEECH_PROVIDERS === 'cloud' ? 'cloud' : 'local');
  let livekit: LiveKitLab;
  try {
    if (speech === 'cloud') {
      const useCases = loadUseCases(process.env.USE_CASES_FILE, bundledUseCases);
      cloud = started.add(await startCloudSpeech({ useCases }));
    }
    livekit = await startLiveKitLab({
      worker: true,
      ports: opts.ports,
      logDir: opts.logDir,
      maxCalls: opts.maxCalls,
      idleProcesses: opts.idleProcesses,
      workers: opts.workers,
      nodes: opts.nodes,
      guardGraceMs: opts.guardGraceMs,
      guardPresence: opts.guardPresence,
      guardAws: opts.guardAws
        ? {
            dynamoEndpoint: sma.dynamoEndpoint,
            table: LOCAL_SMA_ENV.CALLS_TABLE,
            voiceApiEndpoint: voiceApi.endpoint,
            applicationId: LAB_SMA.applicationId,
          }
        : undefined,
      workerEnv: {
        ...QUIET_SDK,
        ...cloud?.workerEnv,
        ...opts.workerEnv,
        ...twilio?.workerEnv,
        AWS_ENDPOINT_URL_CHIME_SDK_VOICE: voiceApi.endpoint,
        ...connect.workerEnv,
      },
    });
  } catch (e) {
    await stopAws();
    throw e;
  }
  up.livekit = livekit;
  try {
    await twilio?.startGateway({
      livekit: livekit.stack,
      table: LOCAL_SMA_ENV.CALLS_TABLE,
      logFile: opts.logDir ? `${opts.logDir}/twilio-gateway.log` : undefined,
      process: opts.twilioGateway,
      nodeArgs: opts.twilioGatewayNodeArgs,
    });
  } catch (e) {
    await livekit.stop();
    await stopAws();
    throw e;
  }
  return {
    livekit,
    sma,
    voiceApi,
    connect: connect.api,
    contactFlows: connect.flows,
    sms,
    verification,
    calls,
    placed,
    cloud,
    twilio,
    newCall: (callOpts = {}) => newLabCall(sma, livekit, calls, connect.flows, callOpts),
    participantsLeft: (names, settleMs) => participantsLeft(livekit.rooms, names, settleMs),
    async stop() {
      await twilio?.stop(); // its streams end while LiveKit is still there to empty their rooms
      await livekit.stop();
      await stopAws();
    },
  };
}

/** A call as Chime would place it to the SMA, its legs carried out on the lab's line. */
function newLabCall(
  sma: LocalSma,
  livekit: LiveKitLab,
  calls: Map<string, SimulatedChimeCall>,
  flows: LabContactFlows,
  opts: LabCallOptions,
): LabCall {
  const tx = crypto.randomUUID();
  const caller = opts.caller ?? LAB_CALLER;
  const media = new VoiceConnectorMedia({
    sipAddress: livekit.stack.sipAddress,
    queueAnswers: () => opts.queueAnswers ?? true,
    queueRingMs: 300,
    personGreeting: (number) => flows.answer(number, caller, opts.note),
  });
  const call = new SimulatedChimeCall({
    handler: sma.handler,
    call: {
      transactionId: tx,
      smaId: LAB_SMA.applicationId,
      region: LAB_SMA.region,
      accountId: '000000000000',
    },
    caller,
    dialed: opts.dialed ?? livekit.useCases.defaultUseCase.dialedNumbers[0]!,
    media,
    onStep: opts.onStep,
  });
  media.attach(call);
  calls.set(tx, call);
  return { call, media, tx };
}

async function participantsLeft(
  rooms: LiveKitLab['rooms'],
  names: (string | undefined)[] | undefined,
  settleMs = 15_000,
): Promise<number> {
  const count = async () => {
    const wanted = names ?? (await rooms.listRooms()).map((r) => r.name);
    let n = 0;
    for (const name of wanted) {
      if (name) n += (await rooms.listParticipants(name).catch(() => [])).length;
    }
    return n;
  };
  const end = Date.now() + settleMs;
  let n = await count();
  while (n > 0 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 200));
    n = await count();
  }
  return n;
}
