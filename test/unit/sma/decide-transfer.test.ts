import { describe, expect, it } from 'vitest';
import {
  decideRaw,
  fixture,
  NOW,
  simulateCall,
  testHandler,
  type Json,
} from '../../helpers/sma.js';

const AGENT_LEG = 'b-leg-agent-0001';
const AGENT_TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const REQUESTED_AT = 1763740860000;

const hangup = (callId: string) => ({
  Type: 'Hangup',
  Parameters: { CallId: callId, SipResponseCode: '0' },
});
const bridgeTo = (number: string) => ({
  Type: 'CallAndBridge',
  Parameters: {
    CallTimeoutSeconds: 30,
    CallerIdNumber: '+12065550100',
    Endpoints: [{ BridgeEndpointType: 'PSTN', Uri: number }],
  },
});

/** The agent's transfer request of the fixture, with `changes` to its arguments. */
function transferRequest(changes: Record<string, string>, attrs?: Record<string, string>): Json {
  const ev = fixture('call-update-requested-transfer');
  Object.assign(ev.ActionData.Parameters.Arguments, changes);
  if (attrs) ev.CallDetails.TransactionAttributes = attrs;
  return ev;
}

describe('decide: reason codes are a closed set', () => {
  it.each(['caller_is_angry', '+15551234567', 'state_lost', ''])(
    'reads the agent reason %j as unspecified in state, record, notes and span',
    (reason) => {
      const d = decideRaw(transferRequest({ reason }));
      expect(d).toEqual({
        actions: [hangup(AGENT_LEG)],
        state: {
          phase: 'transfer_pending',
          useCase: 'city-311',
          aiLeg: AGENT_LEG,
          queue: 'general',
          reason: 'unspecified',
          requestedAt: REQUESTED_AT,
          agentTrace: AGENT_TRACE,
          target: 'primary',
        },
        record: {
          Phase: 'transfer_pending',
          TransferInProgress: true,
          TransferQueue: 'general',
          TransferReason: 'unspecified',
          TransferRequestedAt: REQUESTED_AT,
          PendingTransferToPstn: '+12025550140',
        },
        metrics: [
          {
            metric: 'transferHop',
            seconds: (NOW - REQUESTED_AT) / 1000,
            hop: 'update_accepted',
            outcome: 'reached',
          },
        ],
        notes: [
          {
            level: 'info',
            msg: 'transfer requested',
            reason: 'unspecified',
            fields: { queue: 'general' },
          },
        ],
        transfer: {
          step: 'requested',
          queue: 'general',
          reason: 'unspecified',
          target: 'primary',
          agentTraceparent: AGENT_TRACE,
        },
      });
    },
  );

  it('counts a transfer whose stored reason is outside the set as unspecified', () => {
    const ev = fixture('action-successful-bridge-queue');
    ev.CallDetails.TransactionAttributes.reason = '+15551234567';
    const d = decideRaw(ev);
    expect(d).toEqual({
      actions: [],
      state: {
        phase: 'human_connected',
        useCase: 'city-311',
        aiLeg: AGENT_LEG,
        queue: 'general',
        reason: 'unspecified',
        requestedAt: REQUESTED_AT,
        target: 'primary',
      },
      record: {
        Phase: 'human_connected',
        HumanConnectedAt: NOW,
        AnsweredAt: NOW,
        TransferInProgress: false,
        PendingTransferToPstn: null,
        TransferOutcome: 'connected',
      },
      metrics: [
        { metric: 'transfer', outcome: 'connected', reason: 'unspecified' },
        { metric: 'transferDelay', seconds: (NOW - REQUESTED_AT) / 1000, outcome: 'connected' },
        {
          metric: 'transferHop',
          seconds: (NOW - REQUESTED_AT) / 1000,
          hop: 'bridge_answered',
          outcome: 'reached',
        },
      ],
      notes: [{ level: 'info', msg: 'person connected', reason: 'connected' }],
      transfer: {
        step: 'completed',
        outcome: 'connected',
        queue: 'general',
        reason: 'unspecified',
        target: 'primary',
        agentTraceparent: undefined,
      },
    });
  });

  it('puts no value of the event in a note reason when a queue does not answer', () => {
    const ev = fixture('action-failed-bridge-queue');
    ev.ActionData.ErrorType = 'caller_is_angry';
    const d = decideRaw(ev);
    expect(d.notes).toEqual([
      {
        level: 'warn',
        msg: 'queue did not answer; trying fallback',
        reason: 'queue_bridge_failed',
        fields: { errorType: 'caller_is_angry' },
      },
    ]);
  });

  it('labels voice.transfers unspecified when a phone number is sent as reason', async () => {
    const { handler, metrics } = testHandler();
    const sim = simulateCall(
      {
        transactionId: '0d7c1b2a-3e4f-4a5b-8c9d-0e1f2a3b4c5d',
        smaId: 'sma-1',
        region: 'us-east-1',
        accountId: '111122223333',
      },
      handler,
    );
    await sim.startInbound();
    await sim.update({
      action: 'transfer',
      queue: 'general',
      reason: '+15551234567',
      token: sim.callToken ?? '',
    });
    expect(sim.transactionAttributes).toMatchObject({
      phase: 'human_connected',
      reason: 'unspecified',
    });
    const transfers = (await metrics.read()).get('voice.transfers')!;
    expect(transfers.dataPoints.map((p) => p.attributes)).toEqual([
      { outcome: 'connected', reason: 'unspecified', use_case: 'city-311' },
    ]);
  });
});

