// SimulatedChimeCall's timing as Chime's: a handler slower than 5 s invoked again with the same
// event, silence for 20 s or two function errors dropping the call. PlayAudio and the checking
// of actions are in chime-actions.test.ts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  LEG_A,
  bridgeToAgent,
  fakeMedia,
  handlerOf,
  simulate,
  speak,
} from '../../helpers/chime.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterEach(() => {
  vi.useRealTimers();
});

describe('SimulatedChimeCall invoking a slow or failing handler', () => {
  it('uses the first answer to arrive, once, when a slow handler gets the same event after 5 s', async () => {
    vi.useFakeTimers();
    const { handler, events } = handlerOf(async (ev, attempt) => {
      if (ev.InvocationEventType !== 'NEW_INBOUND_CALL') return { Actions: [] };
      await sleep(attempt === 1 ? 9_000 : 1_000); // the retry (at 5 s) answers first, at 6 s
      return {
        Actions: [speak(`answer ${attempt}`)],
        TransactionAttributes: { answeredBy: `attempt ${attempt}` },
      };
    });
    const media = fakeMedia();
    const sim = simulate(handler, { media });

    const started = sim.startInbound();
    await vi.advanceTimersByTimeAsync(4_999);
    expect(events).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(events).toHaveLength(2);
    expect(events[1]).toEqual(events[0]);
    await vi.advanceTimersByTimeAsync(1_000);
    await started;

    expect(media.speak.mock.calls).toEqual([['answer 2']]);
    expect(sim.timeline.map((s) => [s.sequence, s.type, s.attempts])).toEqual([
      [1, 'NEW_INBOUND_CALL', 2],
      [2, 'ACTION_SUCCESSFUL', undefined],
    ]);
    expect(sim.transactionAttributes).toEqual({ answeredBy: 'attempt 2' });

    await vi.advanceTimersByTimeAsync(10_000); // attempt 1 answers at 9 s: too late, ignored
    expect(media.speak).toHaveBeenCalledTimes(1);
    expect(sim.timeline).toHaveLength(2);
    expect(sim.transactionAttributes).toEqual({ answeredBy: 'attempt 2' });
    expect(events.map((e) => e.Sequence)).toEqual([1, 1, 2]);
  });

  it('drops the call after 20 s without an answer, hanging up every live leg', async () => {
    vi.useFakeTimers();
    const { handler, events, ofType } = handlerOf((ev) =>
      ev.InvocationEventType === 'NEW_INBOUND_CALL'
        ? { Actions: [bridgeToAgent] }
        : new Promise(() => {}),
    );
    const media = fakeMedia();
    const sim = simulate(handler, { media });

    const started = sim.startInbound();
    await vi.advanceTimersByTimeAsync(19_999);
    expect(sim.legB?.Status).toBe('Connected');
    expect(media.hangup).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    await started;

    // Re-invoked every 5 s with the same event until Chime gives up.
    expect(ofType('ACTION_SUCCESSFUL').map((e) => e.Sequence)).toEqual([2, 2, 2, 2]);
    expect(sim.timeline.map((s) => s.type)).toEqual(['NEW_INBOUND_CALL', 'CALL_DROPPED']);
    expect(sim.timeline[1]).toMatchObject({ sequence: 2, attempts: 4, actions: [] });
    expect(sim.timeline[1]!.reason).toMatch(/no answer from the handler within 20000 ms/);
    expect(media.hangup.mock.calls.map(([leg]) => leg.ParticipantTag)).toEqual(['LEG-B', 'LEG-A']);
    expect(sim.ended).toBe(true);

    const invoked = events.length;
    await sim.update({ action: 'transfer', queue: 'general' });
    await sim.remoteHangup('LEG-A');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(events).toHaveLength(invoked);
    expect(media.hangup).toHaveBeenCalledTimes(2);
    expect(sim.timeline).toHaveLength(2);
  });

  it('honours smaller retry and give-up times from the constructor', async () => {
    const { handler, events } = handlerOf(() => new Promise(() => {}));
    const sim = simulate(handler, { retryAfterMs: 15, giveUpAfterMs: 40 });

    await sim.startInbound();

    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(new Set(events.map((e) => e.Sequence))).toEqual(new Set([1]));
    expect(sim.timeline.map((s) => s.type)).toEqual(['CALL_DROPPED']);
    expect(sim.timeline[0]!.reason).toMatch(/within 40 ms/);
  });

  it('invokes nothing more for an outbound call dropped at NEW_OUTBOUND_CALL', async () => {
    const { handler, ofType } = handlerOf(() => new Promise(() => {}));
    const media = fakeMedia();
    const sim = simulate(handler, { media, retryAfterMs: 15, giveUpAfterMs: 40 });

    await sim.startOutbound({ callback: 'yes' });

    expect(ofType('NEW_OUTBOUND_CALL').length).toBeGreaterThanOrEqual(2);
    expect(ofType('RINGING')).toEqual([]);
    expect(ofType('CALL_ANSWERED')).toEqual([]);
    expect(sim.timeline.map((s) => s.type)).toEqual(['CALL_DROPPED']);
    expect(media.hangup.mock.calls.map(([leg]) => leg.ParticipantTag)).toEqual(['LEG-A']);
  });

  it('retries a function error at once and goes on when the retry answers', async () => {
    vi.useFakeTimers();
    const { handler, events } = handlerOf((ev, attempt) => {
      if (ev.InvocationEventType !== 'NEW_INBOUND_CALL') return { Actions: [] };
      if (attempt === 1) throw new Error('cold start failed');
      return { Actions: [speak('hello')] };
    });
    const media = fakeMedia();
    const sim = simulate(handler, { media });

    const started = sim.startInbound();
    await vi.advanceTimersByTimeAsync(0); // not after the 5 s timeout: right away
    await started;

    expect(events.map((e) => [e.Sequence, e.InvocationEventType])).toEqual([
      [1, 'NEW_INBOUND_CALL'],
      [1, 'NEW_INBOUND_CALL'],
      [2, 'ACTION_SUCCESSFUL'],
    ]);
    expect(media.speak.mock.calls).toEqual([['hello']]);
    expect(sim.timeline.map((s) => s.type)).toEqual(['NEW_INBOUND_CALL', 'ACTION_SUCCESSFUL']);
    expect(sim.ended).toBe(false);
  });

  it('ends the call when the retry fails too', async () => {
    const { handler, events } = handlerOf(() => {
      throw new Error('table missing');
    });
    const media = fakeMedia();
    const sim = simulate(handler, { media });

    await sim.startInbound();

    expect(events.map((e) => e.Sequence)).toEqual([1, 1]);
    expect(sim.timeline).toEqual([
      {
        sequence: 1,
        type: 'CALL_DROPPED',
        actions: [],
        atMs: expect.any(Number),
        attempts: 2,
        reason: expect.stringMatching(/failed 2 times.*480.*table missing/),
      },
    ]);
    expect(media.hangup.mock.calls.map(([leg]) => leg.CallId)).toEqual([LEG_A]);
    expect(sim.legA?.Status).toBe('Disconnected');
    expect(sim.ended).toBe(true);
  });
});

