// What the agent remembers of a call (agent/call-memory.ts) against the real DynamoDB API:
// dynalite on loopback, behind a proxy that can slow it down. Profiles keyed by the caller's key,
// read within a budget, updated at the end, deleted on request; conversation records beside the
// call's items.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import bundled from '../../contracts/use-cases.json' with { type: 'json' };
import { callerKey } from '../../contracts/callers.js';
import { CONVERSATION_SK, PROFILE_SK, profilePk } from '../../contracts/conversations.js';
import { parseUseCases, type UseCase } from '../../contracts/use-cases.js';
import { CallMemory, summaryOf, transcriptOf, type SaidItem } from '../../agent/call-memory.js';
import type { CallContext } from '../../agent/call-context.js';
import { ensureCallsTable } from '../../lambdas/sma/table.js';
import { startLocalDynamo, type LocalDynamo } from '../../lab/stack/local-dynamodb.js';
import { startSlowProxy, type SlowProxy } from '../../lab/stack/slow-proxy.js';

const SECRET = 'call-memory-test-secret-of-at-least-32-bytes';
const CALLER = '+12065550100';
const TABLE = 'call-memory-it';
const useCase = parseUseCases(bundled).defaultUseCase;
const logger = pino({ level: 'silent' });

let db: LocalDynamo;
let proxy: SlowProxy;
let proxied: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let calls = 0;

