import { describe, expect, it } from 'vitest';
import { readState, writeState } from '../../../lambdas/sma/call-state.js';
import { parseEvent } from '../../../lambdas/sma/events.js';
import { FIXTURE_NAMES, decideRaw, fixture } from '../../helpers/sma.js';

describe('parseEvent', () => {
  it.each(FIXTURE_NAMES)('parses the documented shape of %s', (name) => {
    const res = parseEvent(fixture(name));
    expect(res.ok).toBe(true);
  });

  it('accepts participant tags written Leg-A / Leg-B', () => {
    const ev = fixture('hangup-leg-b-during-transfer');
    ev.CallDetails.Participants[0].ParticipantTag = 'Leg-A';
    ev.CallDetails.Participants[1].ParticipantTag = 'Leg-B';
    ev.ActionData.Parameters.ParticipantTag = 'Leg-B';
    const res = parseEvent(ev);
    expect(res.ok && res.event.legA?.callId).toBe('a-leg-0001');
    expect(res.ok && res.event.legB?.callId).toBe('b-leg-agent-0001');
    expect(decideRaw(ev).actions[0]?.Type).toBe('CallAndBridge');
  });

  it('reads SipApplicationId when SipMediaApplicationId is absent', () => {
    const ev = fixture('new-inbound-call');
    ev.CallDetails.SipApplicationId = ev.CallDetails.SipMediaApplicationId;
    delete ev.CallDetails.SipMediaApplicationId;
    const res = parseEvent(ev);
    expect(res.ok && res.event.applicationId).toBe('a1b2c3d4-0000-4000-8000-000000000001');
  });

  it('reads the invoking account from AwsAccountId, and none when it is absent', () => {
    const ev = fixture('new-inbound-call');
    const res = parseEvent(ev);
    expect(res.ok && res.event.accountId).toBe('111122223333');
    delete ev.CallDetails.AwsAccountId;
    const without = parseEvent(ev);
    expect(without.ok && without.event.accountId).toBeUndefined();
  });

  it('accepts numbers sent as strings and a missing Status', () => {
    const ev = fixture('new-inbound-call');
    ev.Sequence = '1';
    delete ev.CallDetails.Participants[0].Status;
    ev.CallDetails.Participants[0].StartTimeInMilliseconds = 1763740800000;
    const res = parseEvent(ev);
    expect(res.ok && res.event.sequence).toBe(1);
    expect(res.ok && res.event.legA?.startMs).toBe(1763740800000);
    expect(res.ok && res.event.legA?.status).toBeUndefined();
  });

  it('stringifies non-string attribute values and drops nested ones', () => {
    const ev = fixture('action-interrupted');
    ev.CallDetails.TransactionAttributes = {
      phase: 'ai_connected',
      count: 3,
      flag: true,
      nested: { a: 1 },
    };
    const res = parseEvent(ev);
    expect(res.ok && res.event.attributes).toEqual({
      phase: 'ai_connected',
      count: '3',
      flag: 'true',
    });
  });

  it('picks the connected LEG-B when an old one is still listed', () => {
    const ev = fixture('action-successful-bridge-queue');
    const res = parseEvent(ev);
    expect(res.ok && res.event.legB?.callId).toBe('b-leg-queue-0001');
  });

  it.each([
    [null, 'not_an_object'],
    [[1, 2], 'not_an_object'],
    ['NEW_INBOUND_CALL', 'not_an_object'],
    [{}, 'malformed:Sequence'],
    [{ Sequence: 1, InvocationEventType: 'NEW_INBOUND_CALL' }, 'malformed:CallDetails'],
    [
      { Sequence: -1, InvocationEventType: 'HANGUP', CallDetails: { TransactionId: 't' } },
      'malformed:Sequence',
    ],
    [
      { Sequence: 1, InvocationEventType: 'HANGUP', CallDetails: { TransactionId: '' } },
      'malformed:CallDetails.TransactionId',
    ],
  ])('refuses %j with reason %s', (raw, reason) => {
    const res = parseEvent(raw);
    expect(res).toMatchObject({ ok: false, reason });
  });

  it('refuses an unknown event type but keeps the attributes to echo', () => {
    const ev = fixture('action-interrupted');
    ev.InvocationEventType = 'CALL_TELEPORTED';
    expect(parseEvent(ev)).toEqual({
      ok: false,
      reason: 'unknown_event_type',
      transactionId: 'c0a80101-4b2e-4f4e-9b1d-2f6a7e1c9d01',
      attributes: { phase: 'ai_connected', useCase: 'city-311', aiLeg: 'b-leg-agent-0001' },
    });
  });
});

