// When the caller's turn ends with the dialogue engine (agent/turn-end.ts): the `v1-mini` model's
// "the caller goes on" gives way when the words so far are a complete request the engine
// understands; a fragment, a line it does not understand, or an engine error leave the model's
// answer (docs/decisions/turn-timing.md).
import { EventEmitter } from 'node:events';
import { initializeLogger, llm, voice } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { describe, expect, it } from 'vitest';
import { DialogueLLM } from '../../../agent/dialogue/dialogue-llm.js';
import { Lines, type Turn } from '../../../agent/dialogue/engine.js';
import type { TurnExecutor } from '../../../agent/session-assembly.js';
import { understoodRequest, UnderstoodTurnDetector } from '../../../agent/turn-end.js';
import { TURN_TIMING } from '../../../agent/turn-timing.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { USE_CASES_JSON } from '../../helpers/sma.js';

initializeLogger({ pretty: false, level: 'error' });

const useCase = parseUseCases(USE_CASES_JSON).defaultUseCase;
const user = (text: string): Turn => ({ role: 'user', text });

/** `v1-mini`'s English threshold: under it, the model says the caller goes on. */
const V1_MINI_THRESHOLD = 0.36;

describe('understoodRequest', () => {
  it.each([
    'how do i report a pothole',
    'my garbage was not picked up this week',
    'when is city hall open on saturday',
    'can i talk to a person',
    "no thanks that's all",
  ])('takes %j as a complete request the engine understands', (text) => {
    expect(understoodRequest(useCase, [], text)).toBe(true);
  });

  it.each([
    'i want to report a',
    'my trash was',
    'my trash was not',
    'when is the',
    'i need to',
    'how do i report a pothole and',
    'um',
  ])('takes %j as an unfinished fragment, even where its words match a question', (text) => {
    expect(understoodRequest(useCase, [], text)).toBe(false);
  });

  it('takes a line the engine does not understand as not understood', () => {
    expect(understoodRequest(useCase, [], 'blue sky thinking')).toBe(false);
    expect(understoodRequest(useCase, [], '')).toBe(false);
  });

  it('reads the line in the conversation: a yes is understood after the offer of a person', () => {
    const offered: Turn[] = [user('blue sky'), { role: 'assistant', text: Lines.transferRefused }];
    expect(understoodRequest(useCase, offered, 'yes please')).toBe(true);
    expect(understoodRequest(useCase, [], 'yes please')).toBe(false);
  });
});

/** A `v1-mini` detector whose model answers `probability`, ending understood turns at once. */
function detector(probability: number, understoodEndMs = 0) {
  const executor: TurnExecutor = {
    doInference: async () => ({ probability, inferenceDurationMs: 1 }),
  };
  return new UnderstoodTurnDetector({ version: 'v1-mini', executor, understoodEndMs });
}

/** What the framework does at the end of speech: a prediction, then the threshold to judge it. */
async function decide(
  d: UnderstoodTurnDetector,
  during?: (s: ReturnType<typeof d.stream>) => void,
) {
  const stream = d.stream();
  try {
    stream.pushAudio(new AudioFrame(new Int16Array(1600), 16000, 1, 1600));
    const prediction = await stream.predict().await;
    const pending = stream.unlikelyThreshold(undefined); // Moonshine names no language
    if (during) {
      await new Promise(setImmediate); // the threshold's own lookup done: the hold has begun
      during(stream);
    }
    const threshold = await pending;
    // The framework waits its maximum when the probability is under the threshold.
    return { over: !(prediction.endOfTurnProbability < threshold!), threshold };
  } finally {
    await stream.aclose();
  }
}