describe('SimulatedChimeCall returning the call token', () => {
  const TOKEN = 'v1.1763744462.token-of-this-call-as-the-handler-signed-it';
  const signedBridge = {
    ...bridgeToAgent,
    Parameters: { ...bridgeToAgent.Parameters, SipHeaders: { 'X-Call-Token': TOKEN } },
  };
  const argumentsOf = (ev: { ActionData?: Record<string, unknown> }) =>
    (ev.ActionData?.['Parameters'] as { Arguments: Record<string, string> }).Arguments;

  it("sends the agent bridge's token with the agent's transfer and hang-up requests", async () => {
    const { handler, ofType } = handlerOf((ev) =>
      ev.InvocationEventType === 'NEW_INBOUND_CALL' ? { Actions: [signedBridge] } : { Actions: [] },
    );
    const sim = simulate(handler);

    await sim.startInbound();
    await sim.requestTransfer('general', 1);
    await sim.requestHangup(2);

    expect(sim.callToken).toBe(TOKEN);
    expect(ofType('CALL_UPDATE_REQUESTED').map((e) => argumentsOf(e).token)).toEqual([
      TOKEN,
      TOKEN,
    ]);
  });

  it('sends an empty token when no bridge carried one, and raw arguments as given', async () => {
    const { handler, ofType } = handlerOf((ev) =>
      ev.InvocationEventType === 'NEW_INBOUND_CALL'
        ? { Actions: [bridgeToAgent] }
        : { Actions: [] },
    );
    const sim = simulate(handler);

    await sim.startInbound();
    await sim.requestHangup(2);
    await sim.update({ action: 'hangup' });

    expect(sim.callToken).toBeUndefined();
    expect(ofType('CALL_UPDATE_REQUESTED').map(argumentsOf)).toEqual([
      { action: 'hangup', reason: 'caller_done', requestedAt: '2', token: '' },
      { action: 'hangup' },
    ]);
  });
});
