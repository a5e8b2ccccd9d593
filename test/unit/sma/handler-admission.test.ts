import { describe, expect, it } from 'vitest';
import { RefusedReason } from '../../../contracts/reasons.js';
import type { CallAdmission } from '../../../lambdas/sma/admission/types.js';
import type { CallJournal } from '../../../lambdas/sma/journal.js';
import type { SimulatedChimeCall } from '../../../lab/chime/simulated-call.js';
import {
  fakeAdmission,
  fixture,
  leasingAdmission,
  logSink,
  memoryJournal,
  simulateCall,
  testHandler,
  type Json,
} from '../../helpers/sma.js';

const LIVEKIT_NUMBER = '+12025550132';
const QUEUE_NUMBER = '+12025550140';
const START_MS = 1_763_740_800_000; // LEG-A's start in the fixtures
const leasing = () => leasingAdmission(1_800_000);

let calls = 0;
function call(handler: (e: unknown) => Promise<unknown>, opts: Json = {}): SimulatedChimeCall {
  calls += 1;
  const transactionId = `9d3e0c4a-0000-4000-8000-${String(calls).padStart(12, '0')}`;
  const call = { transactionId, smaId: 'sma-1', region: 'us-east-1', accountId: '111122223333' };
  return simulateCall(call, handler, opts);
}

const bridges = (sim: SimulatedChimeCall) =>
  sim.timeline
    .flatMap((s) => s.actions)
    .filter((a) => a.Type === 'CallAndBridge')
    .map((a) => (a.Parameters!['Endpoints'] as Json)[0].Uri);

async function points(read: () => Promise<Map<string, Json>>, name: string) {
  return ((await read()).get(name)?.dataPoints ?? []) as {
    attributes: Record<string, string>;
    value: number;
  }[];
}
async function sumOf(
  read: () => Promise<Map<string, Json>>,
  name: string,
  filter: Record<string, string> = {},
) {
  return (await points(read, name))
    .filter((p) => Object.entries(filter).every(([k, v]) => p.attributes[k] === v))
    .reduce((n, p) => n + (typeof p.value === 'number' ? p.value : (p.value as Json).count), 0);
}

