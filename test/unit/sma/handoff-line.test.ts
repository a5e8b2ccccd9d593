// The SMA's side of the context hand-off with the claims faked (the DynamoDB side is
// test/integration/handoff-context.test.ts): which number each bridge dials, the slot kept in the
// call's attributes and dropped when a fallback or an apology takes over, and a claim that fails
// or hangs costing the caller nothing but the context.
import { describe, expect, it } from 'vitest';
import { createHandler } from '../../../lambdas/sma/handler.js';
import type { ClaimRequest, HandoffClaims } from '../../../lambdas/sma/handoff-claims.js';
import { firstSlot } from '../../../lambdas/sma/handoff-claims.js';
import type { SimulatedChimeCall } from '../../../lab/chime/simulated-call.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import {
  silentLogger,
  simulateCall,
  testConfig,
  testInstruments,
  USE_CASES_JSON,
  type Json,
} from '../../helpers/sma.js';

const POOL = ['+12025550142', '+12025550143', '+12025550144'];
const file = structuredClone(USE_CASES_JSON) as Json;
file.useCases.find((u: Json) => u.id === 'city-311').queues.general.rollingNumbers = POOL;
const useCases = parseUseCases(file);
const general = useCases.defaultUseCase.queues['general']!;

function handlerWith(claims: HandoffClaims | undefined) {
  return createHandler({
    config: { ...testConfig(), useCases },
    journal: { record: async () => ({ event: 'written', state: 'written', errors: [] }) } as Json,
    instruments: testInstruments().instruments,
    logger: silentLogger,
    now: Date.now,
    handoff: claims,
  });
}

const slotClaims = (slot: number | undefined, asked: ClaimRequest[] = []): HandoffClaims => ({
  claim: async (req) => {
    asked.push(req);
    return slot === undefined ? { slot: undefined, why: 'exhausted' } : { slot };
  },
});

let n = 0;
function call(claims: HandoffClaims | undefined, answers?: (number: string) => boolean) {
  n += 1;
  const transactionId = `9c3b0d22-0000-4000-8000-${String(n).padStart(12, '0')}`;
  return simulateCall(
    { transactionId, smaId: 'sma-1', region: 'us-east-1', accountId: '111122223333' },
    handlerWith(claims),
    answers ? { numberAnswers: answers } : {},
  );
}

function transfer(sim: SimulatedChimeCall, summary = 'Caller said: "hi".') {
  return sim.send({
    action: 'transfer',
    queue: 'general',
    reason: 'caller_asked',
    requestedAt: Date.now(),
    token: sim.callToken ?? '',
    ...(summary ? { summary, topic: 'Trash', verification: 'unverified' as const } : {}),
  });
}

const dialed = (sim: SimulatedChimeCall): string[] =>
  sim.timeline.flatMap((s) =>
    s.actions.flatMap((a: Json) =>
      a.Type === 'CallAndBridge' && a.Parameters.Endpoints[0].BridgeEndpointType === 'PSTN'
        ? [a.Parameters.Endpoints[0].Uri as string]
        : [],
    ),
  );

describe('the bridge to a claimed rolling number', () => {
  it('dials the claimed slot’s number with the context the agent sent', async () => {
    const asked: ClaimRequest[] = [];
    const sim = call(slotClaims(2, asked));
    await sim.startInbound();
    await transfer(sim);
    await sim.settled();
    expect(dialed(sim)).toEqual([POOL[2]]);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({
      slots: 3,
      context: {
        summary: 'Caller said: "hi".',
        topic: 'Trash',
        reason: 'caller_asked',
        verification: 'unverified',
        useCase: 'city-311',
        queue: 'general',
        traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
      },
    });
  });

  it('no summary: no claim, the queue number', async () => {
    const asked: ClaimRequest[] = [];
    const sim = call(slotClaims(0, asked));
    await sim.startInbound();
    await transfer(sim, '');
    await sim.settled();
    expect(asked).toHaveLength(0);
    expect(dialed(sim)).toEqual([general.number]);
  });

  it('the pool exhausted, or the claim failing: the queue number', async () => {
    for (const claims of [
      slotClaims(undefined),
      { claim: () => Promise.reject(new Error('boom')) } satisfies HandoffClaims,
    ]) {
      const sim = call(claims);
      await sim.startInbound();
      await transfer(sim);
      await sim.settled();
      expect(dialed(sim)).toEqual([general.number]);
      expect(sim.transactionAttributes['line']).toBeUndefined();
    }
  });

  it('the rolling number not answering: the fallback number, the slot dropped', async () => {
    const sim = call(slotClaims(1), (number) => number !== POOL[1]);
    await sim.startInbound();
    await transfer(sim);
    await sim.settled();
    expect(dialed(sim)).toEqual([POOL[1], general.fallbackNumber]);
    expect(sim.transactionAttributes['line']).toBeUndefined();
    expect(sim.transactionAttributes['target']).toBe('fallback');
  });

  it('no one answering at all: the apology, the slot dropped, at most ten attributes', async () => {
    const sim = call(slotClaims(0), () => false);
    await sim.startInbound();
    await transfer(sim);
    await sim.settled();
    expect(dialed(sim)).toEqual([POOL[0], general.fallbackNumber]);
    expect(sim.timeline.some((s) => s.actions.some((a: Json) => a.Type === 'Speak'))).toBe(true);
    for (const step of sim.timeline) expect(step.actions.length).toBeLessThanOrEqual(10);
    expect(Object.keys(sim.transactionAttributes).length).toBeLessThanOrEqual(10);
  });

  it('a call starts at the same slot each time it asks (a retried event claims the same one)', () => {
    const tx = '9c3b0d22-0000-4000-8000-000000000001';
    expect(firstSlot(tx, 5)).toBe(firstSlot(tx, 5));
    const starts = new Set(Array.from({ length: 50 }, (_, i) => firstSlot(`tx-${i}`, 5)));
    expect(starts.size).toBeGreaterThan(1);
  });
});
