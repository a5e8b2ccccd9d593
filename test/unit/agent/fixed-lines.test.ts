// The fixed lines (agent/lines.ts) play from the cache, with no TTS round trip: the hand-off before
// a transfer, the goodbye before a hang-up, and both lines of the provider-failure policy (the
// trouble line has to: it is said when a provider, perhaps the TTS, failed).
import { initializeLogger, voice } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createCallAgent } from '../../../agent/call-agent.js';
import { readCallContext, type CallContext } from '../../../agent/call-context.js';
import type { CallControl, CallUpdateRequest } from '../../../agent/call-control.js';
import { DialogueLLM } from '../../../agent/dialogue/dialogue-llm.js';
import { CallLines, GreetingCache } from '../../../agent/greeting-cache.js';
import { fixedLines, fixedLineTexts, type LineName } from '../../../agent/lines.js';
import { callFailurePolicy } from '../../../agent/provider-failures.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { CountingTTS } from '../../helpers/agent.js';
import { RecordingAudioOutput } from '../../helpers/audio.js';
import { USE_CASES_JSON } from '../../helpers/sma.js';

initializeLogger({ pretty: false, level: 'error' });

const useCases = parseUseCases(USE_CASES_JSON);
const useCase = useCases.defaultUseCase;
const logger = pino({ level: 'silent' });
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const PHONE_ATTRS = {
  'sma.transactionId': 'tx-lines',
  'sma.applicationId': 'sma-test',
  'sma.region': 'us-east-1',
  'call.useCase': useCase.id,
  'trace.traceparent': TRACEPARENT,
};

/** A line's audio: a tone whose pitch tells the lines apart, after lead-in silence. */
async function renderTone(text: string): Promise<AudioFrame[]> {
  const n = 320;
  const frames: AudioFrame[] = [];
  for (let i = 0; i < 30; i++) {
    const data = new Int16Array(n);
    const step = 2 + (text.length % 7);
    if (i >= 5) for (let j = 0; j < n; j++) data[j] = Math.round(3000 * Math.sin(j / step));
    frames.push(new AudioFrame(data, 16000, 1, n));
  }
  return frames;
}

async function cachedPcm(cache: GreetingCache, name: LineName): Promise<number[]> {
  const out: number[] = [];
  for await (const f of cache.stream(useCase, fixedLines(useCase)[name])!) out.push(...f.data);
  return out;
}

const playedPcm = (output: RecordingAudioOutput, segment: number) =>
  output.framesOf(segment).flatMap((f) => [...f.data]);

const sessions: voice.AgentSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
});

interface Call {
  session: voice.AgentSession;
  output: RecordingAudioOutput;
  tts: CountingTTS;
  updates: CallUpdateRequest[];
  cache: GreetingCache;
  call: CallContext;
  lines: CallLines;
  control: CallControl;
}

/** A phone call's session with its fixed lines warmed, its audio recorded. */
async function phoneCall(): Promise<Call> {
  const cache = new GreetingCache();
  expect(await cache.warmFixedLines([useCase], renderTone)).toEqual([]);
  const call = readCallContext(PHONE_ATTRS, useCases);
  const tts = new CountingTTS({ voice: useCase.voice.local });
  const updates: CallUpdateRequest[] = [];
  const control: CallControl = { update: async (u) => void updates.push(u) };
  const lines = new CallLines(call.useCase, cache);
  const agent = createCallAgent({ call, control, logger, lines, leave: () => undefined });
  const session = new voice.AgentSession({ llm: new DialogueLLM(call.useCase), tts });
  sessions.push(session);
  const output = new RecordingAudioOutput(16000, false);
  session.output.audio = output;
  await session.start({ agent });
  return { session, output, tts, updates, cache, call, lines, control };
}

describe('GreetingCache.warmFixedLines', () => {
  it('renders every fixed line of a use case once, the greeting first', async () => {
    const rendered: string[] = [];
    const cache = new GreetingCache();
    const render = async (text: string) => (rendered.push(text), renderTone(text));
    await cache.warmFixedLines([useCase], render);
    await cache.warmFixedLines([useCase], render);
    expect(rendered).toEqual(fixedLineTexts(useCase));
    expect(rendered[0]).toBe(useCase.greeting);
    const lines = new CallLines(useCase, cache);
    const names = Object.keys(fixedLines(useCase)) as LineName[];
    expect(names).toEqual(expect.arrayContaining(['greeting', 'handoff', 'trouble', 'goodbye']));
    expect(names).toEqual(expect.arrayContaining(['checkIn', 'silentGoodbye', 'timeOffer']));
    for (const name of names) {
      expect(lines.isCached(name)).toBe(true);
    }
  });
});

describe('fixed lines in a call', () => {
  it('plays the hand-off line from the cache, without TTS, before the transfer', async () => {
    const { session, output, tts, updates, cache } = await phoneCall();
    await session.run({ userInput: 'can I talk to a person please' }).wait();
    expect(tts.texts).toEqual([]);
    expect(playedPcm(output, 0)).toEqual(await cachedPcm(cache, 'handoff'));
    expect(updates).toMatchObject([
      { action: 'transfer', queue: 'general', traceparent: TRACEPARENT },
    ]);
  });

  it('plays the goodbye from the cache, without TTS, before the hang-up', async () => {
    const { session, output, tts, updates, cache } = await phoneCall();
    await session.run({ userInput: "no thanks that's all goodbye" }).wait();
    expect(tts.texts).toEqual([]);
    expect(playedPcm(output, 0)).toEqual(await cachedPcm(cache, 'goodbye'));
    expect(updates).toMatchObject([{ action: 'hangup', reason: 'caller_done' }]);
  });

  it('says the trouble line from the cache, then hands off with agent_error', async () => {
    const { session, output, tts, updates, cache, call, lines, control } = await phoneCall();
    const policy = callFailurePolicy(session, call, { lines, control, logger });
    const said: Promise<void>[] = [];
    session.on(voice.AgentSessionEventTypes.SpeechCreated, (ev) =>
      said.push(ev.speechHandle.waitForPlayout()),
    );
    policy.sayTrouble();
    await Promise.all(said);
    await policy.handOff();
    expect(tts.texts).toEqual([]);
    expect(playedPcm(output, 0)).toEqual(await cachedPcm(cache, 'trouble'));
    expect(playedPcm(output, 1)).toEqual(await cachedPcm(cache, 'handoff'));
    expect(updates).toMatchObject([
      { action: 'transfer', queue: useCase.defaultQueue, reason: 'agent_error' },
    ]);
  });
});
