// The offline dialogue engine's part in what a caller chooses to share: a name said is kept with
// remember_name, "forget me" runs forget_me, and each tool's outcome becomes a line to say. And
// `npm run call -- show`'s reading of a call's items.
import { describe, expect, it } from 'vitest';
import bundled from '../../../contracts/use-cases.json' with { type: 'json' };
import { parseUseCases } from '../../../contracts/use-cases.js';
import { Lines, nextReply, normalise } from '../../../agent/dialogue/engine.js';
import { isYes } from '../../../agent/dialogue/queue-offer.js';
import { outcome, ToolOutcome } from '../../../agent/tools/outcome.js';
import { cleanName } from '../../../agent/call-memory.js';
import { describeCall } from '../../../scripts/call.js';

const useCase = parseUseCases(bundled).defaultUseCase;
const user = (text: string) => [{ role: 'user' as const, text }];

describe('dialogue engine: caller memory', () => {
  it('keeps a name the caller gives', () => {
    expect(nextReply(useCase, user('Hi, my name is Jordan'))).toEqual({
      kind: 'tool',
      name: 'remember_name',
      args: { name: 'Jordan' },
    });
    expect(nextReply(useCase, user('you can call me sam please'))).toMatchObject({
      name: 'remember_name',
      args: { name: 'Sam' },
    });
  });

  it('does not take "call me back" or "call me later" for a name', () => {
    for (const text of ['call me back', 'could you call me later', 'call me at home']) {
      expect(nextReply(useCase, user(text))).not.toMatchObject({ name: 'remember_name' });
    }
  });

  it('takes a plain yes for a yes, and a yes that goes on for nothing', () => {
    for (const text of [
      'yes',
      'yes please',
      'sure',
      'ok',
      'yes that is right',
      "that's right",
      'yeah i would like that',
    ])
      expect(isYes(normalise(text)), text).toBe(true);
    for (const text of ['please all my bag', 'yes but not now', 'that is all', 'no', ''])
      expect(isYes(normalise(text)), text).toBe(false);
  });

  it('forgets a caller who asks', () => {
    for (const text of ['Please forget me', 'delete my information', 'forget about me']) {
      expect(nextReply(useCase, user(text))).toEqual({ kind: 'tool', name: 'forget_me', args: {} });
    }
  });

  it('says what each outcome means', () => {
    const after = (code: (typeof ToolOutcome)[keyof typeof ToolOutcome]) =>
      nextReply(useCase, [{ role: 'tool', text: outcome(code, 'x') }]);
    expect(after(ToolOutcome.forgotten)).toEqual({ kind: 'say', text: Lines.forgotten });
    expect(after(ToolOutcome.notForgotten)).toEqual({ kind: 'say', text: Lines.notForgotten });
    expect(after(ToolOutcome.nameRemembered)).toEqual({ kind: 'say', text: Lines.nameRemembered });
  });

  it('still hands a caller who names someone to a person', () => {
    expect(nextReply(useCase, user('my name is Lee, let me talk to a person'))).toMatchObject({
      name: 'transfer_to_human',
    });
  });
});

describe('cleanName', () => {
  it('keeps letters, and refuses what is not a name', () => {
    expect(cleanName('  José  María ')).toBe('José María');
    expect(cleanName('<script>')).toBe('script');
    expect(cleanName('123')).toBeUndefined();
    expect(cleanName('x'.repeat(61))).toBeUndefined();
  });
});

describe('npm run call -- show', () => {
  it('prints the state, the events in order and the conversation', () => {
    const lines = describeCall([
      { pk: 'call#tx', sk: 'state', Phase: 'ended', Disposition: 'ai_completed' },
      {
        pk: 'call#tx',
        sk: 'event#000001',
        EventType: 'NEW_INBOUND_CALL',
        Actions: ['CallAndBridge'],
        Phase: 'bridging_ai',
        ReceivedAt: Date.UTC(2026, 11, 6, 10, 0, 0),
      },
      {
        pk: 'call#tx',
        sk: 'conversation',
        UseCase: 'city-311',
        Language: 'en-US',
        StartedAt: Date.UTC(2026, 11, 6, 10, 0, 1),
        EndedAt: Date.UTC(2026, 11, 6, 10, 0, 30),
        Transcript: [{ role: 'caller', text: 'a pothole', at: Date.UTC(2026, 11, 6, 10, 0, 5) }],
        Summary: 'Caller asked: "a pothole". 1 caller turn(s). The caller hung up.',
        Outcome: 'The caller hung up',
        ExpiresAt: 1,
      },
    ]);
    expect(lines).toEqual([
      'state:',
      '  Disposition: ai_completed',
      '  Phase: ended',
      'events:',
      '  000001  10:00:00.000  NEW_INBOUND_CALL  -> CallAndBridge  bridging_ai',
      'conversation (city-311, en-US, 10:00:01.000–10:00:30.000):',
      '  10:00:05.000  caller  a pothole',
      'summary: Caller asked: "a pothole". 1 caller turn(s). The caller hung up.',
    ]);
    expect(describeCall([])).toEqual(['no items for this call (unknown, or expired)']);
  });
});
