// The SMA handler's real entry point (lambdas/sma/index.ts, configured from the environment as in
// Lambda) against the real DynamoDB API (dynalite on loopback, started and stopped here).
import { createServer, type Server, type Socket } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoCallJournal, type JournalEntry } from '../../lambdas/sma/journal.js';
import type { SmaHandler } from '../../lambdas/sma/handler.js';
import {
  DEVELOPMENT_CALLER_KEY_SECRET,
  DEVELOPMENT_CALL_TOKEN_SECRET,
} from '../../lab/chime/local-sma-env.js';
import { SimulatedChimeCall } from '../../lab/chime/simulated-call.js';
import {
  LOCAL_AWS_ENV,
  callItems,
  startLocalDynamo,
  type LocalDynamo,
} from '../../lab/stack/local-dynamodb.js';
import { fixture, type Json } from '../helpers/sma.js';

const TABLE = 'callbridge-calls-it';
let db: LocalDynamo;
let handler: SmaHandler;

beforeAll(async () => {
  db = await startLocalDynamo({ table: TABLE });
  Object.assign(process.env, LOCAL_AWS_ENV, {
    CALLS_TABLE: TABLE,
    VOICE_CONNECTOR_ARN: 'arn:aws:chime:us-east-1:111122223333:vc/abcdefghij0123456789',
    CALL_TOKEN_SECRET: DEVELOPMENT_CALL_TOKEN_SECRET,
    CALLER_KEY_SECRET: DEVELOPMENT_CALLER_KEY_SECRET,
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    LOG_LEVEL: 'silent',
  });
  ({ handler } = await import('../../lambdas/sma/index.js'));
});

afterAll(async () => {
  await db?.stop();
});

async function items(tx: string) {
  return (await callItems(db.client, TABLE, tx)) as Json[];
}

function call(tx: string, h: (e: unknown) => Promise<unknown> = handler) {
  return new SimulatedChimeCall({
    handler: h,
    call: { transactionId: tx, smaId: 'sma-it', region: 'us-east-1', accountId: '111122223333' },
    caller: '+12065550100',
    dialed: '+12025550131',
  });
}

describe('SMA handler with DynamoDB (dynalite)', () => {
  it('keeps the state item and one journal item per event for a transferred call', async () => {
    const tx = '0b9e4c1a-1111-4c2d-8e3f-000000000001';
    const sim = call(tx);
    await sim.startInbound();
    const requestedAt = Date.now();
    await sim.requestTransfer('general', requestedAt);
    await sim.remoteHangup('LEG-A');

    const all = await items(tx);
    const state = all.find((i) => i.sk === 'state');
    const journal = all.filter((i) => i.sk.startsWith('event#'));
    expect(journal.map((j) => j.sk)).toEqual(
      sim.timeline.map((s) => `event#${String(s.sequence).padStart(6, '0')}`),
    );
    expect(journal.map((j) => j.EventType)).toEqual(sim.timeline.map((s) => s.type));
    expect(journal[0]).toMatchObject({ Actions: ['CallAndBridge'], Phase: 'bridging_ai' });
    expect(state).toMatchObject({
      TransactionId: tx,
      Phase: 'ended',
      Disposition: 'transferred',
      UseCase: 'city-311',
      CallerNumber: '+12065550100',
      DialedNumber: '+12025550131',
      TransferQueue: 'general',
      TransferReason: 'caller_asked',
      TransferRequestedAt: requestedAt,
      TransferOutcome: 'connected',
      TransferInProgress: false,
      LastSequence: sim.timeline.length,
      LastEventType: 'HANGUP',
    });
    expect(state.PendingTransferToPstn).toBeUndefined();
    expect(state.HumanConnectedAt).toBeGreaterThanOrEqual(state.AiConnectedAt);
    expect(state.ExpiresAt).toBeGreaterThan(Date.now() / 1000);
    expect(
      journal.every((j) => j.ExpiresAt === state.ExpiresAt || j.ExpiresAt > Date.now() / 1000),
    ).toBe(true);
  });

  it('writes one journal item for a retried event and answers it the same', async () => {
    const ev = fixture('new-inbound-call');
    ev.CallDetails.TransactionId = '0b9e4c1a-2222-4c2d-8e3f-000000000002';
    const first = await handler(structuredClone(ev));
    const retry = await handler(structuredClone(ev));
    expect(retry.Actions).toEqual(first.Actions);
    const all = await items(ev.CallDetails.TransactionId);
    expect(all.filter((i) => i.sk.startsWith('event#'))).toHaveLength(1);
  });

  it("journals an update carrying another call's token and leaves the call as it was", async () => {
    const other = call('0b9e4c1a-5555-4c2d-8e3f-000000000005');
    await other.startInbound();
    const tx = '0b9e4c1a-6666-4c2d-8e3f-000000000006';
    const sim = call(tx);
    await sim.startInbound();
    await sim.update({
      action: 'transfer',
      queue: 'general',
      reason: 'caller_asked',
      token: other.callToken!,
    });

    expect(sim.transactionAttributes.phase).toBe('ai_connected');
    const all = await items(tx);
    const last = all.find((i) => i.sk === `event#${String(sim.timeline.length).padStart(6, '0')}`);
    expect(last).toMatchObject({ EventType: 'CALL_UPDATE_REQUESTED', Actions: [] });
    const state = all.find((i) => i.sk === 'state');
    expect(state).toMatchObject({ Phase: 'ai_connected', LastEventType: 'CALL_UPDATE_REQUESTED' });
    expect(state.TransferInProgress).not.toBe(true);
    expect(state.TransferQueue).toBeUndefined();
  });

  it('refuses a stale Sequence: the state does not move backwards', async () => {
    const journal = new DynamoCallJournal(db.client, TABLE, { timeoutMs: 1000, ttlSeconds: 3600 });
    const tx = '0b9e4c1a-3333-4c2d-8e3f-000000000003';
    const entry = (sequence: number, phase: string): JournalEntry => ({
      transactionId: tx,
      sequence,
      eventType: 'HANGUP',
      actionDataType: 'Hangup',
      errorType: undefined,
      actionTypes: [],
      phase,
      receivedAtMs: Date.now(),
      record: { Phase: phase },
    });
    expect(await journal.record(entry(5, 'human_connected'))).toEqual({
      event: 'written',
      state: 'written',
      errors: [],
    });
    expect(await journal.record(entry(3, 'bridging_ai'))).toEqual({
      event: 'written',
      state: 'stale',
      errors: [],
    });
    expect(await journal.record(entry(5, 'human_connected'))).toEqual({
      event: 'duplicate',
      state: 'stale',
      errors: [],
    });
    const state = (await items(tx)).find((i) => i.sk === 'state');
    expect(state).toMatchObject({ Phase: 'human_connected', LastSequence: 5 });
  });
});

