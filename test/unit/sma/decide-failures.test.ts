import { describe, expect, it } from 'vitest';
import { decideRaw, fixture, NOW } from '../../helpers/sma.js';

const CALLER = '+12065550100';
const LEG_A = 'a-leg-0001';
const AGENT_LEG = 'b-leg-agent-0001';
const APOLOGY =
  "We're sorry, no one from the 311 team can take your call right now. Please call again during office hours, Monday to Friday from eight thirty to five. Goodbye.";
const CONNECTING = 'One moment please, I am connecting you to a member of our team.';

const speak = (text: string) => ({
  Type: 'Speak',
  Parameters: {
    CallId: LEG_A,
    Text: text,
    Engine: 'neural',
    LanguageCode: 'en-US',
    TextType: 'text',
    VoiceId: 'Joanna',
  },
});
const bridgeTo = (number: string) => ({
  Type: 'CallAndBridge',
  Parameters: {
    CallTimeoutSeconds: 30,
    CallerIdNumber: CALLER,
    Endpoints: [{ BridgeEndpointType: 'PSTN', Uri: number }],
  },
});
const hangup = (callId: string) => ({
  Type: 'Hangup',
  Parameters: { CallId: callId, SipResponseCode: '0' },
});

describe('decide: the AI leg fails', () => {
  it('sends the caller to the default queue when the agent does not answer', () => {
    const d = decideRaw(fixture('action-failed-bridge-agent'));
    expect(d.actions).toEqual([speak(CONNECTING), bridgeTo('+12025550140')]);
    expect(d.state).toMatchObject({
      phase: 'bridging_human',
      queue: 'general',
      reason: 'agent_unavailable',
      requestedAt: NOW,
    });
  });

  it('sends the caller to the default queue when the agent leg drops with no transfer in progress', () => {
    const ev = fixture('hangup-leg-b-during-transfer');
    ev.CallDetails.TransactionAttributes = {
      phase: 'ai_connected',
      useCase: 'city-311',
      aiLeg: AGENT_LEG,
    };
    const d = decideRaw(ev);
    expect(d.actions).toEqual([speak(CONNECTING), bridgeTo('+12025550140')]);
    expect(d.state.reason).toBe('agent_error');
  });

  it('closes the call when the agent leg drops and the caller is already gone', () => {
    const ev = fixture('hangup-leg-b-during-transfer');
    ev.CallDetails.TransactionAttributes = { phase: 'ai_connected', useCase: 'city-311' };
    ev.CallDetails.Participants[0].Status = 'Disconnected';
    const d = decideRaw(ev);
    expect(d.actions).toEqual([]);
    expect(d.record.Disposition).toBe('ai_completed');
  });

  it('treats a rejected first answer as an agent failure and reaches a person', () => {
    const d = decideRaw(fixture('invalid-lambda-response'));
    expect(d.actions).toEqual([speak(CONNECTING), bridgeTo('+12025550140')]);
    expect(d.notes[0]).toMatchObject({
      reason: 'invalid_lambda_response',
      fields: { errorType: 'InvalidActionParameter' },
      // Chime's text may quote a number we sent: logged only under pii.
      pii: { errorMessage: 'Parameter CallerIdNumber is invalid' },
    });
    expect(d.notes[0]?.fields).not.toHaveProperty('errorMessage');
  });

  it('reads ErrorType from ActionData as well as from the top level', () => {
    const ev = fixture('invalid-lambda-response');
    delete ev.ErrorType;
    delete ev.ErrorMessage;
    ev.ActionData = {
      Type: 'CallAndBridge',
      ErrorType: 'InvalidActionParameter',
      ErrorMessage: 'bad',
    };
    expect(decideRaw(ev).notes[0]).toMatchObject({
      fields: { errorType: 'InvalidActionParameter' },
      pii: { errorMessage: 'bad' },
    });
  });
});

