// The call's limits (agent/call-limits.ts), driven by fake timers: the silent caller's check-ins
// and goodbye, the clock that pauses while the agent speaks and during a transfer, the offer of a
// person a minute before the longest call, and the end at it.
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CallLimits,
  followSession,
  limitActions,
  type LimitActions,
} from '../../../agent/call-limits.js';
import { readCallContext } from '../../../agent/call-context.js';
import type { CallControl, CallUpdateRequest } from '../../../agent/call-control.js';
import { nextReply } from '../../../agent/dialogue/engine.js';
import { fixedLines, fixedLineTexts, SHARED_LINES } from '../../../agent/lines.js';
import { hangUpCall } from '../../../agent/tools/end-call.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { USE_CASES_JSON } from '../../helpers/sma.js';

const useCases = parseUseCases(USE_CASES_JSON);
const useCase = useCases.defaultUseCase;
const DEFAULTS = { maxCallSeconds: 1800, silence: { checkInAfterMs: 8000, endAfterMs: 30_000 } };

interface Harness {
  limits: CallLimits;
  /** What the agent did, with the fake clock's time since the start. */
  did: [string, number][];
  logs: Record<string, unknown>[];
}

/** Limits whose lines take `lineMs` to say, started at fake time 0. */
function harness(lineMs = 0, limits = DEFAULTS, start = true): Harness {
  const did: [string, number][] = [];
  const logs: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (l: string) => void logs.push(JSON.parse(l) as Record<string, unknown>) },
  );
  const t0 = Date.now();
  const line = (what: string) => {
    did.push([what, Date.now() - t0]);
    return lineMs === 0 ? Promise.resolve() : new Promise<void>((r) => setTimeout(r, lineMs));
  };
  const actions: LimitActions = {
    checkIn: () => line('checkIn'),
    offerPerson: () => line('offer'),
    end: (reason) => line(`end:${reason}`),
  };
  const l = new CallLimits({ limits, logger });
  if (start) l.start(actions);
  return { limits: l, did, logs };
}

const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('CallLimits: a silent caller', () => {
  it('checks in at 8 s and 16 s and ends the call as caller_silent at 30 s when the caller says nothing', async () => {
    const h = harness();
    await advance(7999);
    expect(h.did).toEqual([]);
    await advance(120_000);
    expect(h.did).toEqual([
      ['checkIn', 8000],
      ['checkIn', 16_000],
      ['end:caller_silent', 30_000],
    ]);
    const ended = h.logs.find((l) => l.msg === 'call limit reached; ending the call');
    expect(ended).toMatchObject({ reason: 'caller_silent', silentMs: 30_000 });
  });

  it('does not count the time its own check-ins take when they take time to say', async () => {
    const h = harness(2000);
    await advance(120_000);
    expect(h.did).toEqual([
      ['checkIn', 8000],
      ['checkIn', 18_000],
      ['end:caller_silent', 34_000],
    ]);
  });

  it('starts the silence over, check-ins too, when the caller speaks, understood or not', async () => {
    const h = harness();
    await advance(9000); // one check-in
    h.limits.callerSpeaking(true);
    await advance(20_000); // a long sentence: no clock while the caller speaks
    h.limits.callerSpeaking(false); // at 29 s
    await advance(7000);
    h.limits.heardCaller(); // a transcript alone (at 36 s) counts as speech too
    await advance(120_000);
    expect(h.did).toEqual([
      ['checkIn', 8000],
      ['checkIn', 44_000],
      ['checkIn', 52_000],
      ['end:caller_silent', 66_000],
    ]);
  });

  it('does not check in while the agent speaks: the clock pauses and resumes', async () => {
    const h = harness();
    await advance(5000);
    h.limits.agentSpeaking(true);
    await advance(20_000);
    expect(h.did).toEqual([]);
    h.limits.agentSpeaking(false); // 5 s counted, 3 s to go
    await advance(3000);
    expect(h.did).toEqual([['checkIn', 28_000]]);
  });

  it('does not check in during a transfer, and starts over when the transfer fails', async () => {
    const h = harness();
    const sent: CallUpdateRequest[] = [];
    const control = h.limits.watch({ update: async (u) => void sent.push(u) })!;
    await advance(3000);
    await control.update(transfer());
    await advance(120_000);
    expect(h.did).toEqual([]);
    expect(sent).toHaveLength(1);

    const h2 = harness();
    const control2 = h2.limits.watch({ update: async () => Promise.reject(new Error('no')) })!;
    await advance(3000);
    await expect(control2.update(transfer())).rejects.toThrow();
    await advance(8000);
    expect(h2.did).toEqual([['checkIn', 11_000]]);
  });

  it('passes a language switch on to the control and keeps watching the call', async () => {
    const h = harness();
    const told: string[] = [];
    const control = h.limits.watch({
      update: async () => undefined,
      languageChanged: async (l) => void told.push(l),
    })!;
    await control.languageChanged!('es-US');
    expect(told).toEqual(['es-US']);
    await advance(8000);
    expect(h.did).toEqual([['checkIn', 8000]]);
    // A control that says nothing itself after a switch (Twilio's) is given none.
    expect(h.limits.watch({ update: async () => undefined })!.languageChanged).toBeUndefined();
  });
});

