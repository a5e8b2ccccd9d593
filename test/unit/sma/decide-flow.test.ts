import { describe, expect, it } from 'vitest';
import { signCallToken } from '../../../contracts/call-token.js';
import {
  CALL_TOKEN_TTL_MS,
  decideRaw,
  fixture,
  NOW,
  TEST_CALL_TOKEN_SECRET,
  TEST_VC_ARN,
  testConfig,
  testUseCases,
} from '../../helpers/sma.js';

const TX = 'c0a80101-4b2e-4f4e-9b1d-2f6a7e1c9d01';
const SMA = 'a1b2c3d4-0000-4000-8000-000000000001';
const CALLER = '+12065550100';
const LEG_A = 'a-leg-0001';
const AGENT_LEG = 'b-leg-agent-0001';
const LEG_A_START = 1_763_740_800_000;

const bridgeToGeneral = {
  Type: 'CallAndBridge',
  Parameters: {
    CallTimeoutSeconds: 30,
    CallerIdNumber: CALLER,
    Endpoints: [{ BridgeEndpointType: 'PSTN', Uri: '+12025550140' }],
  },
};

describe('decide: a call from answer to hang-up', () => {
  it('bridges a new inbound call to the agent with the header contract', () => {
    const d = decideRaw(fixture('new-inbound-call'));
    expect(d.actions).toEqual([
      {
        Type: 'CallAndBridge',
        Parameters: {
          CallTimeoutSeconds: 30,
          CallerIdNumber: CALLER,
          Endpoints: [{ BridgeEndpointType: 'AWS', Arn: TEST_VC_ARN, Uri: '+12025550132' }],
          SipHeaders: {
            'X-Sma-Transaction-Id': TX,
            'X-Sma-Application-Id': SMA,
            'X-Sma-Region': 'us-east-1',
            'X-Use-Case': 'city-311',
            'X-Traceparent': expect.stringMatching(
              /^00-c0a801014b2e4f4e9b1d2f6a7e1c9d01-[0-9a-f]{16}-01$/,
            ),
            'X-Call-Token': signCallToken(
              { transactionId: TX, applicationId: SMA },
              LEG_A_START + CALL_TOKEN_TTL_MS,
              TEST_CALL_TOKEN_SECRET,
            ),
          },
        },
      },
    ]);
    expect(d.state).toEqual({ phase: 'bridging_ai', useCase: 'city-311' });
    expect(d.record).toMatchObject({
      Phase: 'bridging_ai',
      CallerNumber: CALLER,
      DialedNumber: '+12025550131',
    });
    expect(d.metrics).toEqual([{ metric: 'activeCalls', delta: 1 }]);
  });

  it('uses the default use case when the dialed number is unknown', () => {
    const ev = fixture('new-inbound-call');
    ev.CallDetails.Participants[0].To = '+19995550000';
    const d = decideRaw(ev);
    expect(d.actions[0]).toMatchObject({ Parameters: { Endpoints: [{ Uri: '+12025550132' }] } });
    expect(d.notes.map((n) => n.reason)).toContain('unknown_dialed_number');
  });

  it('presents the dialed number as caller id when the caller withholds theirs', () => {
    const ev = fixture('new-inbound-call');
    ev.CallDetails.Participants[0].From = 'anonymous';
    const d = decideRaw(ev);
    expect(d.actions[0]).toMatchObject({ Parameters: { CallerIdNumber: '+12025550131' } });
  });

  it('marks the agent connected when its bridge succeeds, remembering the agent leg', () => {
    const d = decideRaw(fixture('action-successful-bridge-agent'));
    expect(d.actions).toEqual([]);
    expect(d.state).toEqual({ phase: 'ai_connected', useCase: 'city-311', aiLeg: AGENT_LEG });
    expect(d.record).toMatchObject({ Phase: 'ai_connected', AiConnectedAt: NOW, AnsweredAt: NOW });
  });

  it('hangs up the agent leg when the agent asks for a transfer', () => {
    const d = decideRaw(fixture('call-update-requested-transfer'));
    expect(d.actions).toEqual([
      { Type: 'Hangup', Parameters: { CallId: AGENT_LEG, SipResponseCode: '0' } },
    ]);
    expect(d.state).toMatchObject({
      phase: 'transfer_pending',
      queue: 'general',
      reason: 'caller_asked',
      requestedAt: 1763740860000,
      target: 'primary',
      agentTrace: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
    expect(d.record).toMatchObject({
      TransferInProgress: true,
      PendingTransferToPstn: '+12025550140',
    });
  });

  it.each(['hangup-leg-b-during-transfer', 'action-successful-hangup-leg-b'])(
    'bridges the caller to the queue on %s, the first of the two post-hang-up events',
    (name) => {
      const d = decideRaw(fixture(name));
      expect(d.actions).toEqual([bridgeToGeneral]);
      expect(d.state.phase).toBe('bridging_human');
    },
  );

  it.each([
    ['hangup-leg-b-during-transfer', 'action-successful-hangup-leg-b'],
    ['action-successful-hangup-leg-b', 'hangup-leg-b-during-transfer'],
  ])('bridges only once when %s comes before %s', (firstName, secondName) => {
    const first = decideRaw(fixture(firstName));
    const second = fixture(secondName);
    second.Sequence = 5;
    second.CallDetails.TransactionAttributes = first.state;
    second.CallDetails.TransactionAttributes.requestedAt = String(first.state.requestedAt);
    const d = decideRaw(second);
    expect(first.actions).toEqual([bridgeToGeneral]);
    expect(d.actions).toEqual([]);
    expect(d.state.phase).toBe('bridging_human');
  });

  it('records the transfer delay and outcome when the person answers', () => {
    const d = decideRaw(fixture('action-successful-bridge-queue'));
    expect(d.actions).toEqual([]);
    expect(d.state.phase).toBe('human_connected');
    expect(d.metrics).toEqual([
      { metric: 'transfer', outcome: 'connected', reason: 'caller_asked' },
      { metric: 'transferDelay', seconds: (NOW - 1763740860000) / 1000, outcome: 'connected' },
      {
        metric: 'transferHop',
        seconds: (NOW - 1763740860000) / 1000,
        hop: 'bridge_answered',
        outcome: 'reached',
      },
    ]);
  });

  it('hangs up the person when the caller hangs up, and closes the call', () => {
    const d = decideRaw(fixture('hangup-leg-a'));
    expect(d.actions).toEqual([
      { Type: 'Hangup', Parameters: { CallId: 'b-leg-queue-0001', SipResponseCode: '0' } },
    ]);
    expect(d.record).toMatchObject({ Phase: 'ended', Disposition: 'transferred', EndedAt: NOW });
    expect(d.metrics).toEqual([
      { metric: 'activeCalls', delta: -1 },
      { metric: 'callDuration', seconds: (NOW - 1763740800000) / 1000, disposition: 'transferred' },
    ]);
  });

  it('hangs up the caller when the person hangs up', () => {
    const ev = fixture('hangup-leg-a');
    ev.ActionData.Parameters = {
      SipResponseCode: '0',
      CallId: 'b-leg-queue-0001',
      ParticipantTag: 'LEG-B',
    };
    ev.CallDetails.Participants[0].Status = 'Connected';
    ev.CallDetails.Participants[1].Status = 'Disconnected';
    const d = decideRaw(ev);
    expect(d.actions).toEqual([
      { Type: 'Hangup', Parameters: { CallId: LEG_A, SipResponseCode: '0' } },
    ]);
    expect(d.record.Disposition).toBe('transferred');
  });

  it('ends both legs when the agent asks to hang up: the caller first, then the mirror', () => {
    const d = decideRaw(fixture('call-update-requested-hangup'));
    expect(d.actions).toEqual([
      { Type: 'Hangup', Parameters: { CallId: LEG_A, SipResponseCode: '0' } },
    ]);
    const after = fixture('hangup-leg-a');
    after.CallDetails.TransactionAttributes = {
      phase: 'ending',
      useCase: 'city-311',
      end: 'ai_completed',
      aiLeg: AGENT_LEG,
    };
    after.CallDetails.Participants = [
      { ...after.CallDetails.Participants[0], Status: 'Disconnected' },
      {
        CallId: AGENT_LEG,
        ParticipantTag: 'LEG-B',
        To: '+12025550132',
        From: CALLER,
        Direction: 'Outbound',
        StartTimeInMilliseconds: '1763740800900',
        Status: 'Connected',
      },
    ];
    const end = decideRaw(after);
    expect(end.actions).toEqual([
      { Type: 'Hangup', Parameters: { CallId: AGENT_LEG, SipResponseCode: '0' } },
    ]);
    expect(end.record.Disposition).toBe('ai_completed');
  });

  it('hangs up the agent leg when the caller hangs up while talking to the agent', () => {
    const ev = fixture('hangup-leg-a');
    ev.CallDetails.TransactionAttributes = {
      phase: 'ai_connected',
      useCase: 'city-311',
      aiLeg: AGENT_LEG,
    };
    ev.CallDetails.Participants[1] = { ...ev.CallDetails.Participants[1], CallId: AGENT_LEG };
    const d = decideRaw(ev);
    expect(d.actions).toEqual([
      { Type: 'Hangup', Parameters: { CallId: AGENT_LEG, SipResponseCode: '0' } },
    ]);
    expect(d.record.Disposition).toBe('ai_completed');
  });

  it('does nothing for a caller hang-up of a call already ended', () => {
    const ev = fixture('hangup-leg-a');
    ev.CallDetails.TransactionAttributes = { phase: 'ended', useCase: 'city-311' };
    const d = decideRaw(ev);
    expect(d.actions).toEqual([]);
    expect(d.metrics).toEqual([]);
  });

  it('counts an abandoned transfer when the caller hangs up while the queue rings', () => {
    const ev = fixture('hangup-leg-a');
    ev.CallDetails.TransactionAttributes = {
      ...ev.CallDetails.TransactionAttributes,
      phase: 'bridging_human',
    };
    ev.CallDetails.Participants = [ev.CallDetails.Participants[0]];
    const d = decideRaw(ev);
    expect(d.actions).toEqual([]);
    expect(d.record).toMatchObject({ Disposition: 'abandoned', TransferOutcome: 'abandoned' });
    expect(d.metrics).toContainEqual({
      metric: 'transfer',
      outcome: 'abandoned',
      reason: 'caller_asked',
    });
  });
});

describe('decide: outbound calls', () => {
  it('waits for the answer of a call it placed, remembering the named use case', () => {
    const d = decideRaw(fixture('new-outbound-call'));
    expect(d.actions).toEqual([]);
    expect(d.state).toEqual({ phase: 'dialing', useCase: 'city-311' });
    expect(d.record).toMatchObject({ Direction: 'outbound', CallerNumber: '+12065550100' });
  });

  it('refuses an unknown use case in the outbound arguments and falls back to the number', () => {
    const ev = fixture('new-outbound-call');
    ev.ActionData.Parameters.Arguments.useCase = 'no-such-line';
    const d = decideRaw(ev);
    expect(d.state.useCase).toBe('city-311');
    expect(d.notes.map((n) => n.reason)).toContain('unknown_use_case');
  });

  it('does nothing while ringing', () => {
    expect(decideRaw(fixture('ringing')).actions).toEqual([]);
  });

  it('hangs up at the answer a call placed for a use case that allows no outbound calls', () => {
    const shipped = { ...testConfig(), useCases: testUseCases({ shipped: true }) };
    const d = decideRaw(fixture('call-answered'), NOW, shipped);
    expect(d.actions).toEqual([expect.objectContaining({ Type: 'Hangup' })]);
    expect(d.actions.some((a) => a.Type === 'CallAndBridge')).toBe(false);
    expect(d.state).toMatchObject({ phase: 'ending', end: 'refused' });
    expect(d.metrics).toEqual([]);
    expect(d.notes.map((n) => n.reason)).toEqual(['outbound_not_allowed']);
  });

  it('bridges the answered callee to the agent with our number as caller id', () => {
    const d = decideRaw(fixture('call-answered'));
    expect(d.actions).toEqual([
      expect.objectContaining({
        Type: 'CallAndBridge',
        Parameters: expect.objectContaining({
          CallerIdNumber: '+12025550131',
          Endpoints: [{ BridgeEndpointType: 'AWS', Arn: TEST_VC_ARN, Uri: '+12025550132' }],
        }),
      }),
    ]);
    expect(d.record.AnsweredAt).toBe(NOW);
    expect(d.metrics).toEqual([{ metric: 'activeCalls', delta: 1 }]);
  });

  it('ignores CALL_ANSWERED for a call already bridged', () => {
    const ev = fixture('call-answered');
    ev.CallDetails.TransactionAttributes = { phase: 'ai_connected', useCase: 'city-311' };
    expect(decideRaw(ev).actions).toEqual([]);
  });
});

describe('decide: events that change nothing', () => {
  it.each(['action-interrupted', 'digits-received'])('answers %s with no actions', (name) => {
    const d = decideRaw(fixture(name));
    expect(d.actions).toEqual([]);
    expect(d.state.phase).toBe('ai_connected');
  });
});
