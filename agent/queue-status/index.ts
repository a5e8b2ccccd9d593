// The queue status of a worker: its one poller in the main process, served to the job processes
// (./relay.ts); the refs of a use case's queues in Connect.
import type { Logger } from 'pino';
import type { UseCase } from '../../contracts/use-cases.js';
import { loadQueueStatusConfig } from './config.js';
import { ConnectQueueSource } from './connect-queues.js';
import { QueueStatusPoller } from './poller.js';
import { serveQueueStatus } from './relay.js';
import type { ConnectQueueRef } from './status.js';

export { queueStatusClient, type QueueStatusLookup } from './relay.js';

/**
 * In the worker's main process: the poller and its socket when CONNECT_REGION is set; the job
 * processes find it through their environment. Returns whether queue checks are on.
 */
export async function startQueueStatus(
  env: Record<string, string | undefined>,
  logger: Logger,
): Promise<boolean> {
  const config = loadQueueStatusConfig(env);
  if (!config) {
    logger.info({ reason: 'no_connect_region' }, 'queue status off: CONNECT_REGION is not set');
    return false;
  }
  const source = new ConnectQueueSource({
    client: ConnectQueueSource.clientFor(config.region),
    timeoutMs: config.timeoutMs,
  });
  const poller = new QueueStatusPoller({
    source,
    logger: logger.child({ component: 'queue-status' }),
    freshMs: config.freshMs,
    hoursRefreshMs: config.hoursRefreshMs,
    maxRequestsPerSecond: config.maxRequestsPerSecond,
  });
  await serveQueueStatus(poller, env);
  logger.info(
    { freshMs: config.freshMs, maxRequestsPerSecond: config.maxRequestsPerSecond },
    'queue status on',
  );
  return true;
}

/** The Connect queue behind one of the use case's queues, if it names one. */
export function connectQueueOf(useCase: UseCase, queue: string): ConnectQueueRef | undefined {
  return Object.hasOwn(useCase.queues, queue) ? useCase.queues[queue]!.connect : undefined;
}

/** Every Connect queue of the use case. */
export function connectQueuesOf(useCase: UseCase): ConnectQueueRef[] {
  return Object.values(useCase.queues).flatMap((q) => (q.connect ? [q.connect] : []));
}