describe('SMA handler: admission of new inbound calls', () => {
  it('asks once, before bridging, with the use case, the caller and the time LEG-A started', async () => {
    const fake = leasing();
    const { handler } = testHandler({ admission: fake.admission, now: () => START_MS + 400 });
    await handler(fixture('new-inbound-call'));
    expect(fake.asked).toEqual([
      {
        transactionId: 'c0a80101-4b2e-4f4e-9b1d-2f6a7e1c9d01',
        useCase: expect.objectContaining({ id: 'city-311' }),
        callerNumber: '+12065550100',
        nowMs: START_MS,
      },
    ]);
    for (const name of ['action-successful-bridge-agent', 'hangup-leg-a', 'call-answered']) {
      await handler(fixture(name));
    }
    expect(fake.asked).toHaveLength(1);
  });

  it('asks with no caller number when it is withheld, and with the time of the invocation when LEG-A started long ago', async () => {
    const fake = leasing();
    const now = START_MS + 3_600_000;
    const { handler } = testHandler({ admission: fake.admission, now: () => now });
    const ev = fixture('new-inbound-call');
    ev.CallDetails.Participants[0].From = 'anonymous';
    await handler(ev);
    expect(fake.asked[0]).toMatchObject({ callerNumber: undefined, nowMs: now });
  });

  it('does not ask about calls we place', async () => {
    const fake = fakeAdmission(() => ({ verdict: 'refuse', reason: 'blocked', unchecked: [] }));
    const { handler } = testHandler({ admission: fake.admission });
    const sim = call(handler);
    await sim.startOutbound({ useCase: 'city-311' });
    expect(fake.asked).toEqual([]);
    expect(bridges(sim)).toEqual([LIVEKIT_NUMBER]);
  });

  it.each([
    ['admitted', leasing, [1, 0, 0]],
    [
      'refused',
      () => fakeAdmission(() => ({ verdict: 'refuse', reason: 'over_capacity', unchecked: [] })),
      [1, 1, 0],
    ],
    [
      'unknown',
      () => fakeAdmission(() => ({ verdict: 'unknown', unchecked: ['access'] })),
      [1, 0, 1],
    ],
  ] as const)(
    'answers a retried NEW_INBOUND_CALL (%s) identically and counts it once',
    async (_v, make, counts) => {
      const fake = make();
      const { handler, metrics } = testHandler({
        admission: fake.admission,
        journal: memoryJournal(),
        now: () => START_MS + 300,
      });
      const first = await handler(fixture('new-inbound-call'));
      const retried = await handler(fixture('new-inbound-call'));
      expect(retried).toEqual(first);
      expect(fake.asked[1]).toEqual(fake.asked[0]);
      expect([
        await sumOf(metrics.read, 'voice.calls.active'),
        await sumOf(metrics.read, 'voice.calls.refused'),
        await sumOf(metrics.read, 'voice.sma.admission.unchecked'),
      ]).toEqual(counts);
    },
  );

  it('keeps a refused caller from the agent: Chime says why and the call ends, counted as refused', async () => {
    const fake = fakeAdmission(() => ({ verdict: 'refuse', reason: 'unverified', unchecked: [] }));
    const { handler, metrics } = testHandler({ admission: fake.admission });
    const sim = call(handler, { dialed: '+12025550133' });
    await sim.startInbound();
    expect(bridges(sim)).toEqual([]);
    expect(sim.timeline[0]!.actions.map((a) => a.Type)).toEqual(['Speak', 'Hangup']);
    expect(sim.ended).toBe(true);
    expect(sim.transactionAttributes.phase).toBe('ended');
    expect(fake.released).toEqual([]);
    expect(
      await sumOf(metrics.read, 'voice.calls.refused', {
        reason: 'unverified',
        use_case: 'city-311-residents',
        component: 'sma',
      }),
    ).toBe(1);
    expect(await sumOf(metrics.read, 'voice.calls.active')).toBe(0);
    expect(await sumOf(metrics.read, 'voice.call.duration')).toBe(0);
  });

  it('sends an over-capacity caller to people, counted as refused and as a call', async () => {
    const fake = fakeAdmission(() => ({
      verdict: 'refuse',
      reason: 'over_capacity',
      unchecked: [],
    }));
    const { handler, metrics } = testHandler({ admission: fake.admission });
    const sim = call(handler);
    await sim.startInbound();
    expect(bridges(sim)).toEqual([QUEUE_NUMBER]);
    expect(sim.transactionAttributes.phase).toBe('human_connected');
    await sim.remoteHangup('LEG-A');
    expect(await sumOf(metrics.read, 'voice.calls.refused', { reason: 'over_capacity' })).toBe(1);
    expect(
      await sumOf(metrics.read, 'voice.transfers', {
        outcome: 'connected',
        reason: 'not_admitted',
      }),
    ).toBe(1);
    expect(await sumOf(metrics.read, 'voice.calls.active')).toBe(0);
  });

  it('counts the checks DynamoDB did not answer by check and use case', async () => {
    const fake = fakeAdmission(() => ({ verdict: 'admit', unchecked: ['rate', 'capacity'] }));
    const { handler, metrics } = testHandler({ admission: fake.admission });
    await call(handler).startInbound();
    const name = 'voice.sma.admission.unchecked';
    expect(await sumOf(metrics.read, name, { check: 'rate', use_case: 'city-311' })).toBe(1);
    expect(await sumOf(metrics.read, name, { check: 'capacity', use_case: 'city-311' })).toBe(1);
    expect(await sumOf(metrics.read, name, { check: 'access' })).toBe(0);
  });

  it('starts the refused and unchecked counters at 0 for every reason, check and use case', async () => {
    const { metrics } = testHandler();
    const refused = await points(metrics.read, 'voice.calls.refused');
    for (const use_case of ['city-311', 'city-311-residents', 'unknown']) {
      for (const reason of RefusedReason.options) {
        expect(refused).toContainEqual({
          attributes: { reason, use_case, component: 'sma' },
          value: 0,
          startTime: expect.anything(),
          endTime: expect.anything(),
        });
      }
    }
    const unchecked = await points(metrics.read, 'voice.sma.admission.unchecked');
    expect(
      unchecked.map((p) => `${p.attributes['use_case']}/${p.attributes['check']}`).sort(),
    ).toEqual(
      ['city-311', 'city-311-residents']
        .flatMap((u) => [`${u}/access`, `${u}/capacity`, `${u}/rate`])
        .sort(),
    );
    expect(unchecked.every((p) => p.value === 0)).toBe(true);
  });

  it('answers as with DynamoDB down when the adapter rejects: open use cases admit, others go to people', async () => {
    const broken: CallAdmission = {
      admit: async () => Promise.reject(new Error('boom for +12065550100')),
      release: async () => [],
    };
    const { lines, logger } = logSink();
    const { handler, metrics } = testHandler({ admission: broken, logger: logger(false) });
    const open = call(handler);
    await open.startInbound();
    expect(bridges(open)).toEqual([LIVEKIT_NUMBER]);
    const verified = call(handler, { dialed: '+12025550133' });
    await verified.startInbound();
    expect(bridges(verified)).toEqual([QUEUE_NUMBER]);
    expect(await sumOf(metrics.read, 'voice.sma.admission.unchecked', { check: 'access' })).toBe(2);
    const failed = lines.filter((l) => l.reason === 'admission_failed');
    expect(failed).toHaveLength(2);
    expect(failed[0]).toMatchObject({ errorType: 'Error' });
    expect(JSON.stringify(lines)).not.toContain('+12065550100');
  });
});

describe("SMA handler: Chime's error texts are personal data", () => {
  it('logs the ErrorMessage of a rejected answer only under pii', async () => {
    const ev = fixture('invalid-lambda-response');
    const text = ev.ErrorMessage as string;
    for (const pii of [true, false]) {
      const { lines, logger } = logSink();
      const { handler } = testHandler({ logger: logger(pii) });
      await handler(ev);
      const note = lines.find((l) => l.reason === 'invalid_lambda_response');
      expect(note).toMatchObject({ errorType: 'InvalidActionParameter' });
      expect(note.errorMessage).toBeUndefined();
      expect(note.pii?.errorMessage).toBe(pii ? text : undefined);
      if (!pii) expect(JSON.stringify(lines)).not.toContain(text);
    }
  });

  it("logs a handler exception's type plainly and its text only under pii", async () => {
    const journal: CallJournal = {
      record: async () => {
        throw new TypeError('cannot read +12065550100');
      },
    };
    const { lines, logger } = logSink();
    const { handler } = testHandler({ journal, logger: logger(false) });
    await handler(fixture('new-inbound-call'));
    const line = lines.find((l) => l.reason === 'handler_exception');
    expect(line).toMatchObject({ errorType: 'TypeError' });
    expect(JSON.stringify(lines)).not.toContain('+12065550100');
  });
});
