// The SMA handler with its real admission and journal against dynalite: whole simulated calls as
// Chime drives them, where a cap, a release and DynamoDB going away decide where callers end up.
import { metrics } from '@opentelemetry/api';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import useCases from '../../contracts/use-cases.json' with { type: 'json' };
import { DynamoCallAdmission } from '../../lambdas/sma/admission/dynamo-admission.js';
import { loadSmaConfig } from '../../lambdas/sma/config.js';
import { createHandler, type SmaHandler } from '../../lambdas/sma/handler.js';
import { DynamoCallJournal } from '../../lambdas/sma/journal.js';
import { createSmaInstruments } from '../../otel/instruments.js';
import { LOCAL_SMA_ENV } from '../../lab/chime/local-sma-env.js';
import { SimulatedChimeCall } from '../../lab/chime/simulated-call.js';
import { startLocalDynamo, type LocalDynamo } from '../../lab/stack/local-dynamodb.js';

const TABLE = LOCAL_SMA_ENV.CALLS_TABLE;
const OPEN_LINE = '+12025550131';
const RESIDENTS_LINE = '+12025550133';
const AGENT_NUMBERS = new Set(['+12025550132', '+12025550134']);
const QUEUE = '+12025550140';

let db: LocalDynamo;
let handler: SmaHandler;
let callers = 0;

beforeEach(async () => {
  db = await startLocalDynamo({ table: TABLE });
  // Generous budgets: dynalite shares two cores with the rest of the suite, and an answer it gives
  // late would count as DynamoDB down (admitted unchecked), which is not what these tests check.
  const config = loadSmaConfig({ ...LOCAL_SMA_ENV, ADMISSION_TIMEOUT_MS: '3000' }, useCases);
  handler = createHandler({
    config: config.decide,
    journal: new DynamoCallJournal(db.client, TABLE, { timeoutMs: 3000, ttlSeconds: 3600 }),
    admission: new DynamoCallAdmission(db.client, TABLE, config.admission),
    instruments: createSmaInstruments(metrics.getMeter('admission-it')),
    logger: pino({ level: 'silent' }),
    now: Date.now,
  });
});

afterEach(async () => {
  await db.stop();
});

/** A new caller's call to `dialed`, started: where the SMA bridged it. */
async function placeCall(dialed = OPEN_LINE): Promise<SimulatedChimeCall> {
  callers += 1;
  const call = new SimulatedChimeCall({
    handler,
    call: {
      transactionId: crypto.randomUUID(),
      smaId: 'sma-it',
      region: 'us-east-1',
      accountId: '000000000000',
    },
    caller: `+1206555${String(1000 + callers).padStart(4, '0')}`,
    dialed,
  });
  await call.startInbound();
  return call;
}

/** Where the call's bridges went: `agent` (the LiveKit number) or `people` (a queue's number). */
function bridgedTo(call: SimulatedChimeCall): ('agent' | 'people')[] {
  return call.timeline
    .flatMap((s) => s.actions)
    .filter((a) => a.Type === 'CallAndBridge')
    .map((a) => (a.Parameters as { Endpoints: { Uri: string }[] }).Endpoints[0]!.Uri)
    .map((uri) => (AGENT_NUMBERS.has(uri) ? 'agent' : uri === QUEUE ? 'people' : 'agent'));
}

describe('SMA admission through the handler (dynalite)', () => {
  it('sends the eleventh concurrent caller to people under a cap of ten, and takes callers again once one hangs up', async () => {
    const ten = await Promise.all(Array.from({ length: 10 }, () => placeCall()));
    expect(ten.map((c) => c.transactionAttributes.phase)).toEqual(Array(10).fill('ai_connected'));
    const eleventh = await placeCall();
    expect(bridgedTo(eleventh)).toEqual(['people']);
    expect(eleventh.transactionAttributes.phase).toBe('human_connected');
    // The first caller hangs up: their slot is released, and the next caller reaches the agent.
    await ten[0]!.remoteHangup('LEG-A');
    expect(ten[0]!.ended).toBe(true);
    const next = await placeCall();
    expect(bridgedTo(next)).toEqual(['agent']);
    // A caller the agent hands to a person frees the slot as the transfer starts.
    await ten[1]!.requestTransfer('general', Date.now());
    expect(bridgedTo(await placeCall())).toEqual(['agent']);
    expect(bridgedTo(await placeCall())).toEqual(['people']);
  });

  it('refuses no one when DynamoDB stops mid-burst: open callers reach the agent, verified-line callers go to people', async () => {
    const before = await Promise.all(Array.from({ length: 4 }, () => placeCall()));
    await db.stop();
    const after = await Promise.all(Array.from({ length: 4 }, () => placeCall()));
    const residents = await Promise.all(Array.from({ length: 2 }, () => placeCall(RESIDENTS_LINE)));
    expect([...before, ...after].map(bridgedTo)).toEqual(Array(8).fill(['agent']));
    expect(residents.map(bridgedTo)).toEqual([['people'], ['people']]);
    // Nobody was left on a dead line: every call is with the agent or with a person.
    for (const c of [...before, ...after, ...residents]) expect(c.ended).toBe(false);
  });

  it('keeps an unregistered caller from the agent on the verified line: Chime says why and the call ends', async () => {
    const call = await placeCall(RESIDENTS_LINE);
    expect(bridgedTo(call)).toEqual([]);
    const actions = call.timeline.flatMap((s) => s.actions).map((a) => a.Type);
    expect(actions).toEqual(expect.arrayContaining(['Speak', 'Hangup']));
    await call.settled();
    expect(call.ended).toBe(true);
  });
});