describe('parseEvent: ActionData', () => {
  const actionOf = (raw: unknown) => {
    const res = parseEvent(raw);
    if (!res.ok) throw new Error(res.reason);
    return res.event.action;
  };

  it('types a CallAndBridge by its first endpoint and the leg it names', () => {
    expect(actionOf(fixture('action-failed-bridge-queue'))).toEqual({
      type: 'CallAndBridge',
      leg: { callId: 'a-leg-0001', tag: undefined },
      params: { type: 'CallAndBridge', endpoint: { kind: 'PSTN', uri: '+12025550140' } },
    });
  });

  it('reads an endpoint type it does not know as undefined, and still parses the event', () => {
    const ev = fixture('action-failed-bridge-queue');
    ev.ActionData.Parameters.Endpoints[0].BridgeEndpointType = 'SIP';
    ev.ActionData.Parameters.CallTimeoutSeconds = 'soon';
    expect(actionOf(ev)?.params).toEqual({
      type: 'CallAndBridge',
      endpoint: { kind: undefined, uri: '+12025550140' },
    });
  });

  it('reads the leg of a Hangup written Leg-B', () => {
    const ev = fixture('hangup-leg-b-during-transfer');
    ev.ActionData.Parameters.ParticipantTag = 'Leg-B';
    expect(actionOf(ev)).toEqual({
      type: 'Hangup',
      leg: { callId: 'b-leg-agent-0001', tag: 'LEG-B' },
      params: { type: 'Hangup' },
    });
  });

  it("reads an update's Arguments with the contract, whatever Type says", () => {
    const ev = fixture('call-update-requested-transfer');
    ev.ActionData.Type = 'CallAndBridge';
    ev.ActionData.Parameters.Arguments.reason = 'caller_is_angry';
    expect(actionOf(ev)?.params).toEqual({
      type: 'CallUpdateRequest',
      update: {
        action: 'transfer',
        queue: 'general',
        reason: 'unspecified',
        requestedAt: 1763740860000,
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        token: ev.ActionData.Parameters.Arguments.token,
      },
    });
  });

  it('reads malformed update Arguments as no update', () => {
    const ev = fixture('call-update-requested-transfer');
    ev.ActionData.Parameters.Arguments = { action: 'dial' };
    expect(actionOf(ev)?.params).toEqual({ type: 'CallUpdateRequest', update: undefined });
  });

  it("reads a new outbound call's ArgumentsMap, strings only", () => {
    const ev = fixture('new-outbound-call');
    ev.ActionData.Parameters.Arguments.priority = 3;
    expect(actionOf(ev)?.params).toEqual({
      type: 'CallCreateRequest',
      arguments: { useCase: 'city-311' },
    });
  });

  it('keeps the Parameters of an action no decision reads', () => {
    expect(actionOf(fixture('action-interrupted'))?.params).toEqual({
      type: 'unknown',
      raw: { DurationInMilliseconds: '3000', CallId: 'a-leg-0001' },
    });
  });
});

describe('call state in TransactionAttributes', () => {
  it('keeps the valid keys when one value is malformed', () => {
    expect(readState({ phase: 'warp_speed', queue: 'general', requestedAt: 'soon' })).toEqual({
      queue: 'general',
    });
  });

  it('echoes foreign keys and overwrites its own', () => {
    const out = writeState(
      { phase: 'bridging_ai', customerTier: 'gold' },
      { phase: 'ai_connected', requestedAt: 12 },
    );
    expect(out).toEqual({ phase: 'ai_connected', requestedAt: '12', customerTier: 'gold' });
  });

  it('drops its own keys that are no longer set', () => {
    expect(writeState({ phase: 'ai_connected', queue: 'general' }, { phase: 'ended' })).toEqual({
      phase: 'ended',
    });
  });

  it("stays within Chime's 100 pairs and 20 KB", () => {
    const big: Record<string, string> = {};
    for (let i = 0; i < 300; i++) big[`k${i}`] = 'x'.repeat(200);
    const out = writeState(big, { phase: 'ai_connected', useCase: 'city-311' });
    expect(Object.keys(out).length).toBeLessThanOrEqual(100);
    expect(Buffer.byteLength(JSON.stringify(out))).toBeLessThanOrEqual(20 * 1024);
    expect(out.phase).toBe('ai_connected');
  });
});