describe('SMA handler when DynamoDB is unreachable or hangs', () => {
  let blackhole: Server;
  let blackholePort = 0;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    // Accepts connections and never answers: a DynamoDB that hangs.
    blackhole = createServer((s) => sockets.add(s));
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', () => r()));
    blackholePort = (blackhole.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => blackhole.close(() => r()));
  });

  it('times out journal writes against a hanging DynamoDB and reports them', async () => {
    const client = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${blackholePort}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    const journal = new DynamoCallJournal(client, TABLE, { timeoutMs: 200, ttlSeconds: 60 });
    const res = await journal.record({
      transactionId: 't',
      sequence: 1,
      eventType: 'NEW_INBOUND_CALL',
      actionDataType: undefined,
      errorType: undefined,
      actionTypes: [],
      phase: 'bridging_ai',
      receivedAtMs: Date.now(),
      record: {},
    });
    expect(res).toEqual({
      event: 'failed',
      state: 'failed',
      errors: ['event:timeout', 'state:timeout'],
    });
    client.destroy();
  });

  it('still bridges and transfers the caller when DynamoDB goes away mid-call', async () => {
    const tx = '0b9e4c1a-4444-4c2d-8e3f-000000000004';
    let current = handler;
    const sim = call(tx, (e) => current(e));
    await sim.startInbound();
    // DynamoDB hangs from here on; a new Lambda environment (fresh module) carries on the call.
    process.env.AWS_ENDPOINT_URL_DYNAMODB = `http://127.0.0.1:${blackholePort}`;
    vi.resetModules();
    ({ handler: current } = await import('../../lambdas/sma/index.js'));
    const before = sim.timeline.length;
    await sim.requestTransfer('general', Date.now());
    expect(sim.transactionAttributes.phase).toBe('human_connected');
    const uris = sim.timeline
      .slice(before)
      .flatMap((s) => s.actions)
      .filter((a) => a.Type === 'CallAndBridge')
      .map((a) => (a.Parameters as Json).Endpoints[0].Uri);
    expect(uris).toEqual(['+12025550140']);
    // Nothing after the outage reached the table: the call went on without it.
    expect((await items(tx)).filter((i) => i.sk.startsWith('event#'))).toHaveLength(before);
    process.env.AWS_ENDPOINT_URL_DYNAMODB = db.endpoint;
  });
});
