// How the lab's timeline words an SMA invocation and the agent's UpdateSipMediaApplicationCall:
// the Arguments read as the SMA handler reads them.
import { describe, expect, it } from 'vitest';
import { toCallUpdateArguments } from '../../../contracts/call-update.js';
import {
  describeStep,
  describeTurn,
  describeUpdate,
  updateOf,
} from '../../../lab/caller/timeline-text.js';

const transfer = toCallUpdateArguments({
  action: 'transfer',
  queue: 'billing',
  reason: 'caller_asked',
  requestedAt: 1_763_740_862_000,
  traceparent: '00-7d2f6a3c1b4e4c8a9f0d2e5b6c7d8e9f-9f0d2e5b6c7d8e9f-01',
  // Never in the timeline: the descriptions below would show it.
  token: 'v1.1763744462.the-call-token-of-the-call',
});

describe('timeline text', () => {
  it('words a transfer request by action, reason and queue, leaving out the trace and the time', () => {
    expect(describeUpdate(updateOf({ Arguments: transfer }))).toBe(
      'action=transfer reason=caller_asked queue=billing',
    );
  });

  it('says when the Arguments are not what the handler can read', () => {
    expect(updateOf({ Arguments: { action: 'dance' } })).toBeUndefined();
    expect(updateOf('not a body')).toBeUndefined();
    expect(describeUpdate(undefined)).toBe('(arguments the handler cannot read)');
  });

  it('words an SMA invocation: the event, its update, and the actions answered', () => {
    const step = {
      sequence: 4,
      type: 'CALL_UPDATE_REQUESTED',
      actionData: { Type: 'CallUpdateRequest', Parameters: { Arguments: transfer } },
      actions: [
        {
          Type: 'CallAndBridge',
          Parameters: { Endpoints: [{ BridgeEndpointType: 'PSTN', Uri: '+15550100200' }] },
        },
        { Type: 'Hangup', Parameters: { ParticipantTag: 'LEG-B' } },
      ],
      atMs: 0,
      attempts: 2,
    };
    expect(describeStep(step)).toBe(
      '#4 CALL_UPDATE_REQUESTED action=transfer reason=caller_asked queue=billing [invoked 2 times]' +
        ' → CallAndBridge PSTN +15550100200, Hangup LEG-B',
    );
  });

  it("words a turn at the ear with the agent's own figure when it is known", () => {
    const none = { inMs: null, outMs: null };
    expect(describeTurn({ earMs: 712, agentMs: 540, ...none })).toBe(
      "the reply, 712 ms after the caller's line ended (the agent's own: 540 ms)",
    );
    expect(describeTurn({ earMs: 712, agentMs: 540, inMs: 90, outMs: 82 })).toBe(
      "the reply, 712 ms after the caller's line ended (the agent's own: 540 ms; in 90 ms, out 82 ms)",
    );
    expect(describeTurn({ earMs: 712, agentMs: null, ...none })).toBe(
      "the reply, 712 ms after the caller's line ended",
    );
    expect(describeTurn({ earMs: null, agentMs: null, ...none })).toMatch(/^no reply/);
  });
});
