// Context for the person (docs/handoff.md) against the real DynamoDB API (dynalite on loopback):
// the SMA handler claims a queue's rolling number with the agent's summary and bridges to it;
// the connect-context Lambda, given Connect's documented event for that number, returns the
// context as flat string attributes, once. Claims under concurrency never share a number, and an
// exhausted pool, an expired claim or a failing table fall back to today's behaviour.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConnectContextAttribute as A,
  handoffPk,
  handoffSk,
} from '../../contracts/handoff-context.js';
import { parseUseCases, type UseCaseCatalog } from '../../contracts/use-cases.js';
import {
  createConnectContextHandler,
  DynamoContextClaims,
} from '../../lambdas/connect-context/handler.js';
import { createHandler } from '../../lambdas/sma/handler.js';
import { CLAIM_HOLD_MS, DynamoHandoffClaims } from '../../lambdas/sma/handoff-claims.js';
import type { SimulatedChimeCall } from '../../lab/chime/simulated-call.js';
import { startLocalDynamo, type LocalDynamo } from '../../lab/stack/local-dynamodb.js';
import { callTraceId } from '../../otel/traceparent.js';
import {
  logSink,
  silentLogger,
  simulateCall,
  testConfig,
  testInstruments,
  USE_CASES_JSON,
  type Json,
} from '../helpers/sma.js';

const TABLE = 'handoff-context-it';
const POOL = ['+12025550151', '+12025550152', '+12025550153', '+12025550154', '+12025550155'];
const SUMMARY =
  'Topic: My trash was not picked up. Caller said: "My trash was not picked up this week." 2 caller turn(s).';

function withPool(): UseCaseCatalog {
  const file = structuredClone(USE_CASES_JSON) as Json;
  const uc = file.useCases.find((u: Json) => u.id === 'city-311');
  uc.queues.sanitation.rollingNumbers = POOL;
  return parseUseCases(file);
}
const useCases = withPool();
const sanitation = useCases.byIdOrUndefined('city-311')!.queues['sanitation']!;

let db: LocalDynamo;
let doc: DynamoDBDocumentClient;
beforeAll(async () => {
  db = await startLocalDynamo({ table: TABLE });
  doc = DynamoDBDocumentClient.from(db.client);
});
afterAll(async () => {
  await db?.stop();
});

function smaHandler(opts: { client?: DynamoDBClient; now?: () => number; logger?: Json } = {}) {
  return createHandler({
    config: { ...testConfig(), useCases },
    journal: { record: async () => ({ event: 'written', state: 'written', errors: [] }) } as Json,
    instruments: testInstruments().instruments,
    logger: opts.logger ?? silentLogger,
    now: opts.now ?? Date.now,
    handoff: new DynamoHandoffClaims(opts.client ?? db.client, TABLE, { timeoutMs: 1000 }),
  });
}

const contextHandler = (now: () => number = Date.now, client: DynamoDBClient = db.client) =>
  createConnectContextHandler({
    useCases: () => useCases,
    claims: new DynamoContextClaims(client, TABLE, 1000),
    logger: silentLogger,
    now,
  });

/** Connect's documented Lambda invocation event for a call that reached `dialed`. */
function connectEvent(dialed: string): Json {
  return {
    Details: {
      ContactData: {
        Attributes: {},
        Channel: 'VOICE',
        ContactId: '4a573372-1f28-4e26-b97b-000000000001',
        CustomerEndpoint: { Address: '+12065550100', Type: 'TELEPHONE_NUMBER' },
        InitialContactId: '4a573372-1f28-4e26-b97b-000000000001',
        InitiationMethod: 'INBOUND',
        InstanceARN:
          'arn:aws:connect:us-east-1:111122223333:instance/aaaaaaaa-0311-4000-8000-000000000001',
        PreviousContactId: '4a573372-1f28-4e26-b97b-000000000001',
        Queue: null,
        SystemEndpoint: { Address: dialed, Type: 'TELEPHONE_NUMBER' },
      },
      Parameters: {},
    },
    Name: 'ContactFlowEvent',
  };
}

let calls = 0;
const txs = new WeakMap<SimulatedChimeCall, string>();
const txOf = (sim: SimulatedChimeCall) => txs.get(sim)!;
function newCall(handler: (e: unknown) => Promise<unknown>): SimulatedChimeCall {
  calls += 1;
  const transactionId = `7a2e0c11-0000-4000-8000-${String(calls).padStart(12, '0')}`;
  const call = { transactionId, smaId: 'sma-1', region: 'us-east-1', accountId: '111122223333' };
  const sim = simulateCall(call, handler);
  txs.set(sim, transactionId);
  return sim;
}