describe('decide: the human queue fails', () => {
  it('tries the fallback number when the queue does not answer', () => {
    const d = decideRaw(fixture('action-failed-bridge-queue'));
    expect(d.actions).toEqual([bridgeTo('+12025550141')]);
    expect(d.state).toMatchObject({ phase: 'bridging_human', target: 'fallback' });
  });

  it('apologises and hangs up when the fallback does not answer either', () => {
    const ev = fixture('action-failed-bridge-queue');
    ev.CallDetails.TransactionAttributes.target = 'fallback';
    ev.ActionData.Parameters.Endpoints[0].Uri = '+12025550141';
    const d = decideRaw(ev);
    expect(d.actions).toEqual([speak(APOLOGY), hangup(LEG_A)]);
    expect(d.state).toMatchObject({ phase: 'ending', end: 'failed' });
    expect(d.record).toMatchObject({
      TransferOutcome: 'failed',
      TransferInProgress: false,
      PendingTransferToPstn: null,
    });
    expect(d.metrics).toEqual([
      { metric: 'transfer', outcome: 'failed', reason: 'caller_asked' },
      { metric: 'transferDelay', seconds: (NOW - 1763740860000) / 1000, outcome: 'failed' },
      // The hop it failed at: the bridge was not answered.
      {
        metric: 'transferHop',
        seconds: (NOW - 1763740860000) / 1000,
        hop: 'bridge_answered',
        outcome: 'failed',
      },
    ]);
  });

  it('apologises at once when a queue with no fallback does not answer', () => {
    const ev = fixture('action-failed-bridge-queue');
    ev.CallDetails.TransactionAttributes.queue = 'sanitation';
    ev.ActionData.Parameters.Endpoints[0].Uri = '+12025550150';
    expect(decideRaw(ev).actions).toEqual([speak(APOLOGY), hangup(LEG_A)]);
  });

  it('ignores a failure of a bridge that is no longer the current target', () => {
    const ev = fixture('action-failed-bridge-queue');
    ev.CallDetails.TransactionAttributes.target = 'fallback';
    const d = decideRaw(ev);
    expect(d.actions).toEqual([]);
    expect(d.notes.map((n) => n.reason)).toEqual(['stale_event']);
  });

  it('ignores a late agent-bridge failure once the caller is on the way to a person', () => {
    const ev = fixture('action-failed-bridge-agent');
    ev.CallDetails.TransactionAttributes = {
      phase: 'bridging_human',
      useCase: 'city-311',
      queue: 'general',
      target: 'primary',
    };
    expect(decideRaw(ev).actions).toEqual([]);
  });

  it('hangs up the caller when the apology itself fails', () => {
    const ev = fixture('action-failed-bridge-queue');
    ev.CallDetails.TransactionAttributes = { phase: 'ending', useCase: 'city-311', end: 'failed' };
    ev.ActionData = {
      ...speak(APOLOGY),
      ErrorType: 'SystemException',
      ErrorMessage: 'Polly failed',
    };
    expect(decideRaw(ev).actions).toEqual([hangup(LEG_A)]);
  });

  it('closes the call as failed when its Hangup of the caller succeeds after the apology', () => {
    const ev = fixture('action-successful-hangup-leg-b');
    ev.CallDetails.TransactionAttributes = {
      phase: 'ending',
      useCase: 'city-311',
      end: 'failed',
      queue: 'general',
    };
    ev.ActionData.Parameters.CallId = LEG_A;
    ev.CallDetails.Participants[0].Status = 'Disconnected';
    const d = decideRaw(ev);
    expect(d.actions).toEqual([]);
    expect(d.record).toMatchObject({ Phase: 'ended', Disposition: 'failed' });
  });

  it('bridges to the queue even if hanging up the agent leg failed (it was already gone)', () => {
    const ev = fixture('action-successful-hangup-leg-b');
    ev.InvocationEventType = 'ACTION_FAILED';
    ev.ActionData.ErrorType = 'InvalidActionParameter';
    expect(decideRaw(ev).actions).toEqual([bridgeTo('+12025550140')]);
  });
});