describe('CallLimits: the longest call', () => {
  const limits = { ...DEFAULTS, maxCallSeconds: 600 };

  it('offers a person once a minute before the maximum, and ends the call as max_duration at it', async () => {
    const h = harness(0, limits);
    h.limits.callerSpeaking(true); // a caller who never stops talking: no check-ins
    await advance(600_000 + 60_000);
    expect(h.did).toEqual([
      ['offer', 540_000],
      ['end:max_duration', 600_000],
    ]);
    expect(h.logs.find((l) => l.reason === 'max_duration')).toMatchObject({
      msg: 'call limit reached; ending the call',
    });
  });

  it('leaves a transfer under way alone at the maximum, and ends the call if that transfer fails', async () => {
    const h = harness(0, limits);
    h.limits.callerSpeaking(true);
    await advance(550_000);
    h.limits.transferStarted();
    await advance(60_000);
    expect(h.did).toEqual([['offer', 540_000]]);
    h.limits.transferFailed(); // at 610 s: the caller stays with the agent past its maximum
    await advance(0);
    expect(h.did).toEqual([
      ['offer', 540_000],
      ['end:max_duration', 610_000],
    ]);
  });

  it('does not offer a person to a caller already being transferred', async () => {
    const h = harness(0, limits);
    h.limits.transferStarted();
    await advance(700_000);
    expect(h.did).toEqual([]);
  });
});

describe('CallLimits: the end', () => {
  it('does nothing once the session has ended, nor when started after', async () => {
    const h = harness();
    await advance(5000);
    h.limits.stop();
    await advance(2_000_000);
    expect(h.did).toEqual([]);

    const late = harness(0, DEFAULTS, false);
    late.limits.stop();
    late.limits.start({
      checkIn: async () => void late.did.push(['checkIn', 0]),
      offerPerson: async () => void late.did.push(['offer', 0]),
      end: async () => void late.did.push(['end', 0]),
    });
    await advance(2_000_000);
    expect(late.did).toEqual([]);
  });

  it('stops when the agent sends a hang-up of its own (end_call)', async () => {
    const h = harness();
    const control = h.limits.watch({ update: async () => undefined })!;
    await advance(5000);
    await control.update({ action: 'hangup', reason: 'caller_done', requestedAt: 1 });
    await advance(2_000_000);
    expect(h.did).toEqual([]);
  });

  it('runs nothing before the call is answered', async () => {
    const h = harness(0, DEFAULTS, false);
    await advance(2_000_000);
    expect(h.did).toEqual([]);
  });
});

