// The agent session with audio, no server and no keys: custom audio output (a real-time sink that
// records), the local dialogue engine and Flite TTS. The greeting comes from the cache, first; a
// caller who hangs up mid-reply ends the session promptly.
import { initializeLogger, voice } from '@livekit/agents';
import { metrics } from '@opentelemetry/api';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createCallAgent } from '../../../agent/call-agent.js';
import { readCallContext } from '../../../agent/call-context.js';
import { DialogueLLM } from '../../../agent/dialogue/dialogue-llm.js';
import { GreetingCache } from '../../../agent/greeting-cache.js';
import { LatencyRecorder } from '../../../agent/latency.js';
import { synthesizeToPcm } from '../../../agent/providers/flite-tts.js';
import { createAgentInstruments } from '../../../otel/instruments.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { CountingTTS } from '../../helpers/agent.js';
import { RecordingAudioOutput, pcmToFrames, rms } from '../../helpers/audio.js';
import { USE_CASES_JSON } from '../../helpers/sma.js';

initializeLogger({ pretty: false, level: 'error' });

const useCases = parseUseCases(USE_CASES_JSON);
const logger = pino({ level: 'silent' });
const sessions: voice.AgentSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
});

async function devSession(realtime = false) {
  const call = readCallContext({}, useCases);
  const output = new RecordingAudioOutput(16000, realtime);
  const tts = new CountingTTS({ voice: 'kal16' });
  const session = new voice.AgentSession({ llm: new DialogueLLM(call.useCase), tts });
  sessions.push(session);
  session.output.audio = output;
  const agent = createCallAgent({ call, control: undefined, logger, leave: () => undefined });
  await session.start({ agent });
  return { session, output, tts, call };
}

describe('agent session with audio', () => {
  it('plays the greeting first, from the cache, without TTS', async () => {
    const cache = new GreetingCache();
    const failures = await cache.warm(useCases.all, async (text, uc) =>
      pcmToFrames(await synthesizeToPcm(text, { voice: uc.voice.local })),
    );
    expect(failures).toEqual([]);
    const { session, output, tts, call } = await devSession();
    const ttfa: number[] = [];
    const latency = new LatencyRecorder(
      createAgentInstruments(metrics.getMeter('t')),
      {},
      { onTtfa: (ms) => ttfa.push(ms) },
    );
    latency.attach(session, output);
    latency.markAnswered(Date.now());
    const handle = session.say(call.useCase.greeting, { audio: cache.stream(call.useCase) });
    await handle.waitForPlayout();
    const cached: number[] = [];
    for await (const f of cache.stream(call.useCase)!) cached.push(...f.data);
    const played = output.framesOf(0).flatMap((f) => [...f.data]);
    expect(played.length).toBe(cached.length);
    expect(played).toEqual(cached);
    expect(rms(output.framesOf(0))).toBeGreaterThan(300);
    expect(tts.texts).toEqual([]);
    expect(ttfa).toHaveLength(1);
    console.log(`greeting from cache: TTFA (answer → first frame played) ${ttfa[0]} ms`);
  });

  it('falls back to live TTS when the greeting is not cached', async () => {
    const { session, output, tts, call } = await devSession();
    await session
      .say(call.useCase.greeting, { audio: new GreetingCache().stream(call.useCase) })
      .waitForPlayout();
    expect(tts.texts.join(' ')).toContain('Springfield 311');
    expect(rms(output.framesOf(0))).toBeGreaterThan(300);
  });

  it('stops speaking and closes promptly when the caller hangs up mid-reply', async () => {
    const { session, output } = await devSession(true);
    let closed = false;
    session.on(voice.AgentSessionEventTypes.Close, () => (closed = true));
    session.generateReply({ userInput: 'how do I report a pothole' });
    // Wait until the reply is audible, then the caller goes.
    while (output.played.length < 10) await new Promise((r) => setTimeout(r, 20));
    const playedBefore = output.played.length;
    await session.close();
    const playedAfter = output.played.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(closed).toBe(true);
    // The reply is several seconds long; the sink stopped with the session, not at its end.
    expect(output.played.length - playedAfter).toBe(0);
    expect(playedAfter).toBeLessThan(playedBefore + 50);
  });
});