function transferWithContext(sim: SimulatedChimeCall, summary = SUMMARY) {
  return sim.send({
    action: 'transfer',
    queue: 'sanitation',
    reason: 'caller_asked',
    requestedAt: Date.now(),
    token: sim.callToken ?? '',
    summary,
    topic: 'My trash was not picked up.',
    verification: 'unverified',
  });
}

/** The PSTN numbers the call's bridges dialed, in order. */
function dialed(sim: SimulatedChimeCall): string[] {
  return sim.timeline.flatMap((s) =>
    s.actions.flatMap((a: Json) =>
      a.Type === 'CallAndBridge'
        ? a.Parameters.Endpoints.filter((e: Json) => e.BridgeEndpointType === 'PSTN').map(
            (e: Json) => e.Uri as string,
          )
        : [],
    ),
  );
}

async function clearPool() {
  for (let slot = 0; slot < POOL.length; slot++) {
    await doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: { pk: handoffPk('city-311', 'sanitation'), sk: handoffSk(slot), ExpiresAtMs: 0 },
      }),
    );
  }
}

describe('the SMA claims a rolling number with the context', () => {
  it('bridges to a rolling number, and Connect finds the context by it, once', async () => {
    await clearPool();
    const sim = newCall(smaHandler());
    await sim.startInbound();
    await transferWithContext(sim);
    await sim.settled();
    const [number] = dialed(sim);
    expect(POOL).toContain(number);
    expect(sim.transactionAttributes['line']).toBe(String(POOL.indexOf(number!)));

    const attrs = await contextHandler()(connectEvent(number!));
    expect(attrs).toEqual({
      [A.found]: 'true',
      [A.summary]: SUMMARY,
      [A.topic]: 'My trash was not picked up.',
      [A.reason]: 'caller_asked',
      [A.verification]: 'unverified',
      [A.traceId]: callTraceId(txOf(sim)),
      [A.queue]: 'sanitation',
      [A.whisper]:
        "From the assistant: the caller asked for a person. About: My trash was not picked up. The caller's number is not verified.",
    });
    for (const v of Object.values(attrs)) expect(typeof v).toBe('string');
    // Taken: the number is free for the next call, and a second lookup finds nothing.
    expect(await contextHandler()(connectEvent(number!))).toEqual({});
  });

  it('a transfer without a summary dials the queue number, as before', async () => {
    await clearPool();
    const sim = newCall(smaHandler());
    await sim.startInbound();
    await sim.requestTransfer('sanitation');
    await sim.settled();
    expect(dialed(sim)).toEqual([sanitation.number]);
    expect(sim.transactionAttributes['line']).toBeUndefined();
  });

  it('never logs the summary', async () => {
    await clearPool();
    const sink = logSink();
    const sim = newCall(smaHandler({ logger: sink.logger(false) }));
    await sim.startInbound();
    await transferWithContext(sim);
    await sim.settled();
    const text = JSON.stringify(sink.lines);
    expect(text).toContain('handoff_line_claimed');
    expect(text).not.toContain('trash');
  });

  it('twelve transfers at once on a pool of five: five numbers, never shared; the rest dial the queue', async () => {
    await clearPool();
    const handler = smaHandler();
    const sims = Array.from({ length: 12 }, () => newCall(handler));
    await Promise.all(sims.map((s) => s.startInbound()));
    await Promise.all(sims.map((s) => transferWithContext(s)));
    await Promise.all(sims.map((s) => s.settled()));
    const numbers = sims.map((s) => dialed(s)[0]);
    const rolling = numbers.filter((n) => POOL.includes(n!));
    expect(rolling.sort()).toEqual([...POOL].sort());
    expect(numbers.filter((n) => n === sanitation.number)).toHaveLength(7);
    // Each claimed number holds the context of the one call that dials it.
    for (const sim of sims) {
      const n = dialed(sim)[0]!;
      if (!POOL.includes(n)) continue;
      const item = await doc.send(
        new GetCommand({
          TableName: TABLE,
          Key: { pk: handoffPk('city-311', 'sanitation'), sk: handoffSk(POOL.indexOf(n)) },
          ConsistentRead: true,
        }),
      );
      expect(item.Item?.['TransactionId']).toBe(txOf(sim));
    }
  });

  it('an expired claim gives Connect nothing, and frees its number for the next call', async () => {
    await clearPool();
    let now = Date.now();
    const sim = newCall(smaHandler({ now: () => now }));
    await sim.startInbound();
    await transferWithContext(sim);
    await sim.settled();
    const number = dialed(sim)[0]!;
    expect(await contextHandler(() => now + CLAIM_HOLD_MS + 1)(connectEvent(number))).toEqual({});
    // The pool is full (four more calls), the expired slot is taken again.
    now += CLAIM_HOLD_MS + 1;
    const more = Array.from({ length: POOL.length }, () => newCall(smaHandler({ now: () => now })));
    for (const s of more) {
      await s.startInbound();
      await transferWithContext(s);
      await s.settled();
    }
    expect(more.map((s) => dialed(s)[0]).sort()).toEqual([...POOL].sort());
  });

  it('DynamoDB down: the queue number, no delay past the budget, the caller still bridged', async () => {
    const down = new DynamoDBClient({
      endpoint: 'http://127.0.0.1:9', // nothing listens
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    const sim = newCall(smaHandler({ client: down }));
    await sim.startInbound();
    await transferWithContext(sim);
    await sim.settled();
    expect(dialed(sim)).toEqual([sanitation.number]);
    down.destroy();
  });
});

describe('connect-context: whatever Connect sends, a map and never an error', () => {
  const bad: [string, unknown][] = [
    ['null', null],
    ['a string', 'ContactFlowEvent'],
    ['no Details', { Name: 'ContactFlowEvent' }],
    ['no SystemEndpoint', { Details: { ContactData: { ContactId: 'c' }, Parameters: {} } }],
    [
      'a SystemEndpoint that is no number',
      { Details: { ContactData: { SystemEndpoint: { Address: 'sip:x@y' } }, Parameters: {} } },
    ],
    ['a chat contact (no SystemEndpoint address)', connectEvent('')],
  ];
  for (const [what, event] of bad) {
    it(`${what}: empty attributes`, async () => {
      await expect(contextHandler()(event)).resolves.toEqual({});
    });
  }

  it('reads the older documented shape too (ContactFlowExecution, a Queue, Attributes)', async () => {
    await clearPool();
    const sim = newCall(smaHandler());
    await sim.startInbound();
    await transferWithContext(sim);
    await sim.settled();
    const number = dialed(sim)[0]!;
    const event = {
      Name: 'ContactFlowExecution',
      Details: {
        Parameters: { key1: 'value1' },
        ContactData: {
          ContactId: 'ASDAcxcasDFSSDFs',
          InitialContactId: 'Acxsada-asdasdaxA',
          PreviousContactId: 'Acxsada-asdasdaxA',
          Channel: 'Voice',
          InstanceARN: '',
          InitiationMethod: 'INBOUND',
          SystemEndpoint: { Type: 'TELEPHONE_NUMBER', Address: number },
          CustomerEndpoint: { Type: 'TELEPHONE_NUMBER', Address: '+14802021091' },
          Queue: { Name: 'PrimaryPhoneQueue', ARN: '' },
          Attributes: { key1: 'value' },
        },
      },
    };
    const attrs = await contextHandler()(event);
    expect(attrs[A.found]).toBe('true');
    expect(attrs[A.summary]).toBe(SUMMARY);
  });

  it('a number that is no rolling number (the queue’s own): empty attributes', async () => {
    await expect(contextHandler()(connectEvent(sanitation.number))).resolves.toEqual({});
  });

  it('a rolling number never claimed: empty attributes', async () => {
    await clearPool();
    await expect(contextHandler()(connectEvent(POOL[0]!))).resolves.toEqual({});
  });

  it('a claim whose item is not a context (written by hand): empty attributes', async () => {
    await doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: {
          pk: handoffPk('city-311', 'sanitation'),
          sk: handoffSk(1),
          ExpiresAtMs: Date.now() + 60_000,
          Summary: 42,
        },
      }),
    );
    await expect(contextHandler()(connectEvent(POOL[1]!))).resolves.toEqual({});
  });

  it('the table unreachable: empty attributes', async () => {
    const down = new DynamoDBClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    await expect(contextHandler(Date.now, down)(connectEvent(POOL[0]!))).resolves.toEqual({});
    down.destroy();
  });
});