describe('limitActions', () => {
  const phone = readCallContext(
    {
      'sma.transactionId': 'tx-limits',
      'sma.applicationId': 'sma-test',
      'sma.region': 'us-east-1',
      'call.useCase': useCase.id,
    },
    useCases,
  );
  const dev = readCallContext({ 'call.useCase': useCase.id }, useCases);
  const logger = pino({ level: 'silent' });

  function act(control: CallControl | undefined, call = phone) {
    const said: [string, boolean][] = [];
    let left = 0;
    const actions = limitActions(
      async (line, interruptible) => void said.push([line, interruptible]),
      (reason) => hangUpCall({ call, control, logger, leave: () => void left++ }, reason),
    );
    return { actions, said, left: () => left };
  }

  it('says the check-in and the offer so the caller can cut them off', async () => {
    const a = act(undefined);
    await a.actions.checkIn();
    await a.actions.offerPerson();
    expect(a.said).toEqual([
      ['checkIn', true],
      ['timeOffer', true],
    ]);
  });

  it('says goodbye, then asks the SMA to hang up with the reason, on a phone call', async () => {
    const updates: CallUpdateRequest[] = [];
    const a = act({ update: async (u) => void updates.push(u) });
    await a.actions.end('caller_silent');
    await a.actions.end('max_duration');
    expect(a.said).toEqual([
      ['silentGoodbye', false],
      ['goodbye', false],
    ]);
    expect(updates).toMatchObject([
      { action: 'hangup', reason: 'caller_silent' },
      { action: 'hangup', reason: 'max_duration' },
    ]);
    expect(a.left()).toBe(0);
  });

  it('says goodbye and leaves the room in a dev room: no phone call to hang up', async () => {
    const a = act(undefined, dev);
    await a.actions.end('caller_silent');
    expect(a.said).toEqual([['silentGoodbye', false]]);
    expect(a.left()).toBe(1);
  });

  it('leaves the room when Chime cannot be reached, as end_call does', async () => {
    const a = act({ update: async () => Promise.reject(new Error('unreachable')) });
    await a.actions.end('max_duration');
    expect(a.left()).toBe(1);
  });
});

describe('followSession', () => {
  it("feeds the session's user and agent states to the limits and stops them at its close", async () => {
    const handlers = new Map<string, (ev: unknown) => void>();
    const session = { on: (name: string, fn: (ev: unknown) => void) => handlers.set(name, fn) };
    const h = harness();
    followSession(session as never, h.limits);
    const emit = (name: string, ev: unknown = {}) => handlers.get(name)!(ev);
    await advance(5000);
    emit('agent_state_changed', { newState: 'speaking' });
    await advance(10_000);
    emit('agent_state_changed', { newState: 'listening' });
    emit('user_state_changed', { newState: 'speaking' });
    await advance(10_000);
    emit('user_state_changed', { newState: 'listening' }); // at 25 s, silence from zero
    await advance(8000);
    expect(h.did).toEqual([['checkIn', 33_000]]);
    emit('close');
    await advance(100_000);
    expect(h.did).toHaveLength(1);
  });
});

describe('the limits’ lines', () => {
  it('are fixed lines, rendered ahead with the others, and say no number', () => {
    const texts = fixedLineTexts(useCase);
    for (const name of ['checkIn', 'silentGoodbye', 'timeOffer'] as const) {
      expect(texts).toContain(fixedLines(useCase)[name]);
    }
    for (const text of Object.values(SHARED_LINES)) expect(text).not.toMatch(/\d/);
  });

  it('a yes to the offer of a person is a transfer with the local dialogue engine', () => {
    const reply = nextReply(useCase, [
      { role: 'assistant', text: SHARED_LINES.timeOffer },
      { role: 'user', text: 'yes please' },
    ]);
    expect(reply).toEqual({
      kind: 'tool',
      name: 'transfer_to_human',
      args: { queue: useCase.defaultQueue, reason: 'caller_asked' },
    });
  });
});

function transfer(): CallUpdateRequest {
  return { action: 'transfer', queue: 'general', reason: 'caller_asked', requestedAt: 1 };
}
