// One real audio turn through the local providers as the worker assembles them: telephone speech
// (8 kHz, made by Flite with a voice other than the agent's) -> Silero VAD -> Moonshine -> the
// dialogue engine -> Flite -> the audio output. No server, no keys.
import { initializeLogger, VADEventType, voice } from '@livekit/agents';
import { metrics } from '@opentelemetry/api';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCallContext } from '../../../agent/call-context.js';
import { loadAgentConfig } from '../../../agent/config.js';
import { LatencyRecorder } from '../../../agent/latency.js';
import { resamplePcm } from '../../../agent/audio.js';
import { synthesizeToPcm } from '../../../agent/providers/flite-tts.js';
import { loadSpeechProviders, type SpeechProviders } from '../../../agent/providers/index.js';
import { assembleSession } from '../../../agent/session-assembly.js';
import { TURN_TIMING } from '../../../agent/turn-timing.js';
import { createAgentInstruments } from '../../../otel/instruments.js';
import { PushAudioInput, RecordingAudioOutput, rms } from '../../helpers/audio.js';
import { USE_CASES_JSON } from '../../helpers/sma.js';

initializeLogger({ pretty: false, level: process.env.DEBUG_AGENT ? 'debug' : 'error' });
const logger = pino({ level: 'silent' });
const config = loadAgentConfig(
  { SPEECH_PROVIDERS: 'local', AGENT_DEV_ROOMS_ONLY: 'true' },
  USE_CASES_JSON,
);
let providers: SpeechProviders;
const sessions: voice.AgentSession[] = [];

beforeAll(async () => {
  providers = await loadSpeechProviders(config, logger);
}, 60_000);
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.close()));
});

/** A session kept for closing, heard through a pushed input and played to a recording output. */
function wired(session: voice.AgentSession, realtime: boolean) {
  sessions.push(session);
  const input = new PushAudioInput();
  const output = new RecordingAudioOutput(16000, realtime);
  session.input.audio = input;
  session.output.audio = output;
  return { input, output };
}

async function telephoneSpeech(text: string): Promise<Int16Array> {
  const pcm = await synthesizeToPcm(text, { voice: 'rms' });
  return resamplePcm(pcm.samples, pcm.sampleRate, 8000);
}

