// The guard's DynamoDB adapter: the calls the SMA still has open (the sparse open-calls index of
// lambdas/sma/table.ts) and, for the few calls a room names that are not in it, their phase. Reads
// only; every read within its deadline. The guard never writes the SMA's records.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { STATE_SORT_KEY, callKey } from '../lambdas/sma/journal.js';
import { OPEN_CALLS_INDEX, OPEN_CALL_ATTRIBUTE, OPEN_CALL_VALUE } from '../lambdas/sma/table.js';
import { withDeadline } from './errors.js';
import type { OpenCallView } from './plan.js';

/** What the sweep reads of the SMA's calls; tests inject a fake. */
export interface CallStore {
  /** The calls the SMA has open (recorded within the window), all pages. */
  openCalls(nowMs: number): Promise<OpenCallView[]>;
  /** The `Phase` of each call found (a call not found is left out). */
  phases(transactionIds: readonly string[]): Promise<Record<string, string>>;
}

/** A bound on one read, whatever the table holds: 50 pages of 1 MB of small items. */
const MAX_PAGES = 50;
/** BatchGetItem's limit. */
const BATCH = 100;

export class DynamoCallStore implements CallStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    private readonly opts: {
      timeoutMs: number;
      openWindowMs: number;
      /** Items per page (tests); DynamoDB's 1 MB otherwise. */
      pageSize?: number;
    },
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  openCalls(nowMs: number): Promise<OpenCallView[]> {
    return withDeadline(this.opts.timeoutMs, async (abortSignal) => {
      const out: OpenCallView[] = [];
      let start: Record<string, unknown> | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const res = await this.doc.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: OPEN_CALLS_INDEX,
            KeyConditionExpression: '#open = :open AND #last >= :since',
            ExpressionAttributeNames: { '#open': OPEN_CALL_ATTRIBUTE, '#last': 'LastEventTime' },
            ExpressionAttributeValues: {
              ':open': OPEN_CALL_VALUE,
              ':since': nowMs - this.opts.openWindowMs,
            },
            ExclusiveStartKey: start,
            Limit: this.opts.pageSize,
          }),
          { abortSignal },
        );
        for (const item of res.Items ?? []) {
          const { TransactionId, Phase } = item as { TransactionId?: unknown; Phase?: unknown };
          if (typeof TransactionId === 'string' && typeof Phase === 'string') {
            out.push({ transactionId: TransactionId, phase: Phase });
          }
        }
        start = res.LastEvaluatedKey;
        if (!start) break;
      }
      return out;
    });
  }

  phases(transactionIds: readonly string[]): Promise<Record<string, string>> {
    return withDeadline(this.opts.timeoutMs, async (abortSignal) => {
      const out: Record<string, string> = {};
      for (let i = 0; i < transactionIds.length; i += BATCH) {
        const keys = transactionIds
          .slice(i, i + BATCH)
          .map((tx) => ({ pk: callKey(tx), sk: STATE_SORT_KEY }));
        const res = await this.doc.send(
          new BatchGetCommand({
            RequestItems: {
              [this.table]: {
                Keys: keys,
                ProjectionExpression: 'TransactionId, #phase',
                ExpressionAttributeNames: { '#phase': 'Phase' },
              },
            },
          }),
          { abortSignal },
        );
        // Keys DynamoDB left unprocessed stay unknown: the next sweep asks again.
        for (const item of res.Responses?.[this.table] ?? []) {
          const { TransactionId, Phase } = item as { TransactionId?: unknown; Phase?: unknown };
          if (typeof TransactionId === 'string' && typeof Phase === 'string') {
            out[TransactionId] = Phase;
          }
        }
      }
      return out;
    });
  }
}
