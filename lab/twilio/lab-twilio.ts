// The Twilio way in, in the lab (docs/twilio.md): the Twilio stand-in (REST API and the calls it
// places) and the product's gateway (twilio/: webhook and Media Streams) assembled from the same
// validated configuration as `npm run twilio`, against the lab's LiveKit, agent worker and calls
// table; the gateway's calls go to the lab's livekit-sip. The gateway runs in the lab's process, as
// the SMA handler does, or (`process: 'child'`, for the Twilio benchmark, which reads its CPU) as
// `npm run twilio` in a process of its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { pino } from 'pino';
import bundledUseCases from '../../contracts/use-cases.json' with { type: 'json' };
import { loadUseCases } from '../../contracts/use-cases.js';
import { loadGatewayConfig } from '../../twilio/config.js';
import { startTwilioGateway, type TwilioGateway } from '../../twilio/gateway.js';
import { gatewayParts } from '../../twilio/parts.js';
import {
  DEVELOPMENT_CALL_TOKEN_SECRET,
  DEVELOPMENT_CALLER_KEY_SECRET,
} from '../chime/local-sma-env.js';
import { LocalStackError, ROOT, logTail } from '../stack/local-stack.js';
import { freePort } from '../stack/net.js';
import { startTwilioStandIn, type TwilioStandIn } from './twilio-stand-in.js';

export interface LabTwilio {
  standIn: TwilioStandIn;
  /** The gateway, once started (after the LiveKit stack). */
  gateway: TwilioGateway | undefined;
  /** The gateway's process id when it runs in a process of its own (`process: 'child'`). */
  gatewayPid: number | undefined;
  /** http://127.0.0.1:port: TWILIO_PUBLIC_URL (the webhook's and the streams' origin). */
  publicUrl: string;
  voiceUrl: string;
  /** What the agent worker needs to control Twilio calls. */
  workerEnv: Record<string, string>;
  /** Starts the gateway on the lab's livekit-sip and calls table. */
  startGateway(o: {
    /** The lab's LiveKit stack: its livekit-sip takes the gateway's calls. */
    livekit: { sipAddress: string };
    table: string;
    logFile?: string;
    /** 'child': `twilio/main.ts` in a process of its own, logging to `logFile` (default: here). */
    process?: 'in-process' | 'child';
    /** Node's options for that process (e.g. `--cpu-prof`). */
    nodeArgs?: string[];
  }): Promise<TwilioGateway>;
  stop(): Promise<void>;
}

export async function prepareLabTwilio(): Promise<LabTwilio> {
  const standIn = await startTwilioStandIn();
  const port = await freePort('tcp');
  const publicUrl = `http://127.0.0.1:${port}`;
  const rest = {
    TWILIO_ACCOUNT_SID: standIn.account.accountSid,
    TWILIO_AUTH_TOKEN: standIn.account.authToken,
    TWILIO_PUBLIC_URL: publicUrl,
    TWILIO_API_URL: standIn.apiUrl,
  };
  let stopped: Promise<void> | undefined;
  const lab: LabTwilio = {
    standIn,
    gateway: undefined,
    gatewayPid: undefined,
    publicUrl,
    voiceUrl: `${publicUrl}/twilio/voice`,
    workerEnv: rest,
    async startGateway(o) {
      const env = {
        ...rest,
        TWILIO_GATEWAY_HOST: '127.0.0.1',
        TWILIO_GATEWAY_PORT: String(port),
        // The local profile's Twilio trunk admits 127.0.0.1 (sip/livekit/definitions.ts).
        TWILIO_SIP_ADDRESS: o.livekit.sipAddress,
        TWILIO_SIP_LOCAL_ADDRESS: '127.0.0.1',
        CALL_TOKEN_SECRET: DEVELOPMENT_CALL_TOKEN_SECRET,
        CALLS_TABLE: o.table,
        CALLER_KEY_SECRET: DEVELOPMENT_CALLER_KEY_SECRET,
        // dynalite on these shared cores: the lab's SMA gets the same allowance (lab/lab.ts)
        ADMISSION_TIMEOUT_MS: process.env.ADMISSION_TIMEOUT_MS ?? '2000',
        MAX_CONCURRENT_CALLS: process.env.MAX_CONCURRENT_CALLS ?? '10',
        USE_CASES_REFRESH_SECONDS: '5',
        USE_CASES_FILE: process.env.USE_CASES_FILE,
        // The lab's S3 (lab/lab.ts sets it with AWS_ENDPOINT_URL_S3)
        RECORDINGS_BUCKET: process.env.RECORDINGS_BUCKET,
        LOG_LEVEL: 'info', // its own file: the lab's LOG_LEVEL (warn) is for the console
        LOG_PII: 'true',
      };
      if (o.process === 'child') {
        const child = await startGatewayProcess(env, o.logFile, o.nodeArgs);
        lab.gatewayPid = child.pid;
        lab.gateway = child;
        return child;
      }
      const config = loadGatewayConfig(env);
      const logger = pino(
        { name: 'twilio-gateway', level: config.logLevel },
        o.logFile
          ? pino.destination({ dest: o.logFile, sync: true, mkdir: true, append: false })
          : pino.destination(2),
      );
      const parts = await gatewayParts(config, {
        fallback: loadUseCases(config.useCasesFile, bundledUseCases),
        dynamo: new DynamoDBClient({ maxAttempts: 2 }),
        logger,
      });
      const gateway = await startTwilioGateway({
        host: config.host,
        port: config.port,
        webhook: parts.webhook,
        session: parts.session,
        logger,
      });
      const close = gateway.close.bind(gateway);
      lab.gateway = {
        ...gateway,
        sessions: gateway.sessions,
        close: async () => {
          await close();
          parts.stop();
        },
      };
      return lab.gateway;
    },
    async stop() {
      stopped ??= (async () => {
        await standIn.stop();
        await lab.gateway?.close();
      })();
      await stopped;
    },
  };
  return lab;
}

/**
 * `twilio/main.ts` (`npm run twilio`) in a process of its own with the lab's environment (its AWS
 * endpoints included) and the gateway's `env`, its log in `logFile`; resolves once it listens.
 */
async function startGatewayProcess(
  env: Record<string, string | undefined>,
  logFile = join(ROOT, '.lab', 'logs', 'twilio-gateway.log'),
  nodeArgs: string[] = [],
): Promise<TwilioGateway & { pid: number }> {
  const fd = openSync(logFile, 'w');
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, '--import', 'tsx', join(ROOT, 'twilio', 'main.ts')],
    { cwd: ROOT, stdio: ['ignore', fd, fd], env: { ...process.env, ...defined(env) } },
  );
  closeSync(fd);
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const fail = (why: string) =>
    new LocalStackError(`Twilio gateway ${why}\n${logTail(logFile, 'twilio-gateway')}`);
  const end = Date.now() + 30_000;
  while (!readFileSync(logFile, 'utf8').includes('"msg":"Twilio gateway listening"')) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > end) {
      kill();
      throw fail(child.exitCode === null ? 'did not start in 30 s' : 'exited');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: child.pid as number,
    url: `http://${env.TWILIO_GATEWAY_HOST}:${env.TWILIO_GATEWAY_PORT}`,
    sessions: new Set(),
    async close() {
      process.off('exit', kill);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(kill, 5000);
      child.kill('SIGTERM'); // its streams end and their rooms are deleted
      await once(child, 'exit');
      clearTimeout(timer);
    },
  };
}

const defined = (env: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