describe('UnderstoodTurnDetector', () => {
  it('ends the turn of an understood request though the model says the caller goes on', async () => {
    const d = detector(0.1);
    d.judgeWith(() => true);
    d.heard('how do i report a pothole');
    expect(await decide(d)).toMatchObject({ over: true, threshold: 0 });
  });

  it('leaves the model its "goes on" for a fragment', async () => {
    const d = detector(0.1);
    const judged: string[] = [];
    d.judgeWith((t) => (judged.push(t), false));
    d.heard('i want to');
    expect(await decide(d)).toEqual({ over: false, threshold: V1_MINI_THRESHOLD });
    expect(judged).toEqual(['i want to']);
  });

  it("leaves the model's answer when the engine fails", async () => {
    const d = detector(0.1);
    d.judgeWith(() => {
      throw new Error('engine broke');
    });
    d.heard('how do i report a pothole');
    expect(await decide(d)).toEqual({ over: false, threshold: V1_MINI_THRESHOLD });
  });

  it('asks the engine nothing when the model already says the turn is over', async () => {
    const d = detector(0.9);
    let asked = false;
    d.judgeWith(() => (asked = true));
    d.heard('how do i report a pothole');
    expect(await decide(d)).toEqual({ over: true, threshold: V1_MINI_THRESHOLD });
    expect(asked).toBe(false);
  });

  it('judges the whole turn so far, and starts afresh once the turn ends', async () => {
    const d = detector(0.1);
    const judged: string[] = [];
    d.judgeWith((t) => (judged.push(t), true));
    d.heard('my trash was not picked up');
    d.heard('this week');
    await decide(d); // its stream flushes as it closes: the turn ended
    d.heard('where is city hall');
    await decide(d);
    expect(judged).toEqual(['my trash was not picked up this week', 'where is city hall']);
  });

  it('keeps the turn going when the caller speaks again during the hold', async () => {
    const d = detector(0.1, 60_000);
    d.judgeWith(() => true);
    d.heard('my trash was not picked up');
    // Speech again: the framework cancels the model's request.
    expect(await decide(d, (s) => s.cancelInference())).toEqual({
      over: false,
      threshold: V1_MINI_THRESHOLD,
    });
  });

  it("follows a session's transcripts and asks its dialogue engine, not a cloud model", () => {
    const fakeSession = (model: llm.LLM) => {
      const events = new EventEmitter();
      const session = Object.assign(events, {
        llm: model,
        currentAgent: { llm: undefined },
        history: new llm.ChatContext(),
      });
      return session as unknown as voice.AgentSession;
    };
    const transcribed = (session: voice.AgentSession, transcript: string) =>
      session.emit(
        voice.AgentSessionEventTypes.UserInputTranscribed,
        voice.createUserInputTranscribedEvent({ transcript, isFinal: true }),
      );

    const local = detector(0.1);
    const withEngine = fakeSession(new DialogueLLM(useCase));
    local.follow(withEngine);
    transcribed(withEngine, 'how do i report a pothole');
    expect(local.transcript).toBe('how do i report a pothole');
    expect(local._understood()).toBe(true);

    const cloud = detector(0.1);
    const withCloud = fakeSession(new voice.testing.FakeLLM());
    cloud.follow(withCloud);
    transcribed(withCloud, 'how do i report a pothole');
    expect(cloud._understood()).toBe(false);
  });

  it('judges a line going on past the reply it cut off whole (agent/line-goes-on.ts)', () => {
    const judged = (spokeAfterMs: number) => {
      const session = Object.assign(new EventEmitter(), {
        llm: new DialogueLLM(useCase),
        currentAgent: { llm: undefined },
        history: new llm.ChatContext(),
        sessionOptions: { turnHandling: {} },
      }) as unknown as voice.AgentSession;
      const d = detector(0.1);
      d.follow(session);
      session.history.insert(llm.ChatMessage.create({ role: 'user', content: 'my trash was not' }));
      session.history.insert(
        llm.ChatMessage.create({ role: 'assistant', content: 'Sorry, I', interrupted: true }),
      );
      session.emit(
        voice.AgentSessionEventTypes.AgentStateChanged,
        voice.createAgentStateChangedEvent('thinking', 'speaking', 1000),
      );
      session.emit(
        voice.AgentSessionEventTypes.UserStateChanged,
        voice.createUserStateChangedEvent('listening', 'speaking', 1000 + spokeAfterMs),
      );
      d.heard('picked up this week');
      return d._understood();
    };
    expect(judged(100)).toBe(true);
    // Later in the reply, the caller's words are a line of their own, which means nothing alone.
    expect(judged(TURN_TIMING.goesOnWithinMs + 100)).toBe(false);
  });
});
