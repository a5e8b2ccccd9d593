// The lab's Amazon Connect: the API stand-in (./connect-api-server.ts) with the instance and queues
// the use cases name, and the environment that points the agent worker's Connect client at it.
import type { UseCaseCatalog } from '../../contracts/use-cases.js';
import { startConnectApiServer, type ConnectApiServer } from './connect-api-server.js';
import { LabContactFlows } from './contact-flows.js';

export interface LabConnect {
  api: ConnectApiServer;
  /** The queue-entry and whisper flows of the rolling numbers (./contact-flows.ts). */
  flows: LabContactFlows;
  /**
   * For the agent worker: the endpoint, the region, figures kept 1 s and hours (weekly and
   * effective, overrides applied) 5 s (scenarios change them from call to call), and the pace that
   * allows (the stand-in throttles GetCurrentMetricData past 5 per second).
   */
  workerEnv: Record<string, string>;
}

/** The stand-in for the use cases' Connect instance (the first one named, if several are). */
export async function startLabConnect(useCases: UseCaseCatalog): Promise<LabConnect> {
  const refs = useCases.all.flatMap((uc) => [
    ...Object.values(uc.queues).flatMap((q) => (q.connect ? [q.connect] : [])),
    ...(uc.callbacks
      ? [{ instanceId: uc.callbacks.instanceId, queueId: uc.callbacks.queueId }]
      : []),
  ]);
  const instanceId = refs[0]?.instanceId ?? 'lab-instance';
  const queueIds = [
    ...new Set(refs.filter((r) => r.instanceId === instanceId).map((r) => r.queueId)),
  ];
  const api = await startConnectApiServer({ instanceId, queueIds });
  return {
    api,
    flows: new LabContactFlows(() => useCases),
    workerEnv: {
      AWS_ENDPOINT_URL_CONNECT: api.endpoint,
      CONNECT_REGION: 'us-east-1',
      CONNECT_STATUS_FRESH_MS: '1000',
      CONNECT_HOURS_REFRESH_MS: '5000',
      CONNECT_MAX_REQUESTS_PER_SECOND: '4',
    },
  };
}

/** A use case's queue, by key, as its Connect queue id (undefined: the queue names none). */
export function connectQueueId(
  useCases: UseCaseCatalog,
  key: string,
  dialed?: string,
): string | undefined {
  const uc = useCases.byDialedNumber(dialed) ?? useCases.defaultUseCase;
  return uc.queues[key]?.connect?.queueId;
}
