// The first-call smoke test: the SMA places a call to a test number (CreateSipMediaApplicationCall
// with the use case in ArgumentsMap, as docs/architecture.md describes outbound calls), then the
// call's journal is read from the calls table until the call ends: its events as they arrive, and
// how long the answer, the bridge to the agent and the whole call took. The time to the agent's
// first audio is the agent's to measure (voice.call.time_to_first_audio); the journal gives the
// moment the agent's leg was connected.
import {
  CreateSipMediaApplicationCallCommand,
  type ChimeSDKVoiceClient,
} from '@aws-sdk/client-chime-sdk-voice';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { STATE_SORT_KEY, callKey } from '../../lambdas/sma/journal.js';

export class SmokeCallError extends Error {
  override name = 'SmokeCallError';
}

export interface SmokeCallRequest {
  sipMediaApplicationId: string;
  /** One of the SMA's numbers (a use case's dialed number). */
  from: string;
  /** The test number that answers. */
  to: string;
  useCase: string;
}

export interface JournalEvent {
  sequence: string;
  eventType: string;
  detail: string;
  actions: string[];
  phase: string;
}

export interface SmokeCallResult {
  transactionId: string;
  events: JournalEvent[];
  /** How the call ended (`Disposition`), or `timeout` when it had not ended in time. */
  outcome: string;
  /** The request → the callee's answer (this machine's clock against the journal's), ms. */
  answeredAfterRequestMs?: number;
  /** The answer → the agent's leg connected (the journal's clock only), ms. */
  agentAfterAnswerMs?: number;
  /** The answer → the call's end, ms. */
  endedAfterAnswerMs?: number;
}

export interface SmokeCallDeps {
  voice: ChimeSDKVoiceClient;
  dynamo: DynamoDBClient;
  table: string;
  timeoutMs: number;
  pollMs: number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Each journal event as it is first seen. */
  onEvent?: (e: JournalEvent) => void;
}

const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
const str = (v: unknown) => (typeof v === 'string' ? v : '');

export function journalEvent(item: Record<string, unknown>): JournalEvent {
  return {
    sequence: str(item['sk']).slice('event#'.length),
    eventType: str(item['EventType']),
    detail: [str(item['ActionDataType']), str(item['ErrorType'])].filter(Boolean).join(' '),
    actions: Array.isArray(item['Actions']) ? item['Actions'].map(String) : [],
    phase: str(item['Phase']),
  };
}

async function readCall(deps: SmokeCallDeps, transactionId: string) {
  const doc = DynamoDBDocumentClient.from(deps.dynamo);
  const res = await doc.send(
    new QueryCommand({
      TableName: deps.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': callKey(transactionId) },
      ConsistentRead: true,
    }),
  );
  const items = res.Items ?? [];
  return {
    state: items.find((i) => i['sk'] === STATE_SORT_KEY),
    events: items.filter((i) => str(i['sk']).startsWith('event#')).map(journalEvent),
  };
}

export async function placeSmokeCall(
  req: SmokeCallRequest,
  deps: SmokeCallDeps,
): Promise<SmokeCallResult> {
  const startedAt = deps.now();
  const res = await deps.voice.send(
    new CreateSipMediaApplicationCallCommand({
      SipMediaApplicationId: req.sipMediaApplicationId,
      FromPhoneNumber: req.from,
      ToPhoneNumber: req.to,
      ArgumentsMap: { useCase: req.useCase },
    }),
  );
  const transactionId = res.SipMediaApplicationCall?.TransactionId;
  if (!transactionId)
    throw new SmokeCallError('CreateSipMediaApplicationCall gave no TransactionId');
  const seen = new Set<string>();
  let events: JournalEvent[] = [];
  let state: Record<string, unknown> | undefined;
  while (deps.now() - startedAt < deps.timeoutMs) {
    ({ state, events } = await readCall(deps, transactionId));
    for (const e of events) {
      if (seen.has(e.sequence)) continue;
      seen.add(e.sequence);
      deps.onEvent?.(e);
    }
    if (num(state?.['EndedAt']) !== undefined) break;
    await deps.sleep(deps.pollMs);
  }
  const answeredAt = num(state?.['AnsweredAt']);
  const sinceAnswer = (field: string) => {
    const at = num(state?.[field]);
    return at === undefined || answeredAt === undefined ? undefined : at - answeredAt;
  };
  const ended = num(state?.['EndedAt']) !== undefined;
  return {
    transactionId,
    events,
    outcome: ended ? str(state?.['Disposition']) || 'ended' : 'timeout',
    answeredAfterRequestMs: answeredAt === undefined ? undefined : answeredAt - startedAt,
    agentAfterAnswerMs: sinceAnswer('AiConnectedAt'),
    endedAfterAnswerMs: sinceAnswer('EndedAt'),
  };
}