beforeAll(async () => {
  db = await startLocalDynamo({ table: TABLE });
  await ensureCallsTable(db.client, TABLE);
  doc = DynamoDBDocumentClient.from(db.client);
  proxy = await startSlowProxy(db.endpoint);
  proxied = new DynamoDBClient({
    endpoint: proxy.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  proxied?.destroy();
  await proxy?.stop();
  await db?.stop();
});

function phoneCall(uc: UseCase = useCase, caller = CALLER): CallContext {
  return {
    kind: 'phone',
    sma: {
      transactionId: `tx-memory-${++calls}`,
      sipMediaApplicationId: 'sma',
      region: 'us-east-1',
      token: 't',
    },
    useCase: uc,
    callerNumber: undefined, // the dispatch rule hides it; the SMA sends its key
    callerKey: callerKey(caller, SECRET),
    dialedNumber: uc.livekitNumber,
  } as CallContext;
}

const memoryOf = (call: CallContext, client = db.client, now?: () => number) =>
  new CallMemory(
    call,
    {
      client,
      name: TABLE,
      profileTtlSeconds: 86_400,
      recordTtlSeconds: 3600,
    },
    logger,
    now,
  );

const history = (...lines: [string, string][]): SaidItem[] =>
  lines.map(([role, text], i) => ({
    type: 'message',
    role,
    textContent: text,
    createdAt: 1000 + i,
  }));

async function profile(caller = CALLER) {
  const res = await doc.send(
    new GetCommand({
      TableName: TABLE,
      Key: { pk: profilePk(callerKey(caller, SECRET)), sk: PROFILE_SK },
    }),
  );
  return res.Item;
}

describe('CallMemory', () => {
  it('writes the record and a first profile at the end of a call, keyed by the caller key', async () => {
    const caller = '+12065550111';
    const call = phoneCall(useCase, caller);
    const m = memoryOf(call);
    await m.readProfile();
    expect(m.knownName()).toBeUndefined();
    m.rememberName('Jordan');
    await m.finish(
      history(['assistant', 'Hello.'], ['user', 'My name is Jordan'], ['user', 'a pothole']),
    );
    const record = await doc.send(
      new GetCommand({
        TableName: TABLE,
        Key: { pk: `call#${call.sma!.transactionId}`, sk: CONVERSATION_SK },
      }),
    );
    expect(record.Item?.Transcript).toEqual([
      { role: 'agent', text: 'Hello.', at: 1000 },
      { role: 'caller', text: 'My name is Jordan', at: 1001 },
      { role: 'caller', text: 'a pothole', at: 1002 },
    ]);
    expect(record.Item?.Summary).toBe(
      'Caller asked: "My name is Jordan". 2 caller turn(s). The caller hung up.',
    );
    const p = await profile(caller);
    expect(p?.Name).toBe('Jordan');
    expect(p?.Calls).toHaveLength(1);
    expect(JSON.stringify(p)).not.toContain(caller);
    expect(String(p?.pk)).toBe(profilePk(callerKey(caller, SECRET)));
  });

  it('knows a returning caller by name, and keeps the last calls newest first', async () => {
    const caller = '+12065550112';
    const first = memoryOf(phoneCall(useCase, caller));
    await first.readProfile();
    first.rememberName('Sam');
    await first.finish(history(['user', 'first call']));
    const second = memoryOf(phoneCall(useCase, caller));
    await second.readProfile();
    expect(second.knownName()).toBe('Sam');
    await second.finish(history(['user', 'second call']));
    const p = await profile(caller);
    expect((p?.Calls as { summary: string }[]).map((c) => c.summary.slice(0, 27))).toEqual([
      'Caller asked: "second call"',
      'Caller asked: "first call".',
    ]);
  });

  it('forgets a caller who asks: the profile is deleted and nothing is written at the end', async () => {
    const caller = '+12065550113';
    const first = memoryOf(phoneCall(useCase, caller));
    await first.readProfile();
    first.rememberName('Alex');
    await first.finish(history(['user', 'hello']));
    expect(await profile(caller)).toBeDefined();
    const call = phoneCall(useCase, caller);
    const second = memoryOf(call);
    await second.readProfile();
    expect(await second.forget()).toBe(true);
    expect(second.knownName()).toBeUndefined();
    expect(await profile(caller)).toBeUndefined();
    await second.finish(history(['user', 'forget me']));
    expect(await profile(caller)).toBeUndefined();
    const record = await doc.send(
      new GetCommand({
        TableName: TABLE,
        Key: { pk: `call#${call.sma!.transactionId}`, sk: CONVERSATION_SK },
      }),
    );
    expect(record.Item).toBeUndefined();
  });

  it('keeps no record when the use case turns storing off, and no profile when it turns those off', async () => {
    const caller = '+12065550114';
    const quiet: UseCase = {
      ...useCase,
      memory: { storeTranscripts: false, callerProfiles: false },
    };
    const call = phoneCall(quiet, caller);
    const m = memoryOf(call);
    await m.readProfile();
    m.rememberName('Kim');
    await m.finish(history(['user', 'hello']));
    const record = await doc.send(
      new GetCommand({
        TableName: TABLE,
        Key: { pk: `call#${call.sma!.transactionId}`, sk: CONVERSATION_SK },
      }),
    );
    expect(record.Item).toBeUndefined();
    expect(await profile(caller)).toBeUndefined();
  });

  it('gives up a slow profile read within its budget, and does not overwrite the profile it could not read', async () => {
    const caller = '+12065550115';
    const first = memoryOf(phoneCall(useCase, caller));
    await first.readProfile();
    first.rememberName('Robin');
    await first.finish(history(['user', 'hello']));
    proxy.setDelay(1000);
    const slow = memoryOf(phoneCall(useCase, caller), proxied);
    try {
      await slow.readProfile(100); // resolves, never rejects
      expect(slow.knownName()).toBeUndefined();
    } finally {
      proxy.setDelay(0);
    }
    await slow.finish(history(['user', 'again']));
    const p = await profile(caller);
    expect(p?.Name).toBe('Robin');
    expect(p?.Calls).toHaveLength(1);
  });
});

describe('transcript and summary', () => {
  it('keeps the caller and the agent lines only, with their times', () => {
    expect(
      transcriptOf([
        { type: 'message', role: 'system', textContent: 'instructions', createdAt: 1 },
        { type: 'function_call', createdAt: 2 },
        { type: 'message', role: 'user', textContent: '  ', createdAt: 3 },
        { type: 'message', role: 'user', textContent: 'hi', createdAt: 4 },
      ]),
    ).toEqual([{ role: 'caller', text: 'hi', at: 4 }]);
  });

  it('summarises a silent call and a transfer', () => {
    expect(summaryOf([], 'The caller hung up')).toBe(
      'The caller said nothing. 0 caller turn(s). The caller hung up.',
    );
    const long = 'x'.repeat(500);
    expect(
      summaryOf([{ role: 'caller', text: long, at: 0 }], 'Transferred to general (caller_asked)')
        .length,
    ).toBeLessThanOrEqual(400);
  });
});
