// Whom the handler listens to: events from its own SMA application and AWS account only (when
// configured), and updates only with the call's token. Both refusals are counted in
// voice.calls.refused and logged without the token.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { smaResponse } from '../../../lambdas/sma/actions.js';
import type { CallJournal, JournalEntry } from '../../../lambdas/sma/journal.js';
import { createLogger } from '../../../lambdas/sma/logger.js';
import { fixture, simulateCall, testHandler, type Json } from '../../helpers/sma.js';

const CALL = {
  transactionId: '7e1d2c3b-4a59-4687-9a1b-2c3d4e5f6a70',
  smaId: 'sma-own',
  region: 'us-east-1',
  accountId: '111122223333',
};
const OTHER_CALL = { ...CALL, transactionId: '8f2e3d4c-5b6a-4798-8b2c-3d4e5f6a7b81' };
const OWNER = { applicationId: CALL.smaId, accountId: CALL.accountId };

function logSink() {
  const lines: Json[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).trim().split('\n')) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: createLogger({ level: 'info', pii: true }, sink), lines };
}

function recordingJournal() {
  const entries: JournalEntry[] = [];
  const journal: CallJournal = {
    record: async (e) => {
      entries.push(e);
      return { event: 'written', state: 'written', errors: [] };
    },
  };
  return { journal, entries };
}

async function refusedPoints(read: () => Promise<Map<string, Json>>) {
  const m = (await read()).get('voice.calls.refused');
  return (m?.dataPoints ?? [])
    .filter((p: Json) => p.value > 0)
    .map((p: Json) => ({ ...p.attributes, value: p.value }));
}

describe('SMA handler: updates without the call token', () => {
  it("keeps the caller with the agent and counts a forged update when the token is another call's", async () => {
    const { logger, lines } = logSink();
    const { handler, metrics } = testHandler({ logger });
    const callA = simulateCall(OTHER_CALL, handler);
    const callB = simulateCall(CALL, handler);
    await callA.startInbound();
    await callB.startInbound();
    const stolen = callA.callToken!;
    await callB.update({
      action: 'transfer',
      queue: 'general',
      reason: 'caller_asked',
      token: stolen,
    });

    expect(callB.transactionAttributes.phase).toBe('ai_connected');
    expect(callB.legB?.Status).toBe('Connected');
    expect(await refusedPoints(metrics.read)).toEqual([
      { reason: 'forged', use_case: 'city-311', component: 'sma', value: 1 },
    ]);
    const refusal = lines.find((l) => l.reason === 'call_token_mismatch');
    expect(refusal).toMatchObject({
      level: 40,
      msg: 'call update refused: not signed for this call',
    });
    expect(JSON.stringify(lines)).not.toContain(stolen.split('.')[2]);
  });

  it("transfers as it always has when the agent returns the call's own token", async () => {
    const { handler, metrics } = testHandler();
    const sim = simulateCall(CALL, handler);
    await sim.startInbound();
    await sim.requestTransfer('general', Date.now());
    expect(sim.transactionAttributes.phase).toBe('human_connected');
    expect(await refusedPoints(metrics.read)).toEqual([]);
  });

  it('starts the refused counter at 0 for each use case, so the first forgery shows in rate()', async () => {
    const { metrics } = testHandler();
    const m = (await metrics.read()).get('voice.calls.refused')!;
    const forged = m.dataPoints.filter((p) => p.attributes['reason'] === 'forged');
    expect(forged.map((p) => p.attributes['use_case'])).toContain('city-311');
    expect(forged.map((p) => p.attributes['use_case'])).toContain('unknown');
    expect(m.dataPoints.every((p) => p.value === 0)).toBe(true);
  });
});

describe('SMA handler: events from another SMA application or account', () => {
  it.each([
    ['another SMA application', { SipMediaApplicationId: 'sma-someone-else' }],
    ['another AWS account', { AwsAccountId: '444455556666' }],
    ['no SMA application id', { SipMediaApplicationId: undefined }],
    ['no account id', { AwsAccountId: undefined }],
  ])(
    'answers empty, journals nothing and counts foreign_sma when the event names %s',
    async (_what, details) => {
      const { logger, lines } = logSink();
      const { journal, entries } = recordingJournal();
      const { handler, metrics } = testHandler({ owner: OWNER, logger, journal });
      const ev = fixture('new-inbound-call');
      ev.CallDetails.SipMediaApplicationId = OWNER.applicationId;
      Object.assign(ev.CallDetails, details);
      ev.CallDetails.TransactionAttributes = { customerTier: 'gold' };

      const res = await handler(ev);

      expect(smaResponse.safeParse(res).success).toBe(true);
      expect(res).toEqual({
        SchemaVersion: '1.0',
        Actions: [],
        TransactionAttributes: { customerTier: 'gold' },
      });
      expect(entries).toEqual([]);
      expect(await refusedPoints(metrics.read)).toEqual([
        { reason: 'foreign_sma', use_case: 'unknown', component: 'sma', value: 1 },
      ]);
      expect(lines.filter((l) => l.reason === 'foreign_sma')).toEqual([
        expect.objectContaining({ level: 40, msg: 'event refused' }),
      ]);
    },
  );

  it('serves a whole call when the event names its own application and account', async () => {
    const { handler, metrics } = testHandler({ owner: OWNER });
    const sim = simulateCall(CALL, handler);
    await sim.startInbound();
    await sim.requestTransfer('general', Date.now());
    expect(sim.transactionAttributes.phase).toBe('human_connected');
    expect(await refusedPoints(metrics.read)).toEqual([]);
  });

  it('checks only the ids that are configured', async () => {
    const { handler, metrics } = testHandler({
      owner: { applicationId: undefined, accountId: CALL.accountId },
    });
    const sim = simulateCall({ ...CALL, smaId: 'any-sma' }, handler);
    await sim.startInbound();
    expect(sim.transactionAttributes.phase).toBe('ai_connected');
    expect(await refusedPoints(metrics.read)).toEqual([]);
  });
});
