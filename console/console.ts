// The console, assembled: configuration, the browser bundle, the call records, Chime SDK Voice for
// outbound calls, and the server.
// `npm run console` (scripts/console.ts) and the lab (`npm start -- --keep`) both start it here.
import { ChimeSDKVoiceClient } from '@aws-sdk/client-chime-sdk-voice';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import pino, { type Logger } from 'pino';
import { loadUseCases } from '../contracts/use-cases.js';
import { piiRedaction } from '../otel/logging.js';
import bundledUseCases from '../contracts/use-cases.json' with { type: 'json' };
import { bundleWeb } from './bundle.js';
import { dynamoCallRecords } from './calls.js';
import { loadConsoleConfig } from './config.js';
import { type ConsoleServer, type LiveKitServer, startConsoleServer } from './server.js';

export interface StartedConsole extends ConsoleServer {
  /** The page's script, gzipped, as served (bytes). */
  pageWeightGzipped: number;
  auth: 'local' | 'oidc';
}

export interface StartConsoleOptions {
  env: Record<string, string | undefined>;
  livekit: LiveKitServer;
  /** Where the calls table is (the lab's DynamoDB); default the SDK's own (AWS or its variable). */
  dynamoEndpoint?: string;
  /** Where Chime SDK Voice is (the lab's stand-in); default the SDK's own (AWS or its variable). */
  voiceEndpoint?: string;
  logger?: Logger;
}

export async function startConsole(opts: StartConsoleOptions): Promise<StartedConsole> {
  const config = loadConsoleConfig(opts.env);
  const logger =
    opts.logger ??
    pino({ name: 'console', level: config.logLevel, redact: piiRedaction(config.logPii) });
  const useCases = loadUseCases(config.useCasesFile, bundledUseCases);
  const web = await bundleWeb();
  const records = config.callsTable
    ? dynamoCallRecords(
        new DynamoDBClient(opts.dynamoEndpoint ? { endpoint: opts.dynamoEndpoint } : {}),
        config.callsTable,
      )
    : undefined;
  const voice = config.smaApplicationId
    ? new ChimeSDKVoiceClient(opts.voiceEndpoint ? { endpoint: opts.voiceEndpoint } : {})
    : undefined;
  const server = await startConsoleServer({
    voice,
    config,
    livekit: opts.livekit,
    useCases,
    web,
    records,
    logger,
  });
  return { ...server, pageWeightGzipped: web.gzipped.length, auth: config.auth.mode };
}
