import { describe, expect, it } from 'vitest';
import { decideRaw, fixture, type Json } from '../../helpers/sma.js';

const LEG_A = 'a-leg-0001';
const AGENT_LEG = 'b-leg-agent-0001';

/** The agent's hang-up update, with `reason` as sent (left out when undefined). */
function hangupWith(reason: string | undefined): Json {
  const ev = fixture('call-update-requested-hangup');
  if (reason === undefined) delete ev.ActionData.Parameters.Arguments.reason;
  else ev.ActionData.Parameters.Arguments.reason = reason;
  return ev;
}

describe('decide: the reason the agent ends a call', () => {
  it.each(['caller_done', 'caller_silent', 'max_duration'])(
    'keeps %s on the state item and in the note when the agent ends the call',
    (reason) => {
      const d = decideRaw(hangupWith(reason));
      expect(d.actions).toEqual([
        { Type: 'Hangup', Parameters: { CallId: LEG_A, SipResponseCode: '0' } },
      ]);
      expect(d.record).toEqual({ Phase: 'ending', EndReason: reason });
      expect(d.notes).toEqual([
        {
          level: 'info',
          msg: 'agent ended the call',
          reason: 'agent_hangup',
          fields: { endReason: reason },
        },
      ]);
    },
  );

  it.each([
    ['no reason', undefined],
    ['a reason outside the set', 'caller_bored'],
    ['a phone number as its reason', '+12065550100'],
  ])('records unspecified when the update carries %s', (_, reason) => {
    const d = decideRaw(hangupWith(reason));
    expect(d.record.EndReason).toBe('unspecified');
    expect(d.notes[0]?.fields).toEqual({ endReason: 'unspecified' });
    expect(JSON.stringify(d)).not.toContain('+12065550100');
  });

  it('keeps the reason when the caller leg is already gone, hanging up the agent leg', () => {
    const ev = hangupWith('caller_silent');
    ev.CallDetails.Participants[0].Status = 'Disconnected';
    const d = decideRaw(ev);
    expect(d.actions).toEqual([
      { Type: 'Hangup', Parameters: { CallId: AGENT_LEG, SipResponseCode: '0' } },
    ]);
    expect(d.record).toEqual({ EndReason: 'caller_silent' });
    expect(d.state).toMatchObject({ phase: 'ending', end: 'ai_completed' });
  });

  it('writes the reason once: a second hang-up update is refused and records nothing', () => {
    const first = decideRaw(hangupWith('max_duration'));
    const again = hangupWith('caller_done');
    again.Sequence = 4;
    again.CallDetails.TransactionAttributes = first.state;
    const d = decideRaw(again);
    expect(d.actions).toEqual([]);
    expect(d.record).toEqual({});
    expect(d.notes).toMatchObject([{ reason: 'hangup_not_possible' }]);
  });

  it('keeps no end reason for a transfer', () => {
    const d = decideRaw(fixture('call-update-requested-transfer'));
    expect(d.record).not.toHaveProperty('EndReason');
  });

  it('leaves the reason in place when the caller leg hangs up and the call is counted', () => {
    const first = decideRaw(hangupWith('max_duration'));
    const after = fixture('hangup-leg-a');
    after.CallDetails.TransactionAttributes = first.state;
    const end = decideRaw(after);
    expect(end.record.Disposition).toBe('ai_completed');
    expect(end.metrics).toContainEqual(
      expect.objectContaining({ metric: 'callDuration', disposition: 'ai_completed' }),
    );
    expect(end.record).not.toHaveProperty('EndReason');
  });
});
