// Lambda entry point of the SMA call controller. Module initialisation (cold start) reads and
// validates the configuration once and builds the clients; `handler` is what Chime invokes.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { metrics } from '@opentelemetry/api';
import bundledUseCases from '../../sip/use-cases.json' with { type: 'json' };
import { createSmaInstruments } from '../../otel/instruments.js';
import { loadSmaConfig } from './config.js';
import { createHandler } from './handler.js';
import { DynamoCallJournal } from './journal.js';
import { createLogger } from './logger.js';

const config = loadSmaConfig(process.env, bundledUseCases);
const logger = createLogger({ level: config.logLevel, pii: config.logPii });
// One retry at most: the journal has a ~300 ms budget, and the SDK's default backoff would not fit.
const dynamo = new DynamoDBClient({ maxAttempts: 2 });

export const handler = createHandler({
  config: config.decide,
  journal: new DynamoCallJournal(dynamo, config.callsTable, {
    timeoutMs: config.journalTimeoutMs,
    ttlSeconds: config.recordTtlSeconds,
  }),
  instruments: createSmaInstruments(metrics.getMeter('callbridge.sma')),
  logger,
  now: Date.now,
});
