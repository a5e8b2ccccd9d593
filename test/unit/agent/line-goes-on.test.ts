// A caller's line that goes on after the turn ended in a pause (agent/line-goes-on.ts): speech heard
// within GOES_ON_WITHIN_MS of the reply's first frame cuts the reply off and joins the caller's two
// parts, for the model and the call's history; a later interruption, a reply heard out, or a tool
// between keep them apart.
import { initializeLogger, llm, voice } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import { createCallAgent } from '../../../agent/call-agent.js';
import { readCallContext } from '../../../agent/call-context.js';
import { DialogueLLM, turnsOf } from '../../../agent/dialogue/dialogue-llm.js';
import { Lines, nextReply } from '../../../agent/dialogue/engine.js';
import {
  followReplies,
  GOES_ON_WITHIN_MS,
  joinLineGoneOn,
  lineGoneOn,
} from '../../../agent/line-goes-on.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { silentLogger, USE_CASES_JSON } from '../../helpers/sma.js';

initializeLogger({ pretty: false, level: 'error' });

const useCases = parseUseCases(USE_CASES_JSON);
const useCase = useCases.defaultUseCase;

const message = (role: 'user' | 'assistant', text: string, interrupted = false) =>
  llm.ChatMessage.create({ role, content: text, interrupted });

/** The caller's head, the agent's reply to it (cut off or not), as the chat context holds them. */
function conversation(interrupted = true) {
  const head = message('user', 'My trash was not picked up.');
  const reply = message('assistant', 'Sorry about that. Missed pickups are', interrupted);
  return { head, reply, items: [message('assistant', useCase.greeting), head, reply] };
}

describe('lineGoneOn', () => {
  it('joins a line whose speech came within the window of the reply it cut off', () => {
    const { head, reply, items } = conversation();
    expect(lineGoneOn(items, 0)).toEqual({ head, cutOff: reply });
    expect(lineGoneOn(items, GOES_ON_WITHIN_MS - 1)).toEqual({ head, cutOff: reply });
    // Heard before the reply's first frame was reported (the two events race).
    expect(lineGoneOn(items, -20)).toEqual({ head, cutOff: reply });
  });

  it('keeps an interruption that may answer the reply a line of its own', () => {
    const { items } = conversation();
    expect(lineGoneOn(items, GOES_ON_WITHIN_MS)).toBeUndefined();
    expect(lineGoneOn(items, 2500)).toBeUndefined();
    expect(lineGoneOn(items, undefined)).toBeUndefined();
  });

  it('keeps lines apart around a reply heard out, a tool call, or no line before', () => {
    expect(lineGoneOn(conversation(false).items, 10)).toBeUndefined();
    const { head, reply } = conversation();
    const call = llm.FunctionCall.create({ callId: 'c1', name: 'end_call', args: '{}' });
    expect(lineGoneOn([head, call, reply], 10)).toBeUndefined();
    expect(lineGoneOn([reply], 10)).toBeUndefined();
    expect(lineGoneOn([], 10)).toBeUndefined();
  });
});

/** A session that has heard `items`, its reply starting at 1000 and the caller at 1000 + `after`. */
function sessionAfter(items: llm.ChatItem[], after: number | undefined) {
  const session = new voice.AgentSession({ llm: new DialogueLLM(useCase) });
  followReplies(session);
  for (const item of items) session.history.insert(item);
  session.emit(
    voice.AgentSessionEventTypes.AgentStateChanged,
    voice.createAgentStateChangedEvent('thinking', 'speaking', 1000),
  );
  if (after !== undefined)
    session.emit(
      voice.AgentSessionEventTypes.UserStateChanged,
      voice.createUserStateChangedEvent('listening', 'speaking', 1000 + after),
    );
  return session;
}

describe('joinLineGoneOn', () => {
  it('answers the two parts as one line and keeps one line in the history', () => {
    const { head, reply, items } = conversation();
    const session = sessionAfter(items, 120);
    const turnCtx = new llm.ChatContext([...items]);
    const tail = message('user', 'This week.');
    // Alone, the tail is a line the engine does not understand.
    expect(nextReply(useCase, [...turnsOf(turnCtx), { role: 'user', text: 'This week.' }])).toEqual(
      { kind: 'say', text: Lines.notUnderstood },
    );

    expect(joinLineGoneOn(session, turnCtx, tail)).toBe(true);

    expect(tail.textContent).toBe('My trash was not picked up. This week.');
    expect(turnCtx.items.map((i) => i.id)).toEqual([items[0]!.id]);
    expect(session.history.getById(head.id)).toBeUndefined();
    expect(session.history.getById(reply.id)).toBeUndefined();
    const answer = nextReply(useCase, turnsOf(new llm.ChatContext([...turnCtx.items, tail])));
    expect(answer.kind).toBe('say');
    expect(answer.kind === 'say' && answer.text).toMatch(/pickups/i);
  });

  it('leaves the conversation as it is when the caller spoke later in the reply', () => {
    const { items } = conversation();
    const session = sessionAfter(items, GOES_ON_WITHIN_MS + 100);
    const turnCtx = new llm.ChatContext([...items]);
    const tail = message('user', 'How do I report a pothole?');
    expect(joinLineGoneOn(session, turnCtx, tail)).toBe(false);
    expect(tail.textContent).toBe('How do I report a pothole?');
    expect(turnCtx.items).toHaveLength(3);
    expect(session.history.items).toHaveLength(3);
  });

  it('reads the reply the caller spoke into: a new reply starts the count again', () => {
    const { items } = conversation();
    const session = sessionAfter(items, 50);
    session.emit(
      voice.AgentSessionEventTypes.AgentStateChanged,
      voice.createAgentStateChangedEvent('thinking', 'speaking', 5000),
    );
    expect(joinLineGoneOn(session, new llm.ChatContext([...items]), message('user', 'x'))).toBe(
      false,
    );
  });

  it('is what the call agent does with a caller line before it is answered', async () => {
    const { items } = conversation();
    const session = sessionAfter(items, 80);
    const agent = createCallAgent({
      call: readCallContext({}, useCases),
      control: undefined,
      logger: silentLogger,
      leave: () => undefined,
    });
    Object.defineProperty(agent, 'session', { get: () => session });
    const turnCtx = new llm.ChatContext([...items]);
    const tail = message('user', 'This week.');
    let updated: llm.ChatContext | undefined;
    agent.updateChatCtx = async (ctx) => void (updated = ctx);
    await agent.onUserTurnCompleted(turnCtx, tail);
    expect(tail.textContent).toBe('My trash was not picked up. This week.');
    expect(updated?.items).toHaveLength(1);
  });
});
