import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { smaResponse } from '../../../lambdas/sma/actions.js';
import { createHandler } from '../../../lambdas/sma/handler.js';
import type { CallJournal, JournalEntry } from '../../../lambdas/sma/journal.js';
import { createLogger } from '../../../lambdas/sma/logger.js';
import { SimulatedChimeCall } from '../../../lab/chime/simulated-call.js';
import {
  fixture,
  simulateCall,
  testConfig,
  testHandler,
  testInstruments,
  type Json,
} from '../../helpers/sma.js';

const CALL = {
  transactionId: 'f3c6a0de-8d7e-4d1f-9c43-5d8b2f1e7a10',
  smaId: 'sma-1',
  region: 'us-east-1',
  accountId: '111122223333',
};

const simulate = (
  handler: (e: unknown) => Promise<unknown>,
  opts: Parameters<typeof simulateCall>[2] = {},
) => simulateCall(CALL, handler, opts);

const bridges = (sim: SimulatedChimeCall) =>
  sim.timeline
    .flatMap((s) => s.actions)
    .filter((a) => a.Type === 'CallAndBridge')
    .map((a) => (a.Parameters!['Endpoints'] as Json)[0].Uri);

/** A journal that keeps items in memory with DynamoDB's conditional semantics. */
function memoryJournal() {
  const events = new Map<string, JournalEntry>();
  const journal: CallJournal = {
    async record(e) {
      const key = `${e.transactionId}#${e.sequence}`;
      if (events.has(key)) return { event: 'duplicate', state: 'stale', errors: [] };
      events.set(key, e);
      return { event: 'written', state: 'written', errors: [] };
    },
  };
  return { journal, events };
}

async function sumOf(
  read: () => Promise<Map<string, Json>>,
  name: string,
  filter: Record<string, string> = {},
) {
  const m = (await read()).get(name);
  if (!m) return 0;
  return m.dataPoints
    .filter((p: Json) => Object.entries(filter).every(([k, v]) => p.attributes[k] === v))
    .reduce(
      (acc: number, p: Json) => acc + (typeof p.value === 'number' ? p.value : p.value.count),
      0,
    );
}

describe('SMA handler: whole calls through a simulated Chime', () => {
  it.each([true, false])(
    'transfers once to the queue (HANGUP event first: %s) and counts the call',
    async (hangupEventFirst) => {
      const { handler, metrics } = testHandler();
      const sim = simulate(handler, { hangupEventFirst });
      await sim.startInbound();
      await sim.requestTransfer('general', Date.now());
      await sim.remoteHangup('LEG-A');
      expect(bridges(sim)).toEqual(['+12025550132', '+12025550140']);
      expect(sim.ended).toBe(true);
      expect(sim.transactionAttributes.phase).toBe('ended');
      expect(await sumOf(metrics.read, 'voice.calls.active')).toBe(0);
      expect(
        await sumOf(metrics.read, 'voice.transfers', {
          outcome: 'connected',
          reason: 'caller_asked',
        }),
      ).toBe(1);
      expect(await sumOf(metrics.read, 'voice.call.transfer_delay', { outcome: 'connected' })).toBe(
        1,
      );
      expect(await sumOf(metrics.read, 'voice.call.duration', { disposition: 'transferred' })).toBe(
        1,
      );
    },
  );

  it('reaches the fallback number, then apologises and ends when no one answers', async () => {
    const { handler, metrics } = testHandler();
    const sim = simulate(handler, { numberAnswers: () => false });
    await sim.startInbound();
    await sim.requestTransfer('general', '1');
    expect(bridges(sim)).toEqual(['+12025550132', '+12025550140', '+12025550141']);
    expect(
      sim.timeline
        .flatMap((s) => s.actions)
        .map((a) => a.Type)
        .slice(-2),
    ).toEqual(['Speak', 'Hangup']);
    expect(sim.ended).toBe(true);
    expect(await sumOf(metrics.read, 'voice.transfers', { outcome: 'failed' })).toBe(1);
    expect(await sumOf(metrics.read, 'voice.call.duration', { disposition: 'failed' })).toBe(1);
  });

  it('sends the caller to a person when the agent never answers', async () => {
    const { handler } = testHandler();
    const sim = simulate(handler, { agentAnswers: false });
    await sim.startInbound();
    expect(bridges(sim)).toEqual(['+12025550132', '+12025550140']);
    expect(sim.transactionAttributes).toMatchObject({
      phase: 'human_connected',
      reason: 'agent_unavailable',
    });
  });

  it('sends the caller to a person when the agent leg drops mid-call', async () => {
    const { handler } = testHandler();
    const sim = simulate(handler);
    await sim.startInbound();
    await sim.remoteHangup('LEG-B');
    expect(sim.transactionAttributes).toMatchObject({
      phase: 'human_connected',
      reason: 'agent_error',
    });
  });

  it('ends both legs when the agent hangs up', async () => {
    const { handler, metrics } = testHandler();
    const sim = simulate(handler);
    await sim.startInbound();
    await sim.update({ action: 'hangup', reason: 'caller_done', token: sim.callToken ?? '' });
    expect(sim.ended).toBe(true);
    expect(await sumOf(metrics.read, 'voice.call.duration', { disposition: 'ai_completed' })).toBe(
      1,
    );
    expect(await sumOf(metrics.read, 'voice.calls.active')).toBe(0);
  });

  it('bridges a call it placed to the agent once the callee answers', async () => {
    const { handler } = testHandler();
    const sim = new SimulatedChimeCall({
      handler,
      call: CALL,
      caller: '+12025550131',
      dialed: '+12065550100',
    });
    await sim.startOutbound({ useCase: 'city-311' });
    expect(bridges(sim)).toEqual(['+12025550132']);
    expect(sim.transactionAttributes.phase).toBe('ai_connected');
  });
});

