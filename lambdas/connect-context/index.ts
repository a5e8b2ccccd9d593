// Lambda entry point of the connect-context function (./handler.ts). Cold start reads the
// configuration and the use cases (the calls table's, the bundled file until the table answers),
// as the SMA does; `handler` is what Amazon Connect invokes.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import bundledUseCases from '../../contracts/use-cases.json' with { type: 'json' };
import { loadUseCases } from '../../contracts/use-cases.js';
import { UseCaseCache } from '../../store/use-case-cache.js';
import { UseCaseStore } from '../../store/use-case-store.js';
import { createLogger } from '../sma/logger.js';
import { loadConnectContextConfig } from './config.js';
import { createConnectContextHandler, DynamoContextClaims } from './handler.js';

const e = loadConnectContextConfig(process.env);
const logger = createLogger({ level: e.LOG_LEVEL, pii: e.LOG_PII, name: 'connect-context' });
const dynamo = new DynamoDBClient({
  maxAttempts: 2,
  ...(e.CALLS_TABLE_REGION ? { region: e.CALLS_TABLE_REGION } : {}),
});
const store = new UseCaseStore(dynamo, e.CALLS_TABLE);
const useCases = new UseCaseCache({
  read: (abortSignal) => store.readCatalog({ abortSignal }),
  fallback: loadUseCases(e.USE_CASES_FILE, bundledUseCases),
  refreshMs: 60_000,
  timeoutMs: e.CONTEXT_TIMEOUT_MS,
  onError: (code) => logger.warn({ reason: 'use_cases_unread', code }, 'use cases not read'),
});
await useCases.refresh();

export const handler = createConnectContextHandler({
  useCases: () => useCases.current(),
  claims: new DynamoContextClaims(dynamo, e.CALLS_TABLE, e.CONTEXT_TIMEOUT_MS),
  logger,
  now: Date.now,
});