describe('decide: call updates from the agent', () => {
  /** The fixture's update with these arguments instead, still carrying the call's token. */
  const update = (args: Record<string, string>, attrs?: Record<string, string>) => {
    const ev = fixture('call-update-requested-transfer');
    ev.ActionData.Parameters.Arguments = {
      token: ev.ActionData.Parameters.Arguments.token,
      ...args,
    };
    if (attrs) ev.CallDetails.TransactionAttributes = attrs;
    return decideRaw(ev);
  };

  it.each([
    ['+12025559999', 'queue_looks_like_number'],
    ['1-800-555-0199', 'queue_looks_like_number'],
    ['call 202 555 0100', 'queue_looks_like_number'],
    ['billing', 'unknown_queue'],
    ['General', 'unknown_queue'],
    ['sip:attacker@example.com', 'unknown_queue'],
  ])('refuses queue %j (%s) and leaves the call as it was', (queue, reason) => {
    const d = update({
      action: 'transfer',
      queue,
      reason: 'caller_asked',
      requestedAt: '1763740860000',
    });
    expect(d.actions).toEqual([]);
    expect(d.state).toEqual({ phase: 'ai_connected', useCase: 'city-311', aiLeg: AGENT_LEG });
    expect(d.notes.map((n) => n.reason)).toEqual([reason]);
    expect(d.metrics).toEqual([
      { metric: 'transfer', outcome: 'refused', reason: 'invalid_queue' },
      // The transfer failed at its first hop: the update was not accepted.
      {
        metric: 'transferHop',
        seconds: (NOW - 1763740860000) / 1000,
        hop: 'update_accepted',
        outcome: 'refused',
      },
    ]);
  });

  it('transfers to another key of the use case', () => {
    const d = update({
      action: 'transfer',
      queue: 'sanitation',
      reason: 'out_of_scope',
      requestedAt: '1',
    });
    expect(d.state).toMatchObject({ queue: 'sanitation', reason: 'out_of_scope' });
    expect(d.record.PendingTransferToPstn).toBe('+12025550150');
  });

  it('uses the default queue when none is named, and a placeholder for a malformed reason', () => {
    const d = update({ action: 'transfer', reason: 'Caller Asked!' });
    expect(d.state).toMatchObject({
      phase: 'transfer_pending',
      queue: 'general',
      reason: 'unspecified',
    });
    expect(d.notes.map((n) => n.reason)).toContain('requested_at_missing');
  });

  it('refuses a second transfer while one is in progress', () => {
    const d = update(
      { action: 'transfer', queue: 'general' },
      { phase: 'transfer_pending', useCase: 'city-311', queue: 'general' },
    );
    expect(d.actions).toEqual([]);
    expect(d.notes.map((n) => n.reason)).toEqual(['transfer_already_in_progress']);
  });

  it('refuses unknown actions and missing arguments', () => {
    expect(update({ action: 'dial', queue: '+12025559999' }).notes[0]?.reason).toBe(
      'invalid_update_arguments',
    );
    const ev = fixture('call-update-requested-transfer');
    delete ev.ActionData;
    expect(decideRaw(ev).notes[0]?.reason).toBe('invalid_update_arguments');
  });

  it('bridges at once when the agent leg is already gone', () => {
    const ev = fixture('call-update-requested-transfer');
    ev.CallDetails.Participants[1].Status = 'Disconnected';
    expect(decideRaw(ev).actions).toEqual([bridgeTo('+12025550140')]);
  });

  it('refuses a hang-up request once the caller is with a person', () => {
    const d = update({ action: 'hangup' }, { phase: 'human_connected', useCase: 'city-311' });
    expect(d.actions).toEqual([]);
    expect(d.notes[0]?.reason).toBe('hangup_not_possible');
  });
});

describe('decide: lost state', () => {
  it('infers the agent leg from a connected LEG-B when attributes are missing, so a transfer still works', () => {
    const ev = fixture('call-update-requested-transfer');
    delete ev.CallDetails.TransactionAttributes;
    const d = decideRaw(ev);
    expect(d.actions).toEqual([hangup(AGENT_LEG)]);
    expect(d.notes[0]?.reason).toBe('state_inferred');
  });

  it('keeps the caller when the agent leg hangs up and the state is lost', () => {
    const ev = fixture('hangup-leg-b-during-transfer');
    delete ev.CallDetails.TransactionAttributes;
    expect(decideRaw(ev).actions).toEqual([speak(CONNECTING), bridgeTo('+12025550140')]);
  });
});
