// A transfer's hops read from a simulated Chime call's timeline and the caller's ear.
import { describe, expect, it } from 'vitest';
import type { TimelineStep } from '../../../lab/chime/simulated-call.js';
import { transferHopsOf } from '../../../lab/caller/transfer-hops.js';

const T = 1_800_000_000_000;
const step = (
  sequence: number,
  type: string,
  atMs: number,
  actions: TimelineStep['actions'] = [],
  actionData?: Record<string, unknown>,
): TimelineStep => ({ sequence, type, atMs, actions, actionData });
const pstn = [
  {
    Type: 'CallAndBridge',
    Parameters: { Endpoints: [{ BridgeEndpointType: 'PSTN', Uri: '+12025550142' }] },
  },
];

describe('transfer hops in the lab', () => {
  const timeline = [
    step(1, 'NEW_INBOUND_CALL', T - 9000, [{ Type: 'CallAndBridge', Parameters: {} }]),
    step(2, 'ACTION_SUCCESSFUL', T - 8000, [], { Type: 'CallAndBridge' }),
    step(3, 'CALL_UPDATE_REQUESTED', T + 120, [{ Type: 'Hangup', Parameters: {} }]),
    step(4, 'HANGUP', T + 200, pstn),
    step(5, 'ACTION_SUCCESSFUL', T + 210, [], { Type: 'Hangup' }),
    step(6, 'ACTION_SUCCESSFUL', T + 700, [], { Type: 'CallAndBridge' }),
  ];

  it('times each hop from the request', () => {
    expect(transferHopsOf(timeline, T, T + 1100)).toEqual({
      updateAcceptedMs: 120,
      aiLegDownMs: 200,
      bridgeAnsweredMs: 700,
      personHeardMs: 1100,
    });
  });

  it('stops where the transfer did: a bridge that did not answer, no transfer at all', () => {
    expect(transferHopsOf(timeline.slice(0, 4), T, undefined)).toEqual({
      updateAcceptedMs: 120,
      aiLegDownMs: 200,
      bridgeAnsweredMs: null,
      personHeardMs: null,
    });
    expect(transferHopsOf(timeline.slice(0, 2), T, undefined)).toBeNull();
    expect(transferHopsOf(timeline, Number.NaN, undefined)).toBeNull();
  });
});
