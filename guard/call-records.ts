// The guard's one write to the SMA's table: closing the record of a call Chime no longer has, whose
// last events' writes were lost (DynamoDB down, or the handler failing until Chime ended the call),
// and giving back the call slots it still holds. Only ever after Chime answered NotFound for the
// call (voice-api.ts), and only if no event has written the record since the guard read it: the
// SMA stays the owner of every call it still hears about. docs/guard.md.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ALL_CALLS_PK, useCaseLimitPk } from '../contracts/callers.js';
import { timeBudget } from '../store/time-budget.js';
import { LeaseStore } from '../lambdas/sma/admission/leases.js';
import { STATE_SORT_KEY, callKey } from '../lambdas/sma/journal.js';
import { OPEN_CALL_ATTRIBUTE } from '../lambdas/sma/table.js';
import { DeadlineError, withDeadline } from './errors.js';

/**
 * `closed`: the record is closed now; `moved`: an event wrote it since it was read (the SMA has
 * it); `absent`: no open record (already closed, or never written).
 */
export type CloseOutcome = { outcome: 'closed'; leases: number } | { outcome: 'moved' | 'absent' };

/** What the guard writes; tests inject a fake. */
export interface CallRecords {
  /** Closes the call's open record and deletes its leases. */
  closeGone(transactionId: string, nowMs: number): Promise<CloseOutcome>;
}

interface OpenRecord {
  phase: string | undefined;
  useCase: string | undefined;
  lastSequence: number | undefined;
}

export class DynamoCallRecords implements CallRecords {
  private readonly doc: DynamoDBDocumentClient;
  private readonly leases: LeaseStore;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    private readonly timeoutMs: number,
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
    this.leases = new LeaseStore(this.doc, table);
  }

  async closeGone(transactionId: string, nowMs: number): Promise<CloseOutcome> {
    const record = await withDeadline(this.timeoutMs, (s) => this.readOpen(transactionId, s));
    if (!record) return { outcome: 'absent' };
    const closed = await withDeadline(this.timeoutMs, (s) =>
      this.close(transactionId, record, nowMs, s),
    );
    if (!closed) return { outcome: 'moved' };
    const pks = [ALL_CALLS_PK, ...(record.useCase ? [useCaseLimitPk(record.useCase)] : [])];
    let leases = 0;
    for (const pk of pks) {
      const released = await this.leases.releaseCall(pk, transactionId, timeBudget(this.timeoutMs));
      if (!released.ok) {
        const code = released.conflict ? 'conflict' : released.code;
        throw code === 'timeout'
          ? new DeadlineError(`no answer within ${this.timeoutMs} ms`)
          : Object.assign(new Error(`releasing the call's leases failed: ${code}`), { name: code });
      }
      leases += released.value;
    }
    return { outcome: 'closed', leases };
  }

  private async readOpen(tx: string, abortSignal: AbortSignal): Promise<OpenRecord | undefined> {
    const res = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: callKey(tx), sk: STATE_SORT_KEY },
        ConsistentRead: true,
        ProjectionExpression: '#open, #phase, UseCase, LastSequence',
        ExpressionAttributeNames: { '#open': OPEN_CALL_ATTRIBUTE, '#phase': 'Phase' },
      }),
      { abortSignal },
    );
    const item = res.Item;
    if (!item || item[OPEN_CALL_ATTRIBUTE] === undefined) return undefined;
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    return {
      phase: str(item['Phase']),
      useCase: str(item['UseCase']),
      lastSequence: typeof item['LastSequence'] === 'number' ? item['LastSequence'] : undefined,
    };
  }

  /** Ends the record as read; false when an event wrote it in between. */
  private async close(tx: string, seen: OpenRecord, nowMs: number, abortSignal: AbortSignal) {
    const sameSequence =
      seen.lastSequence === undefined
        ? 'attribute_not_exists(LastSequence)'
        : 'LastSequence = :seq';
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: callKey(tx), sk: STATE_SORT_KEY },
          // LastSequence stays: were Chime to send another event after all, it would still apply.
          UpdateExpression: 'SET #phase = :ended, EndedAt = :now, ClosedBy = :guard REMOVE #open',
          ConditionExpression: `attribute_exists(#open) AND ${sameSequence}`,
          ExpressionAttributeNames: { '#open': OPEN_CALL_ATTRIBUTE, '#phase': 'Phase' },
          ExpressionAttributeValues: {
            ':ended': 'ended',
            ':now': nowMs,
            ':guard': 'guard',
            ...(seen.lastSequence === undefined ? {} : { ':seq': seen.lastSequence }),
          },
        }),
        { abortSignal },
      );
      return true;
    } catch (err) {
      if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }
}