describe('SMA handler: robustness', () => {
  it('answers a retried event with the same actions and journals and counts it once', async () => {
    const { journal, events } = memoryJournal();
    let now = 1_763_740_800_000;
    const { handler, metrics } = testHandler({ journal, now: () => (now += 1000) });
    const ev = fixture('new-inbound-call');
    const first = await handler(structuredClone(ev));
    const retry = await handler(structuredClone(ev));
    expect(retry.Actions).toEqual(first.Actions);
    expect(events.size).toBe(1);
    expect(await sumOf(metrics.read, 'voice.calls.active')).toBe(1);
  });

  it('still bridges and transfers when every journal write fails', async () => {
    const failing: CallJournal = {
      record: async () => ({
        event: 'failed',
        state: 'failed',
        errors: ['event:timeout', 'state:timeout'],
      }),
    };
    const { handler, metrics } = testHandler({ journal: failing });
    const sim = simulate(handler);
    await sim.startInbound();
    await sim.requestTransfer('general', '1');
    expect(bridges(sim)).toEqual(['+12025550132', '+12025550140']);
    expect(await sumOf(metrics.read, 'sma.journal.failures')).toBe(2 * sim.timeline.length);
  });

  it('answers safely, echoing attributes, when something inside throws', async () => {
    const metrics = testInstruments();
    const config = testConfig();
    // The catalog itself, but for a lookup that throws.
    const useCases = Object.assign(Object.create(config.useCases), {
      byDialedNumber: () => {
        throw new Error('boom');
      },
    }) as typeof config.useCases;
    const broken = { ...config, useCases };
    const handler = createHandler({
      config: broken,
      journal: {
        record: async () => {
          throw new Error('x');
        },
      },
      instruments: metrics.instruments,
      logger: pino({ level: 'silent' }),
      now: Date.now,
    });
    const ev = fixture('new-inbound-call');
    ev.CallDetails.TransactionAttributes = { customerTier: 'gold' };
    const res = await handler(ev);
    expect(res).toEqual({
      SchemaVersion: '1.0',
      Actions: [],
      TransactionAttributes: { customerTier: 'gold' },
    });
    expect(await sumOf(metrics.read, 'sma.handler.errors')).toBe(1);
  });

  it.each([
    undefined,
    null,
    42,
    'text',
    [],
    {},
    { CallDetails: { TransactionId: 'x', TransactionAttributes: { phase: 'ai_connected' } } },
  ])('answers %j with a valid empty response', async (raw) => {
    const { handler } = testHandler();
    const res = await handler(raw);
    expect(smaResponse.safeParse(res).success).toBe(true);
    expect(res.Actions).toEqual([]);
  });
});

describe('SMA handler: logs', () => {
  async function logsOf(pii: boolean): Promise<Json[]> {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(...String(chunk).trim().split('\n'));
        cb();
      },
    });
    const logger = createLogger({ level: 'info', pii }, sink);
    const metrics = testInstruments();
    const handler = createHandler({
      config: testConfig(),
      journal: { record: async () => ({ event: 'written', state: 'written', errors: [] }) },
      instruments: metrics.instruments,
      logger,
      now: Date.now,
    });
    const sim = simulate(handler);
    await sim.startInbound();
    await sim.requestTransfer('+12065550199', '1');
    return lines.map((l) => JSON.parse(l));
  }

  it('keeps phone numbers under pii only, and drops pii when LOG_PII is off', async () => {
    const withPii = await logsOf(true);
    const outsidePii = withPii.map(({ pii: _pii, ...rest }) => JSON.stringify(rest)).join('\n');
    expect(outsidePii).not.toMatch(/\+?1?206555\d{4}/);
    expect(withPii.some((l) => l.pii?.from === '+12065550100')).toBe(true);
    const without = await logsOf(false);
    expect(JSON.stringify(without)).not.toMatch(/206555/);
    expect(without.some((l) => l.reason === 'queue_looks_like_number')).toBe(true);
  });
});
