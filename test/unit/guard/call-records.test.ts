// The guard's one write, on the real DynamoDB API (dynalite): closing the record of a call Chime no
// longer has, as the SMA's real journal wrote it, and giving back the slots the SMA's real lease
// store took for it, and nothing else.
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCallRecords } from '../../../guard/call-records.js';
import { DynamoCallStore } from '../../../guard/open-calls.js';
import { ALL_CALLS_PK, LEASES_SK, leaseOf, useCaseLimitPk } from '../../../contracts/callers.js';
import { timeBudget } from '../../../store/time-budget.js';
import { LeaseStore, leasesOfCall } from '../../../lambdas/sma/admission/leases.js';
import { DynamoCallJournal, type JournalEntry } from '../../../lambdas/sma/journal.js';
import { ensureCallsTable } from '../../../lambdas/sma/table.js';
import { startLocalDynamo, type LocalDynamo } from '../../../lab/stack/local-dynamodb.js';

const TABLE = 'callbridge-calls-guard-records';
const NOW = Date.now();
const USE_CASE = 'city-311';

describe('DynamoCallRecords (dynalite)', () => {
  let db: LocalDynamo;
  let journal: DynamoCallJournal;
  let leases: LeaseStore;
  let records: DynamoCallRecords;
  let open: DynamoCallStore;
  let doc: DynamoDBDocumentClient;

  beforeAll(async () => {
    db = await startLocalDynamo({});
    await ensureCallsTable(db.client, TABLE);
    journal = new DynamoCallJournal(db.client, TABLE, { timeoutMs: 2000, ttlSeconds: 86_400 });
    doc = DynamoDBDocumentClient.from(db.client);
    leases = new LeaseStore(doc, TABLE);
    records = new DynamoCallRecords(db.client, TABLE, 2000);
    open = new DynamoCallStore(db.client, TABLE, { timeoutMs: 2000, openWindowMs: 3_600_000 });
  });
  afterAll(async () => {
    await db?.stop();
  });

  const entry = (tx: string, sequence: number, phase: string): JournalEntry => ({
    transactionId: tx,
    sequence,
    eventType: 'ACTION_SUCCESSFUL',
    actionDataType: undefined,
    errorType: undefined,
    actionTypes: [],
    phase,
    receivedAtMs: NOW,
    record: { Phase: phase, ...(sequence === 1 ? { UseCase: USE_CASE } : {}) },
  });

  /** A call the SMA left with the agent, holding a slot in both caps. */
  async function callWithTheAgent(tx: string) {
    await journal.record(entry(tx, 1, 'bridging_ai'));
    await journal.record(entry(tx, 2, 'ai_connected'));
    for (const pk of [ALL_CALLS_PK, useCaseLimitPk(USE_CASE)]) {
      const taken = await leases.take(
        { label: 'x', pk, max: 10 },
        leaseOf(tx, NOW + 60_000),
        NOW,
        timeBudget(2000),
      );
      expect(taken.kind).toBe('held');
    }
  }

  const leasesIn = async (pk: string) => {
    const res = await doc.send(new GetCommand({ TableName: TABLE, Key: { pk, sk: LEASES_SK } }));
    return [...((res.Item?.['Leases'] as Set<string> | undefined) ?? [])];
  };
  const openIds = async () => (await open.openCalls(NOW)).map((c) => c.transactionId);

  it("closes the open record and deletes the call's leases from both caps", async () => {
    await callWithTheAgent('tx-gone');
    await callWithTheAgent('tx-other');
    expect(await records.closeGone('tx-gone', NOW + 1000)).toEqual({
      outcome: 'closed',
      leases: 2,
    });
    expect(await openIds()).toEqual(['tx-other']);
    for (const pk of [ALL_CALLS_PK, useCaseLimitPk(USE_CASE)]) {
      expect(leasesOfCall(await leasesIn(pk), 'tx-gone')).toEqual([]);
      expect(leasesOfCall(await leasesIn(pk), 'tx-other')).toHaveLength(1);
    }
    const state = await doc.send(
      new GetCommand({ TableName: TABLE, Key: { pk: 'call#tx-gone', sk: 'state' } }),
    );
    expect(state.Item).toMatchObject({ Phase: 'ended', EndedAt: NOW + 1000, ClosedBy: 'guard' });
    expect(state.Item?.['LastSequence']).toBe(2);
  });

  it('answers absent for a record that is already closed, and changes nothing', async () => {
    expect(await records.closeGone('tx-gone', NOW + 2000)).toEqual({ outcome: 'absent' });
    expect(await records.closeGone('tx-never-written', NOW)).toEqual({ outcome: 'absent' });
  });

  it('lets a later event of the call still apply to the record it closed', async () => {
    await callWithTheAgent('tx-late');
    await records.closeGone('tx-late', NOW);
    await journal.record(entry('tx-late', 3, 'ended'));
    const state = await doc.send(
      new GetCommand({ TableName: TABLE, Key: { pk: 'call#tx-late', sk: 'state' } }),
    );
    expect(state.Item?.['LastSequence']).toBe(3);
  });
});
