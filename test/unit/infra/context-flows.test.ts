// The queue-entry and agent whisper flows of the context hand-off, written out in the flow
// language, parsed back and checked as graphs, and read for what they do.
import { describe, expect, it } from 'vitest';
import { ConnectContextAttribute } from '../../../contracts/handoff-context.js';
import {
  agentWhisperFlow,
  QUEUE_FLOW_BLOCKS,
  queueEntryFlow,
  WHISPER_FLOW_BLOCKS,
} from '../../../infra/connect/context-flows.js';
import { FlowContent, flowProblems, type FlowAction } from '../../../infra/connect/flow.js';

const config = {
  contextFunctionArn: 'arn:aws:lambda:us-east-1:111122223333:function:callbridge-connect-context',
  queueArn:
    'arn:aws:connect:us-east-1:111122223333:instance/aaaaaaaa-0311-4000-8000-000000000001/queue/bbbbbbbb-0311-4000-8000-000000000150',
  whisperFlowArn:
    'arn:aws:connect:us-east-1:111122223333:instance/aaaaaaaa-0311-4000-8000-000000000001/contact-flow/cccccccc-0311-4000-8000-000000000001',
  apology: "We're sorry, we can't take your call right now.",
};

/** As Connect would read it: the JSON parsed back. */
const roundTrip = (f: FlowContent) => FlowContent.parse(JSON.parse(JSON.stringify(f)));
const action = (flow: FlowContent, id: string): FlowAction =>
  flow.Actions.find((a) => a.Identifier === id)!;
const errorTargets = (flow: FlowContent, id: string) =>
  Object.fromEntries(
    (action(flow, id).Transitions.Errors ?? []).map((e) => [e.ErrorType, e.NextAction]),
  );

describe('queue-entry flow', () => {
  const flow = roundTrip(queueEntryFlow(config));
  const b = QUEUE_FLOW_BLOCKS;

  it('is a graph with every block reachable and every error handled', () => {
    expect(flowProblems(flow)).toEqual([]);
  });

  it('invokes the Lambda first, for a string map, within Connect’s 8 s', () => {
    expect(flow.StartAction).toBe(b.lookup);
    const p = action(flow, b.lookup).Parameters;
    expect(p).toMatchObject({
      LambdaFunctionARN: config.contextFunctionArn,
      ResponseValidation: { ResponseType: 'STRING_MAP' },
    });
    expect(Number(p['InvocationTimeLimitSeconds'])).toBeGreaterThan(0);
    expect(Number(p['InvocationTimeLimitSeconds'])).toBeLessThanOrEqual(8);
  });

  it('copies exactly the contract’s attributes, then sets the whisper and queues the caller', () => {
    const attrs = action(flow, b.keep).Parameters['Attributes'] as Record<string, string>;
    expect(Object.keys(attrs).sort()).toEqual(Object.values(ConnectContextAttribute).sort());
    for (const [k, v] of Object.entries(attrs)) expect(v).toBe(`$.External.${k}`);
    expect(action(flow, b.whisper).Parameters).toEqual({
      EventHooks: { AgentWhisper: config.whisperFlowArn },
    });
    expect(action(flow, b.setQueue).Parameters).toEqual({ QueueId: config.queueArn });
    expect(action(flow, b.setQueue).Transitions.NextAction).toBe(b.toQueue);
  });

  it('queues the caller without context when the lookup or the attributes fail', () => {
    expect(errorTargets(flow, b.lookup)).toEqual({ NoMatchingError: b.setQueue });
    expect(errorTargets(flow, b.keep)).toEqual({ NoMatchingError: b.setQueue });
    expect(errorTargets(flow, b.whisper)).toEqual({ NoMatchingError: b.setQueue });
    expect(errorTargets(flow, b.toQueue)).toEqual({
      QueueAtCapacity: b.apology,
      NoMatchingError: b.apology,
    });
  });

  it('a flow that forgot an error branch is caught', () => {
    const broken = roundTrip(queueEntryFlow(config));
    action(broken, b.lookup).Transitions.Errors = [];
    expect(flowProblems(broken)).toEqual([`${b.lookup}: error NoMatchingError is not handled`]);
  });
});

describe('agent whisper flow', () => {
  const flow = roundTrip(agentWhisperFlow());
  const b = WHISPER_FLOW_BLOCKS;

  it('is a graph with every block reachable and every error handled', () => {
    expect(flowProblems(flow)).toEqual([]);
  });

  it('says the whisper only when the contact has context', () => {
    const check = action(flow, b.check);
    expect(check.Parameters).toEqual({
      ComparisonValue: `$.Attributes.${ConnectContextAttribute.found}`,
    });
    expect(check.Transitions.Conditions).toEqual([
      { NextAction: b.say, Condition: { Operator: 'Equals', Operands: ['true'] } },
    ]);
    expect(errorTargets(flow, b.check)).toEqual({ NoMatchingCondition: b.end });
    expect(action(flow, b.say).Parameters).toEqual({
      Text: `$.Attributes.${ConnectContextAttribute.whisper}`,
    });
  });

  it('a comparison with no conditions, or one to a missing block, is caught', () => {
    const broken = roundTrip(agentWhisperFlow());
    action(broken, b.check).Transitions.Conditions = [];
    expect(flowProblems(broken)).toEqual([
      `${b.check}: has no Conditions`,
      `${b.say}: unreachable`,
    ]);
    const lost = roundTrip(agentWhisperFlow());
    action(lost, b.check).Transitions.Conditions![0]!.NextAction = 'nowhere';
    expect(flowProblems(lost)).toContain(`${b.check}: goes to unknown nowhere`);
  });
});
