import { describe, expect, it } from 'vitest';
import type { CallAdmission } from '../../../lambdas/sma/admission/types.js';
import type { SimulatedChimeCall } from '../../../lab/chime/simulated-call.js';
import {
  fixture,
  leasingAdmission,
  logSink,
  memoryJournal,
  simulateCall,
  testHandler,
  type Json,
} from '../../helpers/sma.js';

const LEASE_MS = 1_800_000;
const START_MS = 1_763_740_800_000; // LEG-A's start in the fixtures
const leasing = () => leasingAdmission(LEASE_MS);

let calls = 0;
function call(handler: (e: unknown) => Promise<unknown>, opts: Json = {}): SimulatedChimeCall {
  calls += 1;
  const transactionId = `5e1f0b2c-0000-4000-8000-${String(calls).padStart(12, '0')}`;
  const call = { transactionId, smaId: 'sma-1', region: 'us-east-1', accountId: '111122223333' };
  return simulateCall(call, handler, opts);
}

describe('SMA handler: the lease is released when the call leaves the agent', () => {
  /** Runs `steps` and says after which of them the lease was released. */
  async function releasesAfter(
    steps: Record<string, (sim: SimulatedChimeCall) => Promise<void>>,
    opts: Json = {},
  ) {
    const fake = leasing();
    const { handler } = testHandler({ admission: fake.admission });
    const sim = call(handler, opts);
    const after: Record<string, number> = {};
    for (const [name, step] of Object.entries(steps)) {
      await step(sim);
      after[name] = fake.released.length;
    }
    return { after, released: fake.released, asked: fake.asked, sim };
  }

  it('carries the lease in TransactionAttributes while the caller is with the agent', async () => {
    const fake = leasing();
    const { handler } = testHandler({ admission: fake.admission });
    const sim = call(handler);
    await sim.startInbound();
    expect(sim.transactionAttributes['lease']).toMatch(/^\d{13}$/);
    await sim.requestTransfer('general');
    expect(sim.transactionAttributes['lease']).toBeUndefined();
  });

  it('releases once, at the transfer, and not on the events after it', async () => {
    const { after, released, asked } = await releasesAfter({
      answered: (s) => s.startInbound(),
      transfer: (s) => s.requestTransfer('general'),
      ended: (s) => s.remoteHangup('LEG-A'),
    });
    expect(after).toEqual({ answered: 0, transfer: 1, ended: 1 });
    expect(released).toEqual([
      {
        transactionId: asked[0]!.transactionId,
        useCaseId: 'city-311',
        leaseExpiresAtMs: expect.any(Number),
      },
    ]);
  });

  it('releases once when the caller hangs up', async () => {
    const { after } = await releasesAfter({
      answered: (s) => s.startInbound(),
      forged: (s) => s.update({ action: 'transfer', queue: 'general', token: 'v1.0.forged' }),
      unknownQueue: (s) => s.requestTransfer('billing'),
      hungUp: (s) => s.remoteHangup('LEG-A'),
    });
    expect(after).toEqual({ answered: 0, forged: 0, unknownQueue: 0, hungUp: 1 });
  });

  it('releases once when the agent leg fails, and not again when the person answers and the call ends', async () => {
    const { after } = await releasesAfter({
      answered: (s) => s.startInbound(),
      agentGone: (s) => s.remoteHangup('LEG-B'),
      ended: (s) => s.remoteHangup('LEG-A'),
    });
    expect(after).toEqual({ answered: 0, agentGone: 1, ended: 1 });
  });

  it('releases once when the agent does not answer', async () => {
    const { after } = await releasesAfter(
      { started: (s) => s.startInbound(), ended: (s) => s.remoteHangup('LEG-A') },
      { agentAnswers: false },
    );
    expect(after).toEqual({ started: 1, ended: 1 });
  });

  it('releases once when the agent ends the call', async () => {
    const { after, sim } = await releasesAfter({
      answered: (s) => s.startInbound(),
      agentHangup: (s) => s.requestHangup(),
    });
    expect(after).toEqual({ answered: 0, agentHangup: 1 });
    expect(sim.ended).toBe(true);
  });

  it('releases the lease the call was admitted with, for its use case', async () => {
    const fake = leasing();
    const { handler } = testHandler({ admission: fake.admission, now: () => START_MS + 200 });
    await handler(fixture('new-inbound-call'));
    const ev = fixture('hangup-leg-a');
    ev.CallDetails.TransactionAttributes = {
      phase: 'ai_connected',
      useCase: 'city-311',
      lease: String(START_MS + LEASE_MS),
    };
    await handler(ev);
    expect(fake.released).toEqual([
      {
        transactionId: 'c0a80101-4b2e-4f4e-9b1d-2f6a7e1c9d01',
        useCaseId: 'city-311',
        leaseExpiresAtMs: START_MS + LEASE_MS,
      },
    ]);
  });

  it('frees the slot alongside the journal write, not after it', async () => {
    const order: string[] = [];
    const admission: CallAdmission = {
      admit: async () => ({ verdict: 'admit', unchecked: [] }),
      async release() {
        order.push('release:start');
        await new Promise((r) => setImmediate(r));
        order.push('release:end');
        return [];
      },
    };
    const { handler } = testHandler({ admission, journal: memoryJournal(order) });
    const ev = fixture('hangup-leg-a');
    ev.CallDetails.TransactionAttributes = {
      phase: 'ai_connected',
      useCase: 'city-311',
      lease: '1',
    };
    await handler(ev);
    expect(order.slice(0, 2).sort()).toEqual(['journal:start', 'release:start']);
  });

  it('logs a failed release by its codes and still answers', async () => {
    const admission: CallAdmission = {
      admit: async () => ({ verdict: 'admit', unchecked: [] }),
      release: async () => ['leases:timeout'],
    };
    const { lines, logger } = logSink();
    const { handler } = testHandler({ admission, logger: logger(true) });
    const ev = fixture('hangup-leg-a');
    ev.CallDetails.TransactionAttributes = {
      phase: 'ai_connected',
      useCase: 'city-311',
      lease: '1',
    };
    const res = (await handler(ev)) as Json;
    expect(res.TransactionAttributes.phase).toBe('ended');
    expect(lines).toContainEqual(
      expect.objectContaining({ reason: 'lease_release_failed', errors: ['leases:timeout'] }),
    );
  });
});
