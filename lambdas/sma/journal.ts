// The DynamoDB adapter: each call's state item and event journal (docs/architecture.md, "DynamoDB").
// Journal writes get a short time budget. DynamoDB being slow or down is counted and logged by the
// caller, never a reason to answer Chime late or differently.
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { RecordingWrite, StateRecord } from './decide/index.js';
import { RECORDING_SK, RECORDING_TRACK, VOICEMAIL_SK } from '../../contracts/recordings.js';
import { OPEN_CALL_ATTRIBUTE, OPEN_CALL_VALUE } from './table.js';
import { failureCode, raceBudget, timeBudget, type TimeBudget } from '../../store/time-budget.js';

export interface JournalEntry {
  transactionId: string;
  sequence: number;
  eventType: string;
  /** ActionData.Type of the event, when it has one. */
  actionDataType: string | undefined;
  errorType: string | undefined;
  /** Types of the actions answered, in order. */
  actionTypes: string[];
  phase: string | undefined;
  receivedAtMs: number;
  record: StateRecord;
  /** The call's recording started or ended: its item (contracts/recordings.ts). */
  recording?: RecordingWrite;
}

export type WriteOutcome = 'written' | 'duplicate' | 'stale' | 'failed';

export interface JournalResult {
  event: WriteOutcome;
  state: WriteOutcome;
  /** Short codes of what failed (error names, `timeout`). */
  errors: string[];
}

export interface CallJournal {
  record(entry: JournalEntry): Promise<JournalResult>;
}

export const callKey = (transactionId: string) => `call#${transactionId}`;
export const eventSortKey = (sequence: number) => `event#${String(sequence).padStart(6, '0')}`;
export const STATE_SORT_KEY = 'state';

/** Fields written only the first time (later events must not move them). */
const FIRST_ONLY = new Set<keyof StateRecord>([
  'AnsweredAt',
  'CallerNumber',
  'DialedNumber',
  'Direction',
  'EndReason',
]);

/** The open-calls index (table.ts): in it while the call is open, out of it once it has ended. */
function openCallField(phase: string | undefined): Record<string, string | null> {
  if (phase === undefined) return {};
  return { [OPEN_CALL_ATTRIBUTE]: phase === 'ended' ? null : OPEN_CALL_VALUE };
}

