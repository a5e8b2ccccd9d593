// leave_message with the queue's status: the framework's own session (text only), the local
// dialogue engine, call control through the real AWS SDK client to the Voice API stand-in. Where
// the use case takes messages, a busy or closed team's offer names the message, and a caller who
// says they will leave one is handed to the SMA's voicemail (action=voicemail, with the call's
// token, nothing else); an update Chime refuses leaves the caller with the agent, told so.
import { describe, expect, it } from 'vitest';
import { readCallContext, type CallContext } from '../../../agent/call-context.js';
import { Lines, nextReply } from '../../../agent/dialogue/engine.js';
import type { QueueStatus } from '../../../agent/queue-status/status.js';
import { ToolOutcome } from '../../../agent/tools/outcome.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import {
  agentSessions,
  CALL_TOKEN,
  queueLookup,
  smaCallAttrs,
} from '../../helpers/agent-session.js';
import { calls, outputs, said } from '../../helpers/session-events.js';
import { USE_CASES_JSON, type Json } from '../../helpers/sma.js';

function useCasesWith(voicemail: boolean) {
  const file = structuredClone(USE_CASES_JSON) as Json;
  const uc = file.useCases.find((u: Json) => u.id === 'city-311');
  if (voicemail) uc.voicemail = { enabled: true };
  return parseUseCases(file);
}
const TX = '6f1c2d3e-1111-4222-8333-944455566679';
const GONE_TX = '6f1c2d3e-1111-4222-8333-944455566670';
const agents = agentSessions((tx) => tx === TX);

const startSession = (call: CallContext, status: Partial<QueueStatus>) =>
  agents.start(call, { handoff: { queues: queueLookup(status).queues } });
const called = (events: Json[]) => calls(events).map((c) => c.name);

describe('leave_message', () => {
  it('is offered when the team is closed, and a voicemail answer hands the caller to the SMA', async () => {
    const call = readCallContext(smaCallAttrs(TX), useCasesWith(true));
    const { session } = await startSession(call, { open: false });
    const asked = await session.run({ userInput: 'can I talk to a person' }).wait();
    expect(said(asked.events)).toEqual([
      'The 311 customer service team is closed right now. ' +
        'Would you like to have someone call you back, or leave a message?',
    ]);
    const left = await session.run({ userInput: "I'll leave a voicemail" }).wait();
    expect(called(left.events)).toEqual(['leave_message']);
    expect(outputs(left.events)[0]).toMatch(new RegExp(`^${ToolOutcome.messageStarted}`));
    // Only the action, its reason, the time and the call's token: nothing names where it goes.
    expect(agents.updates()).toHaveLength(1);
    expect(Object.keys(agents.updates()[0]!).sort()).toEqual(
      ['action', 'reason', 'requestedAt', 'token'].sort(),
    );
    expect(agents.updates()[0]).toMatchObject({
      action: 'voicemail',
      reason: 'caller_asked',
      token: CALL_TOKEN,
    });
  });

  it('is offered with hold and a callback when the queue is busy', async () => {
    const call = readCallContext(smaCallAttrs(TX), useCasesWith(true));
    const { session } = await startSession(call, { contactsInQueue: 4, oldestContactAgeS: 230 });
    const asked = await session.run({ userInput: 'I want to talk to a person' }).wait();
    expect(said(asked.events)).toEqual([
      'Someone from the 311 customer service team can take your call in about four minutes. ' +
        'Would you like to hold, have someone call you back, or leave a message?',
    ]);
    const left = await session.run({ userInput: 'I would like to leave a message' }).wait();
    expect(called(left.events)).toEqual(['leave_message']);
    expect(agents.updates().map((u) => u.action)).toEqual(['voicemail']);
  });

  it('says so and keeps helping when Chime refuses the update', async () => {
    const call = readCallContext(smaCallAttrs(GONE_TX), useCasesWith(true));
    const { session } = await startSession(call, { open: false });
    await session.run({ userInput: 'can I talk to a person' }).wait();
    const left = await session.run({ userInput: 'leave a message please' }).wait();
    expect(outputs(left.events)[0]).toMatch(new RegExp(`^${ToolOutcome.messageFailed}`));
    expect(said(left.events)).toEqual([Lines.messageFailed]);
    expect(agents.api.requests.at(-1)!.status).toBe(404);
  });

  it('is neither offered nor a tool where the use case takes no messages', async () => {
    const call = readCallContext(smaCallAttrs(TX), useCasesWith(false));
    const { session, agent } = await startSession(call, { open: false });
    expect(Object.keys(agent.toolCtx)).not.toContain('leave_message');
    const asked = await session.run({ userInput: 'can I talk to a person' }).wait();
    expect(said(asked.events)[0]).not.toMatch(/message/);
    const left = await session.run({ userInput: "I'll leave a voicemail" }).wait();
    expect(called(left.events)).not.toContain('leave_message');
    expect(agents.updates()).toEqual([]);
  });
});

describe('the engine at the offer', () => {
  const useCase = useCasesWith(true).byIdOrUndefined('city-311')!;
  const offer = [
    { role: 'user' as const, text: 'can I talk to a person' },
    {
      role: 'tool' as const,
      text: 'queue_closed: queue=general. Say: "The team is closed right now. Would you like to have someone call you back, or leave a message?"',
    },
    {
      role: 'assistant' as const,
      text: 'The team is closed right now. Would you like to have someone call you back, or leave a message?',
    },
  ];
  it.each([
    'leave a message',
    "I'll leave a voicemail",
    'voice mail please',
    'can I just leave a message',
    'a message is fine',
  ])('takes "%s" as a message', (text) => {
    expect(nextReply(useCase, [...offer, { role: 'user', text }])).toEqual({
      kind: 'tool',
      name: 'leave_message',
      args: {},
    });
  });

  it('takes a yes for neither when both are offered: the caller is asked again', () => {
    for (const text of ['yes', 'yes please', 'sure']) {
      const reply = nextReply(useCase, [...offer, { role: 'user', text }]);
      expect(reply, text).not.toMatchObject({ kind: 'tool' });
    }
  });

  it('takes a plain yes, or any "… me back", as the callback when only a callback is offered', () => {
    const callbackOnly = useCasesWith(false).byIdOrUndefined('city-311')!;
    const sentence = 'The team is closed right now. Would you like to have someone call you back?';
    const offered = [
      offer[0]!,
      { role: 'tool' as const, text: `queue_closed: queue=general. Say: "${sentence}"` },
      { role: 'assistant' as const, text: sentence },
    ];
    for (const text of [
      'yes please',
      'yes',
      'please crawl me back',
      'get back to me',
      'call me back',
    ])
      expect(nextReply(callbackOnly, [...offered, { role: 'user', text }]), text).toEqual({
        kind: 'tool',
        name: 'request_callback',
        args: { queue: 'general' },
      });
    for (const text of ['no', 'yes but not now', 'what are your hours'])
      expect(nextReply(callbackOnly, [...offered, { role: 'user', text }]), text).not.toMatchObject(
        { name: 'request_callback' },
      );
  });

  it('takes a callback as a callback, and a message only right after the offer', () => {
    expect(nextReply(useCase, [...offer, { role: 'user', text: 'call me back' }])).toMatchObject({
      name: 'request_callback',
    });
    expect(
      nextReply(useCase, [{ role: 'user', text: 'I want to leave a message' }]),
    ).not.toMatchObject({ name: 'leave_message' });
  });
});
