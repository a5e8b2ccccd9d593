// The smoke test's call against the Chime SDK Voice API stand-in and dynalite, through the real
// SDK clients: the request it sends, and what it reads back from the journal.
import { ChimeSDKVoiceClient } from '@aws-sdk/client-chime-sdk-voice';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { placeSmokeCall, type JournalEvent } from '../../../infra/smoke/smoke-call.js';
import { startVoiceApiServer, type VoiceApiServer } from '../../../lab/chime/voice-api-server.js';
import { startLocalDynamo, type LocalDynamo } from '../../../lab/stack/local-dynamodb.js';

const TABLE = 'smoke-calls';
const T0 = 1_780_000_000_000;
let db: LocalDynamo;
let api: VoiceApiServer;
let created: { smaId: string; req: unknown }[];

/** The journal a call leaves: its state and events, as the SMA writes them. */
async function writeJournal(tx: string, ended: boolean) {
  const doc = DynamoDBDocumentClient.from(db.client);
  const put = (Item: Record<string, unknown>) =>
    doc.send(new PutCommand({ TableName: TABLE, Item }));
  await put({
    pk: `call#${tx}`,
    sk: 'state',
    Phase: ended ? 'ended' : 'ai_connected',
    AnsweredAt: T0 + 4000,
    AiConnectedAt: T0 + 4600,
    ...(ended ? { EndedAt: T0 + 34_000, Disposition: 'ai_completed' } : {}),
  });
  await put({
    pk: `call#${tx}`,
    sk: 'event#000001',
    EventType: 'NEW_OUTBOUND_CALL',
    Actions: [],
    Phase: 'dialing',
  });
  await put({
    pk: `call#${tx}`,
    sk: 'event#000002',
    EventType: 'CALL_ANSWERED',
    Actions: ['CallAndBridge'],
    Phase: 'bridging_ai',
  });
}

beforeAll(async () => {
  db = await startLocalDynamo({ table: TABLE });
  created = [];
  let n = 0;
  api = await startVoiceApiServer({
    onUpdate: () => false,
    onCreate: async (smaId, req) => {
      created.push({ smaId, req });
      const tx = `tx-${++n}`;
      await writeJournal(tx, req.ToPhoneNumber !== '+15550100999');
      return tx;
    },
  });
});
afterAll(async () => {
  await api?.stop();
  await db?.stop();
});

function deps(clock: { now: number }, events: JournalEvent[] = []) {
  return {
    voice: new ChimeSDKVoiceClient({
      endpoint: api.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
    dynamo: db.client,
    table: TABLE,
    timeoutMs: 5000,
    pollMs: 1000,
    now: () => clock.now,
    sleep: async (ms: number) => {
      clock.now += ms;
    },
    onEvent: (e: JournalEvent) => events.push(e),
  };
}

describe('smoke call', () => {
  it('asks the SMA to call the test number for the use case and reports the journal', async () => {
    const events: JournalEvent[] = [];
    const result = await placeSmokeCall(
      {
        sipMediaApplicationId: 'sma-1',
        from: '+12025550131',
        to: '+15550100123',
        useCase: 'city-311',
      },
      deps({ now: T0 }, events),
    );
    expect(created.at(-1)).toEqual({
      smaId: 'sma-1',
      req: expect.objectContaining({
        FromPhoneNumber: '+12025550131',
        ToPhoneNumber: '+15550100123',
        ArgumentsMap: { useCase: 'city-311' },
      }),
    });
    expect(result).toEqual({
      transactionId: expect.stringMatching(/^tx-/),
      outcome: 'ai_completed',
      answeredAfterRequestMs: 4000,
      agentAfterAnswerMs: 600,
      endedAfterAnswerMs: 30_000,
      events: [
        {
          sequence: '000001',
          eventType: 'NEW_OUTBOUND_CALL',
          detail: '',
          actions: [],
          phase: 'dialing',
        },
        {
          sequence: '000002',
          eventType: 'CALL_ANSWERED',
          detail: '',
          actions: ['CallAndBridge'],
          phase: 'bridging_ai',
        },
      ],
    });
    expect(events.map((e) => e.sequence)).toEqual(['000001', '000002']);
  });

  it('reports a call that has not ended in time as a timeout, each event once', async () => {
    const events: JournalEvent[] = [];
    const result = await placeSmokeCall(
      {
        sipMediaApplicationId: 'sma-1',
        from: '+12025550131',
        to: '+15550100999',
        useCase: 'city-311',
      },
      deps({ now: T0 }, events),
    );
    expect(result.outcome).toBe('timeout');
    expect(result.endedAfterAnswerMs).toBeUndefined();
    expect(events).toHaveLength(2);
  });
});