describe('a real audio turn with the local providers', () => {
  it('hears the question and answers it aloud', async () => {
    const call = readCallContext({}, config.useCases);
    const assembled = assembleSession(call, {
      providers,
      control: undefined,
      logger,
      leave: () => undefined,
    });
    const session = assembled.session;
    const { input, output } = wired(session, false);
    const turns: number[] = [];
    const parts: string[] = [];
    const latency = new LatencyRecorder(
      createAgentInstruments(metrics.getMeter('t')),
      {},
      { onTurn: (ms) => turns.push(ms), onTurnPart: (part) => parts.push(part) },
    );
    latency.attach(session, output);
    const transcripts: string[] = [];
    session.on(
      voice.AgentSessionEventTypes.UserInputTranscribed,
      (ev) => ev.isFinal && transcripts.push(ev.transcript),
    );
    await session.start({ agent: assembled.agent });

    await input.silence(300, 8000);
    await input.push(await telephoneSpeech('My trash was not picked up this week.'), 8000);
    const deadline = Date.now() + 20_000;
    while (turns.length === 0 && Date.now() < deadline) await input.silence(100, 8000);
    await output.waitForPlayout();
    // The reply joins the history when its speech handle completes, just after playout.
    const assistantSaid = () =>
      session.history.items.filter((i) => i.type === 'message' && i.role === 'assistant');
    while (assistantSaid().length === 0 && Date.now() < deadline) await input.silence(100, 8000);

    const replies = assistantSaid().map((i) => (i.type === 'message' ? (i.textContent ?? '') : ''));
    expect(transcripts.join(' ')).toMatch(/trash/i);
    expect(replies.join(' ')).toContain('Missed pickups are collected');
    expect(turns).toHaveLength(1);
    // Every part of the turn is recorded once, the reply made ahead of the decision included.
    expect(parts).toEqual(['transcript', 'endOfTurn', 'firstToken', 'firstAudio']);
    const reply = output.played.filter((p) => p.segment === output.segment - 1).map((p) => p.frame);
    expect(reply.length).toBeGreaterThan(50); // > 1 s of reply audio
    expect(rms(reply)).toBeGreaterThan(300);
    console.log(`heard "${transcripts.join(' ')}"; turn response latency ${turns[0]} ms`);
  }, 60_000);

  it("makes the reply's speech from the transcript on, while the end of the turn is awaited", async () => {
    // The turn ends 1.5 s after the caller's last speech, whatever the detector or the dialogue
    // engine says; the transcript is in long before that, and with it the reply's text and speech.
    const shipped = TURN_TIMING.understoodEndMs;
    TURN_TIMING.understoodEndMs = 2000;
    const call = readCallContext({}, config.useCases);
    const useCase = {
      ...call.useCase,
      turnTaking: { endpointingMinMs: 1500, endpointingMaxMs: 2500, interruptions: true },
    };
    let spokenAt: number | undefined;
    const assembled = assembleSession(
      { ...call, useCase },
      {
        providers: {
          ...providers,
          components: (uc, vad) => {
            const c = providers.components(uc, vad);
            const synthesize = c.tts.synthesize.bind(c.tts);
            c.tts.synthesize = (...args) => {
              spokenAt ??= Date.now();
              return synthesize(...args);
            };
            return c;
          },
        },
        control: undefined,
        logger,
        leave: () => undefined,
      },
    );
    TURN_TIMING.understoodEndMs = shipped;
    const s = assembled.session;
    const { input, output } = wired(s, false);
    let transcribedAt: number | undefined;
    let turnEndedAt: number | undefined;
    s.on(voice.AgentSessionEventTypes.UserInputTranscribed, (ev) => {
      if (ev.isFinal) transcribedAt ??= Date.now();
    });
    s.on(voice.AgentSessionEventTypes.ConversationItemAdded, (ev) => {
      if (ev.item.type === 'message' && ev.item.role === 'user') turnEndedAt ??= Date.now();
    });
    await s.start({ agent: assembled.agent });

    await input.silence(300, 8000);
    await input.push(await telephoneSpeech('My trash was not picked up this week.'), 8000);
    const deadline = Date.now() + 20_000;
    while (turnEndedAt === undefined && Date.now() < deadline) await input.silence(100, 8000);
    await output.waitForPlayout();

    expect(transcribedAt).toBeDefined();
    expect(turnEndedAt).toBeDefined();
    expect(spokenAt).toBeDefined();
    expect(turnEndedAt! - transcribedAt!).toBeGreaterThan(500);
    // Spoken ahead: the speech was asked for between the transcript and the end of the turn.
    expect(spokenAt!).toBeGreaterThanOrEqual(transcribedAt!);
    expect(turnEndedAt! - spokenAt!).toBeGreaterThan(300);
    const reply = output.played.filter((p) => p.segment === output.segment - 1).map((p) => p.frame);
    expect(rms(reply)).toBeGreaterThan(300);
  }, 60_000);

  it('stops a reply at once for a caller who goes on with their line, and answers the whole', async () => {
    // The caller's sentence ends, the reply starts, and the caller, who has not heard it yet, goes
    // on. The reply pauses on the little speech of TURN_TIMING.goesOnInterruptMs, not on the
    // framework's 500 ms, and the two parts are answered as one line (agent/line-goes-on.ts).
    const call = readCallContext({}, config.useCases);
    let heardSpeechMs = 0;
    const assembled = assembleSession(call, {
      providers: {
        ...providers,
        components: (uc, vad) => {
          const c = providers.components(uc, vad);
          // How much speech the VAD had counted at each of its inferences, as the session reads it.
          const stream = c.vad.stream.bind(c.vad);
          c.vad.stream = () => {
            const st = stream();
            const next = st.next.bind(st);
            st.next = async () => {
              const r = await next();
              if (!r.done && r.value.type === VADEventType.INFERENCE_DONE)
                heardSpeechMs = r.value.speechDuration;
              return r;
            };
            return st;
          };
          return c;
        },
      },
      control: undefined,
      logger,
      leave: () => undefined,
    });
    const s = assembled.session;
    const { input } = wired(s, true);
    const states: { state: string; heardSpeechMs: number }[] = [];
    await s.start({ agent: assembled.agent });
    // The greeting first, as on a call: the framework takes no interruption in the first 3 s the
    // agent speaks in a session (its echo canceller's warm-up).
    await s.say(call.useCase.greeting).waitForPlayout();
    s.on(voice.AgentSessionEventTypes.AgentStateChanged, (ev) =>
      states.push({ state: ev.newState, heardSpeechMs }),
    );
    const [head, tail] = await Promise.all([
      telephoneSpeech('My trash was not picked up.'),
      telephoneSpeech('This week.'),
    ]);

    await input.silence(300, 8000);
    await input.push(head, 8000);
    const deadline = Date.now() + 20_000;
    const speaking = () => states.some((x) => x.state === 'speaking');
    while (!speaking() && Date.now() < deadline) await input.silence(20, 8000);
    await input.push(tail, 8000);
    const answered = () => {
      const last = s.history.items.at(-1);
      return last?.type === 'message' && last.role === 'assistant' && !last.interrupted;
    };
    while (!answered() && Date.now() < deadline) await input.silence(100, 8000);

    const stopped = states.find((x, i) => i > 0 && states[i - 1]!.state === 'speaking');
    expect(stopped?.state).toBe('listening');
    expect(stopped!.heardSpeechMs).toBeGreaterThanOrEqual(TURN_TIMING.goesOnInterruptMs);
    expect(stopped!.heardSpeechMs).toBeLessThan(500);
    const lines = s.history.items.filter((i) => i.type === 'message').slice(1); // the greeting
    expect(lines.filter((i) => i.role === 'user')).toHaveLength(1);
    expect(lines.find((i) => i.role === 'user')?.textContent).toMatch(/trash.*picked up\W+\w/i);
    expect(lines.some((i) => i.interrupted)).toBe(false);
    expect(lines.at(-1)?.textContent).toContain('Missed pickups are collected');
  }, 60_000);
});
