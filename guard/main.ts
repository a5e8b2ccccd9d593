// The call guard as a service: ends the AI leg of a call whose agent is gone (so the SMA sends the
// caller to a person) and cleans up rooms calls left behind. Run one or more replicas beside
// livekit-server and point its webhook at them (docs/guard.md).
//   npm run guard        (LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET, CALLS_TABLE, GUARD_*)
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { pino } from 'pino';
import { DynamoCallRecords } from './call-records.js';
import { loadGuardConfig } from './config.js';
import { DynamoCallStore } from './open-calls.js';
import { startCallGuardServer } from './server.js';
import { startGuardTelemetry } from './telemetry.js';
import { ChimeVoiceApi } from './voice-api.js';

const config = loadGuardConfig(process.env);
const logger = pino({ name: 'guard', level: config.logLevel });
const { telemetry, instruments } = await startGuardTelemetry(config.telemetry, logger);
const dynamo = config.calls ? new DynamoDBClient({ maxAttempts: 2 }) : undefined;
const calls =
  config.calls && dynamo
    ? new DynamoCallStore(dynamo, config.calls.table, config.calls)
    : undefined;
if (!calls) logger.warn('CALLS_TABLE is not set: the sweep sees LiveKit only, not the open calls');
const voice = new ChimeVoiceApi(config.voice.timeoutMs);
const records =
  config.calls && dynamo
    ? new DynamoCallRecords(dynamo, config.calls.table, config.calls.timeoutMs)
    : undefined;
if (records && !config.voice.applicationId) {
  logger.warn('SMA_APPLICATION_ID is not set: open records of calls that are gone stay open');
}

if (!config.presenceSecret) {
  logger.warn(
    'GUARD_PRESENCE_SECRET is not set: worker presence is off (a dead worker costs ~15 s)',
  );
}
const server = await startCallGuardServer({
  httpUrl: config.livekit.httpUrl,
  apiKey: config.livekit.apiKey,
  apiSecret: config.livekit.apiSecret,
  livekitTimeoutMs: config.livekit.timeoutMs,
  calls,
  recovery: { voice, records, applicationId: config.voice.applicationId },
  graceMs: config.graceMs,
  sweepIntervalMs: config.sweepIntervalMs,
  presence: config.presenceSecret ? { secret: config.presenceSecret } : undefined,
  instruments,
  logger,
  host: config.listen.host,
  port: config.listen.port,
});
logger.info(
  {
    webhook: server.url,
    health: server.healthUrl,
    presence: server.presenceUrl,
    graceMs: config.graceMs,
    sweepIntervalMs: config.sweepIntervalMs,
  },
  'call guard started',
);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'call guard stopping');
  await server.stop();
  voice.close();
  dynamo?.destroy();
  await telemetry.shutdown();
  process.exit(0);
};
process.once('SIGINT', () => void stop('SIGINT'));
process.once('SIGTERM', () => void stop('SIGTERM'));
