// The Connect entry flow, written out in the flow language, parsed back and checked as a graph.
import { beforeAll, describe, expect, it } from 'vitest';
import { ENTRY_FLOW_BLOCKS, entryFlow } from '../../../infra/connect/entry-flow.js';
import { FlowContent, flowProblems, type FlowAction } from '../../../infra/connect/flow.js';
import { deploymentOf, exampleConfig, synthTemplates } from './fixtures.js';

const connectConfig = () => deploymentOf(exampleConfig()).config.connect!;

let deployed: FlowContent;
beforeAll(() => {
  deployed = readDeployedFlow();
});
const deployedFlow = () => structuredClone(deployed);

/** The flow as the stack deploys it, parsed back from its JSON. */
function readDeployedFlow(): FlowContent {
  const t = synthTemplates().templates.connect!;
  // The entry flow; the context hand-off's flows are stacks.test.ts's.
  const flows = Object.entries(t.findResources('AWS::Connect::ContactFlow'))
    .filter(([id]) => id.startsWith('EntryFlow'))
    .map(([, r]) => r);
  expect(flows).toHaveLength(1);
  expect(flows[0]!['Properties']['Type']).toBe('CONTACT_FLOW');
  return FlowContent.parse(JSON.parse(flows[0]!['Properties']['Content'] as string));
}

const action = (flow: FlowContent, id: string): FlowAction =>
  flow.Actions.find((a) => a.Identifier === id)!;

describe('Connect entry flow', () => {
  it('is a graph with every block reachable and every error handled', () => {
    expect(flowProblems(deployedFlow())).toEqual([]);
  });

  it('plays the notice, then forwards to the SMA number without resuming after its end', () => {
    const flow = deployedFlow();
    const c = connectConfig();
    expect(flow.StartAction).toBe(ENTRY_FLOW_BLOCKS.notice);
    expect(action(flow, ENTRY_FLOW_BLOCKS.notice).Parameters).toEqual({ Text: c.notice });
    expect(action(flow, ENTRY_FLOW_BLOCKS.forward).Parameters).toMatchObject({
      ThirdPartyPhoneNumber: c.smaNumber,
      ContinueFlowExecution: 'False',
    });
  });

  it('sends the caller to the fallback queue when the forward fails, and apologises if that fails', () => {
    const flow = deployedFlow();
    const b = ENTRY_FLOW_BLOCKS;
    const errorTargets = (id: string) =>
      Object.fromEntries(
        (action(flow, id).Transitions.Errors ?? []).map((e) => [e.ErrorType, e.NextAction]),
      );
    expect(errorTargets(b.forward)).toEqual({
      CallFailed: b.setQueue,
      ConnectionTimeLimitExceeded: b.setQueue,
      NoMatchingError: b.setQueue,
    });
    expect(action(flow, b.setQueue).Parameters).toEqual({
      QueueId: connectConfig().fallbackQueueArn,
    });
    expect(action(flow, b.setQueue).Transitions.NextAction).toBe(b.toQueue);
    expect(errorTargets(b.toQueue)).toEqual({
      QueueAtCapacity: b.apology,
      NoMatchingError: b.apology,
    });
    expect(action(flow, b.apology).Transitions.NextAction).toBe(b.end);
  });
});

describe('flow checks', () => {
  const base = () => entryFlow(connectConfig());

  it('finds an unhandled error, an unknown target and the blocks no path reaches', () => {
    const flow = base();
    const forward = action(flow, ENTRY_FLOW_BLOCKS.forward);
    forward.Transitions.Errors = forward.Transitions.Errors!.filter(
      (e) => e.ErrorType !== 'CallFailed',
    );
    const notice = action(flow, ENTRY_FLOW_BLOCKS.notice);
    notice.Transitions.NextAction = 'nowhere';
    notice.Transitions.Errors = [
      { ErrorType: 'NoMatchingError', NextAction: ENTRY_FLOW_BLOCKS.end },
    ];
    expect(flowProblems(flow)).toEqual([
      'notice: goes to unknown nowhere',
      'forward-to-callbridge: error CallFailed is not handled',
      'forward-to-callbridge: unreachable',
      'set-fallback-queue: unreachable',
      'to-fallback-queue: unreachable',
      'apology: unreachable',
    ]);
  });

  it('finds a start that is no block and a block used twice', () => {
    const flow = base();
    flow.StartAction = 'missing';
    flow.Actions.push({ ...flow.Actions[0]! });
    const problems = flowProblems(flow);
    expect(problems).toContain('StartAction missing is no action');
    expect(problems).toContain('notice: Identifier used twice');
  });

  it('refuses identifiers the flow language does not allow', () => {
    const flow = base() as { Actions: { Identifier: string }[] };
    flow.Actions[0]!.Identifier = 'a:b';
    expect(FlowContent.safeParse(flow).success).toBe(false);
  });
});