describe('decide: the transfer step each decision reports', () => {
  it('reports requested when the agent leg is hung up for a transfer', () => {
    expect(decideRaw(fixture('call-update-requested-transfer')).transfer).toEqual({
      step: 'requested',
      queue: 'general',
      reason: 'caller_asked',
      target: 'primary',
      agentTraceparent: AGENT_TRACE,
    });
  });

  it('reports requested when the caller is bridged at once (agent leg already gone)', () => {
    const ev = fixture('call-update-requested-transfer');
    ev.CallDetails.Participants[1].Status = 'Disconnected';
    const d = decideRaw(ev);
    expect(d.actions).toEqual([bridgeTo('+12025550140')]);
    expect(d.transfer).toMatchObject({ step: 'requested', queue: 'general', target: 'primary' });
  });

  it('reports a counted refusal when the queue is not one of the use case', () => {
    const d = decideRaw(transferRequest({ queue: '+12025559999' }));
    expect(d.transfer).toEqual({
      step: 'refused',
      outcome: 'refused',
      queue: undefined,
      reason: 'invalid_queue',
      target: undefined,
      agentTraceparent: AGENT_TRACE,
    });
    expect(d.metrics).toEqual([
      { metric: 'transfer', outcome: 'refused', reason: 'invalid_queue' },
      {
        metric: 'transferHop',
        seconds: (NOW - REQUESTED_AT) / 1000,
        hop: 'update_accepted',
        outcome: 'refused',
      },
    ]);
  });

  it('reports an uncounted refusal when a transfer is already in progress', () => {
    const d = decideRaw(
      transferRequest(
        {},
        {
          phase: 'transfer_pending',
          useCase: 'city-311',
          queue: 'general',
          reason: 'caller_asked',
        },
      ),
    );
    expect(d.transfer).toEqual({
      step: 'refused',
      queue: 'general',
      reason: 'caller_asked',
      target: undefined,
      agentTraceparent: AGENT_TRACE,
    });
    expect(d.metrics).toEqual([]);
  });

  it('reports bridging when the agent leg is gone and the queue is dialed', () => {
    expect(decideRaw(fixture('hangup-leg-b-during-transfer')).transfer).toEqual({
      step: 'bridging',
      queue: 'general',
      reason: 'caller_asked',
      target: 'primary',
      agentTraceparent: undefined,
    });
  });

  it('reports bridging to the fallback when the queue does not answer', () => {
    expect(decideRaw(fixture('action-failed-bridge-queue')).transfer).toMatchObject({
      step: 'bridging',
      target: 'fallback',
    });
  });

  it('reports bridging when the caller goes to a person because the agent did not answer', () => {
    expect(decideRaw(fixture('action-failed-bridge-agent')).transfer).toEqual({
      step: 'bridging',
      queue: 'general',
      reason: 'agent_unavailable',
      target: 'primary',
      agentTraceparent: undefined,
    });
  });

  it('reports completed (connected) when the person answers', () => {
    expect(decideRaw(fixture('action-successful-bridge-queue')).transfer).toMatchObject({
      step: 'completed',
      outcome: 'connected',
      reason: 'caller_asked',
    });
  });

  it('reports completed (failed) when no one answers and the caller hears the apology', () => {
    const ev = fixture('action-failed-bridge-queue');
    ev.CallDetails.TransactionAttributes.target = 'fallback';
    ev.ActionData.Parameters.Endpoints[0].Uri = '+12025550141';
    expect(decideRaw(ev).transfer).toMatchObject({
      step: 'completed',
      outcome: 'failed',
      target: 'fallback',
    });
  });

  it('reports completed (abandoned) when the caller hangs up while the queue rings', () => {
    const ev = fixture('hangup-leg-a');
    ev.CallDetails.TransactionAttributes.phase = 'bridging_human';
    ev.CallDetails.Participants = [ev.CallDetails.Participants[0]];
    expect(decideRaw(ev).transfer).toMatchObject({ step: 'completed', outcome: 'abandoned' });
  });

  it.each([
    'new-inbound-call',
    'action-successful-bridge-agent',
    'call-update-requested-hangup',
    'action-successful-hangup-leg-b',
  ])('reports no step for %s when it moves no transfer on', (name) => {
    const ev = fixture(name);
    if (name === 'action-successful-hangup-leg-b') {
      ev.CallDetails.TransactionAttributes.phase = 'bridging_human';
    }
    expect(decideRaw(ev).transfer).toBeUndefined();
  });

  it('reports no step for the second of the two events after the agent leg is hung up', () => {
    const ev = fixture('hangup-leg-b-during-transfer');
    ev.CallDetails.TransactionAttributes.phase = 'bridging_human';
    const d = decideRaw(ev);
    expect(d.actions).toEqual([]);
    expect(d.transfer).toBeUndefined();
  });
});