export function stateUpdate(entry: JournalEntry, expiresAt: number) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  const removes: string[] = [];
  const set = (field: string, value: unknown, firstOnly = false) => {
    names[`#${field}`] = field;
    values[`:${field}`] = value;
    sets.push(
      firstOnly ? `#${field} = if_not_exists(#${field}, :${field})` : `#${field} = :${field}`,
    );
  };
  set('TransactionId', entry.transactionId);
  set('LastEventType', entry.eventType);
  set('LastEventTime', entry.receivedAtMs);
  set('LastSequence', entry.sequence);
  set('ExpiresAt', expiresAt);
  const fields = { ...entry.record, ...openCallField(entry.record.Phase) };
  for (const [field, value] of Object.entries(fields) as [keyof StateRecord, unknown][]) {
    if (value === undefined) continue;
    if (value === null) {
      names[`#${field}`] = field;
      removes.push(`#${field}`);
    } else {
      set(field, value, FIRST_ONLY.has(field));
    }
  }
  return {
    UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
    // A retried or late event must not move the call backwards.
    ConditionExpression: 'attribute_not_exists(#LastSequence) OR #LastSequence < :LastSequence',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/**
 * What one write came to within the budget: `conflict` when its condition failed; a failure's code
 * goes to `errors` as `<label>:<code>`.
 */
function outcomeOf(
  write: Promise<unknown>,
  budget: TimeBudget,
  on: { conflict: WriteOutcome; label: string; errors: string[] },
): Promise<WriteOutcome> {
  return raceBudget(write, budget)
    .then((): WriteOutcome => 'written')
    .catch((err: unknown): WriteOutcome => {
      if (err instanceof ConditionalCheckFailedException) return on.conflict;
      on.errors.push(`${on.label}:${failureCode(err, budget)}`);
      return 'failed';
    });
}

function eventItem(entry: JournalEntry, expiresAt: number) {
  return {
    pk: callKey(entry.transactionId),
    sk: eventSortKey(entry.sequence),
    EventType: entry.eventType,
    ActionDataType: entry.actionDataType,
    ErrorType: entry.errorType,
    Actions: entry.actionTypes,
    Phase: entry.phase,
    ReceivedAt: entry.receivedAtMs,
    ExpiresAt: expiresAt,
  };
}

export class DynamoCallJournal implements CallJournal {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    private readonly opts: { timeoutMs: number; ttlSeconds: number },
  ) {
    this.doc = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  async record(entry: JournalEntry): Promise<JournalResult> {
    // The time budget both writes of one event share.
    const budget = timeBudget(this.opts.timeoutMs);
    const expiresAt = Math.floor(entry.receivedAtMs / 1000) + this.opts.ttlSeconds;
    const errors: string[] = [];
    const put = outcomeOf(this.putEvent(entry, expiresAt, budget.signal), budget, {
      conflict: 'duplicate',
      label: 'event',
      errors,
    });
    const update = outcomeOf(this.updateState(entry, expiresAt, budget.signal), budget, {
      conflict: 'stale',
      label: 'state',
      errors,
    });
    const recorded = entry.recording
      ? outcomeOf(this.writeRecording(entry, entry.recording, expiresAt, budget.signal), budget, {
          conflict: 'stale',
          label: 'recording',
          errors,
        })
      : undefined;
    const [event, state] = await Promise.all([put, update, recorded]);
    return { event, state, errors };
  }

  /** The recording item: what Chime named as it started; its length once the call has ended. */
  private writeRecording(
    entry: JournalEntry,
    rec: RecordingWrite,
    expiresAt: number,
    abortSignal: AbortSignal,
  ) {
    const Key = { pk: callKey(entry.transactionId), sk: RECORDING_SK };
    if ('voicemail' in rec) {
      const { bucket, key, atMs, queue } = rec.voicemail;
      return this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: Key.pk,
            sk: VOICEMAIL_SK,
            Bucket: bucket,
            Key: key,
            Format: 'wav',
            Queue: queue,
            RecordedAt: atMs,
            ExpiresAt: expiresAt,
          },
        }),
        { abortSignal },
      );
    }
    if ('started' in rec) {
      const { bucket, key, atMs } = rec.started;
      return this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...Key,
            Source: 'chime',
            Bucket: bucket,
            Key: key,
            Format: 'wav',
            Track: RECORDING_TRACK,
            StartedAt: atMs,
            ExpiresAt: expiresAt,
          },
        }),
        { abortSignal },
      );
    }
    return this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key,
        UpdateExpression: 'SET Seconds = :s, ExpiresAt = :e',
        ExpressionAttributeValues: { ':s': rec.seconds, ':e': expiresAt },
        // Only a recording whose start was written: never a half item.
        ConditionExpression: 'attribute_exists(pk)',
      }),
      { abortSignal },
    );
  }

  private putEvent(entry: JournalEntry, expiresAt: number, abortSignal: AbortSignal) {
    return this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: eventItem(entry, expiresAt),
        // One item per Sequence: a retried invocation writes nothing new.
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
      { abortSignal },
    );
  }

  private updateState(entry: JournalEntry, expiresAt: number, abortSignal: AbortSignal) {
    return this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: callKey(entry.transactionId), sk: STATE_SORT_KEY },
        ...stateUpdate(entry, expiresAt),
      }),
      { abortSignal },
    );
  }
}

/** For runs without a table (benchmarks, pure tests): records nothing, never fails. */
export const noJournal: CallJournal = {
  record: async () => ({ event: 'written', state: 'written', errors: [] }),
};
