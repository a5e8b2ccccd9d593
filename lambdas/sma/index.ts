// Lambda entry point of the SMA call controller. Module initialisation (cold start) reads and
// validates the configuration once and builds the clients and telemetry; `handler` is what Chime
// invokes. Telemetry is flushed before each answer: a frozen environment exports nothing.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import bundledUseCases from '../../contracts/use-cases.json' with { type: 'json' };
import { startSmaTelemetry } from '../../otel/sma.js';
import { DynamoCallAdmission } from './admission/dynamo-admission.js';
import { loadSmaConfig } from './config.js';
import { createHandler } from './handler.js';
import { DynamoHandoffClaims } from './handoff-claims.js';
import { DynamoCallJournal } from './journal.js';
import { createLogger } from './logger.js';
import { UseCaseCache } from '../../store/use-case-cache.js';
import { UseCaseStore } from '../../store/use-case-store.js';

const config = loadSmaConfig(process.env, bundledUseCases);
const logger = createLogger({ level: config.logLevel, pii: config.logPii });
const otel = await startSmaTelemetry(config.telemetry, logger);
// One retry at most: the journal and admission have ~300 ms budgets, and the SDK's default backoff
// would not fit.
const dynamo = new DynamoDBClient({ maxAttempts: 2 });
const store = new UseCaseStore(dynamo, config.callsTable);
const useCases = new UseCaseCache({
  read: (abortSignal) => store.readCatalog({ abortSignal }),
  // A call in progress keeps its use case's version; a new environment reads it once, in budget.
  readVersion: (id, version, abortSignal) => store.useCaseAt(id, version, { abortSignal }),
  fallback: config.decide.useCases,
  ...config.useCaseCache,
  onError: (code) =>
    logger.warn(
      { reason: 'use_cases_unread', code },
      'use cases not read; the last good ones serve',
    ),
  onChange: (catalog, source) =>
    logger.info({ source, useCases: catalog.all.map((uc) => uc.id) }, 'use cases loaded'),
});
// Read once at cold start, within its budget: a warm call then never waits on it.
await useCases.refresh();

export const handler = otel.flushingEach(
  createHandler({
    config: config.decide,
    owner: config.owner,
    journal: new DynamoCallJournal(dynamo, config.callsTable, {
      timeoutMs: config.journalTimeoutMs,
      ttlSeconds: config.recordTtlSeconds,
    }),
    admission: new DynamoCallAdmission(dynamo, config.callsTable, config.admission),
    useCases,
    handoff: new DynamoHandoffClaims(dynamo, config.callsTable, {
      timeoutMs: config.admission.timeoutMs,
    }),
    instruments: otel.instruments,
    tracing: otel.tracing,
    logger,
    now: Date.now,
  }),
);