describe('decide: the hop a failed transfer failed at (voice.call.transfer_hop outcome)', () => {
  const hops = (d: ReturnType<typeof decideRaw>) =>
    d.metrics.filter((m) => m.metric === 'transferHop');
  const seconds = (NOW - REQUESTED_AT) / 1000;

  it('records bridge_answered as fallback when the queue does not answer and its fallback is dialled', () => {
    const d = decideRaw(fixture('action-failed-bridge-queue'));
    expect(d.transfer).toMatchObject({ step: 'bridging', target: 'fallback' });
    expect(hops(d)).toEqual([
      { metric: 'transferHop', seconds, hop: 'bridge_answered', outcome: 'fallback' },
    ]);
  });

  it('records bridge_answered as failed when the fallback does not answer either (the apology)', () => {
    const ev = fixture('action-failed-bridge-queue');
    ev.CallDetails.TransactionAttributes.target = 'fallback';
    ev.ActionData.Parameters.Endpoints[0].Uri = '+12025550141';
    const d = decideRaw(ev);
    expect(d.transfer).toMatchObject({ outcome: 'failed' });
    expect(hops(d)).toEqual([
      { metric: 'transferHop', seconds, hop: 'bridge_answered', outcome: 'failed' },
    ]);
  });

  it('records the hop the caller hung up during as abandoned', () => {
    const ringing = fixture('hangup-leg-a');
    ringing.CallDetails.TransactionAttributes.phase = 'bridging_human';
    ringing.CallDetails.Participants = [ringing.CallDetails.Participants[0]];
    expect(hops(decideRaw(ringing))).toEqual([
      { metric: 'transferHop', seconds, hop: 'bridge_answered', outcome: 'abandoned' },
    ]);
    const waiting = fixture('hangup-leg-a');
    waiting.CallDetails.TransactionAttributes.phase = 'transfer_pending';
    waiting.CallDetails.Participants = [waiting.CallDetails.Participants[0]];
    expect(hops(decideRaw(waiting))).toEqual([
      { metric: 'transferHop', seconds, hop: 'ai_leg_down', outcome: 'abandoned' },
    ]);
  });

  it('records reached hops only, once, when the person answers', () => {
    const d = decideRaw(fixture('action-successful-bridge-queue'));
    expect(hops(d)).toEqual([
      { metric: 'transferHop', seconds, hop: 'bridge_answered', outcome: 'reached' },
    ]);
  });

  it('records no hop for a refusal that is not counted (a transfer already in progress)', () => {
    const d = decideRaw(
      transferRequest(
        {},
        {
          phase: 'transfer_pending',
          useCase: 'city-311',
          queue: 'general',
          reason: 'caller_asked',
        },
      ),
    );
    expect(hops(d)).toEqual([]);
  });
});
