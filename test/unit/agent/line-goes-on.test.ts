// A caller's line that goes on after the turn ended in a pause (agent/line-goes-on.ts): speech heard
// within TURN_TIMING.goesOnWithinMs of the reply's first frame cuts the reply off, on a little of
// that speech, and joins the caller's two parts, for the model and the call's history; a later
// interruption, a reply heard out, or a tool between keep them apart.
import { initializeLogger, llm, voice } from '@livekit/agents';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCallAgent } from '../../../agent/call-agent.js';
import { readCallContext } from '../../../agent/call-context.js';
import { DialogueLLM, turnsOf } from '../../../agent/dialogue/dialogue-llm.js';
import { Lines, nextReply } from '../../../agent/dialogue/engine.js';
import { followReplies, joinLineGoneOn, lineGoneOn } from '../../../agent/line-goes-on.js';
import { TURN_TIMING } from '../../../agent/turn-timing.js';
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
    expect(lineGoneOn(items, TURN_TIMING.goesOnWithinMs - 1)).toEqual({ head, cutOff: reply });
    // Heard before the reply's first frame was reported (the two events race).
    expect(lineGoneOn(items, -20)).toEqual({ head, cutOff: reply });
  });

  it('keeps an interruption that may answer the reply a line of its own', () => {
    const { items } = conversation();
    expect(lineGoneOn(items, TURN_TIMING.goesOnWithinMs)).toBeUndefined();
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
    const session = sessionAfter(items, TURN_TIMING.goesOnWithinMs + 100);
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

describe("a reply's first moments", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  /** A session with barge-in as the agent's sessions have it, following its replies. */
  function replying(items: llm.ChatItem[], interruptions = true) {
    const session = new voice.AgentSession({
      llm: new DialogueLLM(useCase),
      turnHandling: { interruption: { enabled: interruptions, mode: 'vad' } },
    });
    followReplies(session);
    for (const item of items) session.history.insert(item);
    const minimum = () => session.sessionOptions.turnHandling.interruption.minDuration;
    const agent = (from: voice.AgentState, to: voice.AgentState, at: number) =>
      session.emit(
        voice.AgentSessionEventTypes.AgentStateChanged,
        voice.createAgentStateChangedEvent(from, to, at),
      );
    const caller = (at: number) =>
      session.emit(
        voice.AgentSessionEventTypes.UserStateChanged,
        voice.createUserStateChangedEvent('listening', 'speaking', at),
      );
    return { session, minimum, agent, caller };
  }
  const callerLine = () => [message('assistant', useCase.greeting), message('user', 'My trash.')];

  it("pauses a reply to the caller's line on a little speech, in its window only", () => {
    const r = replying(callerLine());
    const framework = r.minimum();
    expect(framework).toBe(500);
    r.agent('thinking', 'speaking', 1000);
    expect(r.minimum()).toBe(TURN_TIMING.goesOnInterruptMs);
    vi.advanceTimersByTime(TURN_TIMING.goesOnWithinMs - 1);
    expect(r.minimum()).toBe(TURN_TIMING.goesOnInterruptMs);
    vi.advanceTimersByTime(1);
    // The caller did not speak in the window: what they say now may answer the reply.
    expect(r.minimum()).toBe(framework);
  });

  it('keeps it for a caller who began in the window, until the reply stops', () => {
    const r = replying(callerLine());
    r.agent('thinking', 'speaking', 1000);
    r.caller(1000 + TURN_TIMING.goesOnWithinMs - 50);
    vi.advanceTimersByTime(TURN_TIMING.goesOnWithinMs + 200);
    expect(r.minimum()).toBe(TURN_TIMING.goesOnInterruptMs);
    r.agent('speaking', 'listening', 1700);
    expect(r.minimum()).toBe(500);
    // The next reply opens a window of its own, and a closed session gives the option back.
    r.agent('thinking', 'speaking', 3000);
    expect(r.minimum()).toBe(TURN_TIMING.goesOnInterruptMs);
    r.session.emit(voice.AgentSessionEventTypes.Close, voice.createCloseEvent('user_initiated'));
    expect(r.minimum()).toBe(500);
  });

  it('leaves the greeting, a reply after a tool and a use case without barge-in alone', () => {
    const greeting = replying([]);
    greeting.agent('initializing', 'speaking', 1000);
    expect(greeting.minimum()).toBe(500);

    const call = llm.FunctionCall.create({ callId: 'c1', name: 'transfer_to_human', args: '{}' });
    const output = llm.FunctionCallOutput.create({ callId: 'c1', output: 'ok', isError: false });
    const afterTool = replying([...callerLine(), call, output]);
    afterTool.agent('thinking', 'speaking', 1000);
    expect(afterTool.minimum()).toBe(500);

    const noBargeIn = replying(callerLine(), false);
    noBargeIn.agent('thinking', 'speaking', 1000);
    expect(noBargeIn.minimum()).toBe(500);
  });

  it('counts a caller already speaking as the reply starts as going on at once', () => {
    const items = [...conversation().items];
    const r = replying(items.slice(0, 2));
    Object.defineProperty(r.session, 'userState', { get: () => 'speaking' });
    r.agent('thinking', 'speaking', 1000);
    r.session.history.insert(items[2]!);
    expect(joinLineGoneOn(r.session, new llm.ChatContext([...items]), message('user', 'x'))).toBe(
      true,
    );
  });
});
