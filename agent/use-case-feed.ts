// The use cases of one job process: the calls table's, kept in memory and refreshed in the
// background (store/use-case-cache.ts), the file's until the table answers and when it holds none.
// A call reads them once, when it is admitted: an operator's change applies to the next call,
// never to one in progress.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Logger } from 'pino';
import type { UseCaseCatalog } from '../contracts/use-cases.js';
import { fixedUseCases, UseCaseCache, type UseCaseSource } from '../store/use-case-cache.js';
import { UseCaseStore } from '../store/use-case-store.js';
import type { AgentConfig } from './config.js';

/** The budget of one refresh: the process is not on a caller's path while it reads. */
const READ_TIMEOUT_MS = 2000;

/** One DynamoDB client per job process, for the use cases, profiles and records. */
export function tableClient(): DynamoDBClient {
  return new DynamoDBClient({ maxAttempts: 2 });
}

/**
 * The process's use cases, read once before it takes a call (prewarm), then every
 * USE_CASES_REFRESH_SECONDS; `onChange` hears of each catalog unlike the last (to render its lines).
 */
export async function startUseCaseFeed(
  config: AgentConfig,
  client: DynamoDBClient | undefined,
  logger: Logger,
  onChange: (catalog: UseCaseCatalog) => void,
): Promise<UseCaseSource> {
  if (!config.table || !client) return fixedUseCases(config.useCases);
  const store = new UseCaseStore(client, config.table.name);
  const cache = new UseCaseCache({
    read: (abortSignal) => store.readCatalog({ abortSignal }),
    fallback: config.useCases,
    refreshMs: config.table.useCasesRefreshMs,
    timeoutMs: READ_TIMEOUT_MS,
    onError: (code) =>
      logger.warn(
        { reason: 'use_cases_unread', code },
        'use cases not read; the last good ones serve',
      ),
    onChange: (catalog, source) => {
      logger.info({ source, useCases: catalog.all.map((uc) => uc.id) }, 'use cases loaded');
      onChange(catalog);
    },
  });
  await cache.refresh();
  cache.startTimer();
  return cache;
}
