// The cloud set's fallbacks (agent/providers/cloud.ts): a cloud provider that fails hands the
// request to the next one and finally to the offline component, and a failure the fallback covers
// never reaches the call's failure policy as unrecoverable. The failing providers are the real
// plugins refused by the stand-ins (a wrong key), as a revoked key would be.
import { APIConnectionError, initializeLogger, llm, stt, tts, type VAD } from '@livekit/agents';
import * as deepgram from '@livekit/agents-plugin-deepgram';
import * as openai from '@livekit/agents-plugin-openai';
import * as silero from '@livekit/agents-plugin-silero';
import { AudioFrame } from '@livekit/rtc-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import bundledUseCases from '../../../contracts/use-cases.json' with { type: 'json' };
import { loadUseCases } from '../../../contracts/use-cases.js';
import type { AgentConfig } from '../../../agent/config.js';
import { DialogueLLM } from '../../../agent/dialogue/dialogue-llm.js';
import { loadCloud, withFallbacks } from '../../../agent/providers/cloud.js';
import { FliteTTS, synthesizeToPcm } from '../../../agent/providers/flite-tts.js';
import type { SessionComponents } from '../../../agent/providers/index.js';
import { CallVad } from '../../../agent/providers/call-vad.js';
import { MoonshineModel, MoonshineSTT } from '../../../agent/providers/moonshine-stt.js';
import { startDeepgramStandIn } from '../../../lab/cloud/deepgram-server.js';
import { startOpenAIStandIn } from '../../../lab/cloud/openai-server.js';
import { loadRecognizer } from '../../../lab/cloud/recognizer.js';
import type { StandIn } from '../../../lab/cloud/stand-in-http.js';
import { pcmToFrames } from '../../helpers/audio.js';

initializeLogger({ pretty: false, level: 'fatal' });

const useCases = loadUseCases(undefined, bundledUseCases);
const uc = useCases.defaultUseCase;
const WRONG = 'revoked-key';
let dg: StandIn;
let oa: StandIn;
let vad: VAD;
let moonshine: MoonshineModel;
beforeAll(async () => {
  dg = await startDeepgramStandIn({ apiKey: 'dg-key', recognizer: await loadRecognizer() });
  oa = await startOpenAIStandIn({ apiKey: 'sk-key', useCases });
  vad = await silero.VAD.load({ minSilenceDuration: 300, sampleRate: 16000 });
  moonshine = await MoonshineModel.load();
}, 60_000);
afterAll(async () => {
  await dg?.stop();
  await oa?.stop();
});

/** The offline set's components as loadLocal gives them: the recognizer follows the call's VAD. */
const offline = (): SessionComponents => {
  const callVad = new CallVad(vad);
  return {
    vad: callVad,
    stt: new MoonshineSTT(moonshine, callVad),
    llm: new DialogueLLM(uc),
    tts: new FliteTTS({ voice: uc.voice.local }),
  };
};

/**
 * The Deepgram plugin's REST path always dials port 443, so against a local stand-in the TTS
 * adapter's recovery probe (synthesize) cannot connect, and the framework leaves that failure as
 * an unhandled rejection; this voice refuses the probe at once instead.
 */
class StreamingDeepgramTTS extends deepgram.TTS {
  override synthesize(): never {
    throw new APIConnectionError({ message: 'the stand-in serves /v1/speak over WebSocket only' });
  }
}

const refusedCloud = () => ({
  stt: [
    new deepgram.STT({ apiKey: WRONG, baseUrl: dg.url.replace(/^http/, 'ws'), sampleRate: 16000 }),
  ],
  llm: [new openai.LLM({ apiKey: WRONG, baseURL: `${oa.url}/v1`, model: 'gpt-4.1-mini' })],
  tts: [new StreamingDeepgramTTS({ apiKey: WRONG, baseUrl: dg.url, sampleRate: 16000 })],
});

const until = async (cond: () => boolean, ms = 15_000) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
};

describe('withFallbacks', () => {
  it('lets the offline dialogue engine answer when the cloud model refuses the call', async () => {
    const c = withFallbacks(refusedCloud(), offline());
    const chatCtx = llm.ChatContext.empty();
    chatCtx.addMessage({ role: 'user', content: 'Can I talk to a person?' });
    const toolCtx = {
      transfer_to_human: llm.tool({
        description: 'Hand the caller to a person',
        parameters: z.object({ queue: z.string(), reason: z.string() }),
        execute: async () => 'ok',
      }),
    };
    const calls: llm.FunctionCall[] = [];
    for await (const chunk of c.llm.chat({ chatCtx, toolCtx }))
      calls.push(...(chunk.delta?.toolCalls ?? []));
    expect(calls.map((f) => f.name)).toEqual(['transfer_to_human']);
    expect((c.llm as llm.FallbackAdapter)._status.map((s) => s.available)).toEqual([false, true]);
  }, 30_000);

  it('speaks with Flite when the cloud voice is refused, and reports that failure as recoverable', async () => {
    const c = withFallbacks(refusedCloud(), offline());
    const errors: { recoverable: boolean }[] = [];
    c.tts.on('error', (e) => errors.push(e));
    const s = c.tts.stream();
    s.pushText('Thank you for calling the city.');
    s.endInput();
    let samples = 0;
    for await (const ev of s) {
      if (ev === tts.SynthesizeStream.END_OF_STREAM) break;
      samples += ev.frame.samplesPerChannel;
    }
    s.close();
    expect(samples / c.tts.sampleRate).toBeGreaterThan(0.5);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.recoverable)).toBe(true);
    expect((c.tts as tts.FallbackAdapter).status.map((st) => st.available)).toEqual([false, true]);
    await c.tts.close();
  }, 30_000);

  it('hears the caller with the offline recognizer when the cloud one refuses the call', async () => {
    const c = withFallbacks(refusedCloud(), offline());
    // The session's own VAD stream over the caller's audio, which the offline recognizer follows.
    const vadStream = c.vad.stream();
    const drainVad = (async () => {
      for await (const ev of vadStream) void ev;
    })();
    const stream = c.stt.stream();
    const events: stt.SpeechEvent[] = [];
    const read = (async () => {
      for await (const ev of stream) events.push(ev);
    })();
    const hear = (f: AudioFrame) => {
      vadStream.pushFrame(f);
      stream.pushFrame(f);
    };
    const adapter = c.stt as stt.FallbackAdapter;
    const quiet = new AudioFrame(new Int16Array(320), 16000, 1, 320);
    // Audio goes to whichever recognizer holds the stream: the line stays open until one does.
    await until(() => {
      hear(quiet);
      return !adapter.status[0]!.available;
    });
    const said = await synthesizeToPcm('I would like to report a pothole', {
      voice: 'rms',
      sampleRate: 16000,
    });
    for (const f of [...pcmToFrames(said), ...Array<AudioFrame>(60).fill(quiet)]) hear(f);
    await until(() => events.some((e) => e.type === stt.SpeechEventType.FINAL_TRANSCRIPT));
    // The session closes the recognizer's stream when the call ends.
    stream.close();
    await read;
    vadStream.close();
    await drainVad;
    const final = events.find((e) => e.type === stt.SpeechEventType.FINAL_TRANSCRIPT);
    expect(final?.alternatives?.[0].text).toMatch(/pothole|report/);
  }, 60_000);
});

describe('loadCloud', () => {
  const config = (over: Partial<AgentConfig> = {}) =>
    ({
      deepgramApiKey: 'dg-key',
      deepgramBaseURL: dg.url,
      openai: { apiKey: 'sk-key', baseURL: `${oa.url}/v1`, model: 'gpt-4.1-mini' },
      cloudTts: 'deepgram',
      ...over,
    }) as AgentConfig;
  const offlineSet = async () => ({
    kind: 'local' as const,
    components: offline,
    renderSpeech: async () => [new AudioFrame(new Int16Array(1600), 16000, 1, 1600)],
  });
  const logger = pino({ level: 'silent' });

  it('puts each cloud chain first and the offline component last', async () => {
    const set = await loadCloud(config(), logger, offlineSet);
    const c = set.components(uc);
    expect(set.kind).toBe('cloud');
    expect((c.stt as stt.FallbackAdapter).sttInstances.map((s) => s.label)).toEqual([
      'deepgram.STT',
      'moonshine.STT',
    ]);
    expect((c.llm as llm.FallbackAdapter).llms.map((l) => l.label())).toEqual([
      'openai.LLM',
      'callbridge.DialogueLLM',
    ]);
    expect((c.tts as tts.FallbackAdapter).ttsInstances.map((t) => t.label)).toEqual([
      'deepgram.TTS',
      'openai.TTS',
      'flite.TTS',
    ]);
    expect(c.vad).toBeInstanceOf(CallVad);
  });

  it('renders fixed lines in the cloud voice, the next one when it is refused, else offline', async () => {
    const cloud = await (await loadCloud(config(), logger, offlineSet)).renderSpeech('Hello.', uc);
    expect(cloud.reduce((n, f) => n + f.samplesPerChannel, 0)).toBeGreaterThan(2400);
    // Deepgram refused: the OpenAI voice (24 kHz) says it.
    const next = await (
      await loadCloud(config({ deepgramApiKey: WRONG }), logger, offlineSet)
    ).renderSpeech('Hello.', uc);
    expect(next[0]!.sampleRate).toBe(24000);
    // Neither cloud voice (the OpenAI one cannot even be made without its key): the offline voice.
    const none = config({
      deepgramApiKey: WRONG,
      openai: { apiKey: undefined, baseURL: `${oa.url}/v1`, model: 'gpt-4.1-mini' },
    });
    const local = await (await loadCloud(none, logger, offlineSet)).renderSpeech('Hello.', uc);
    expect(local).toHaveLength(1);
    expect(local[0]!.samplesPerChannel).toBe(1600);
  }, 30_000);
});
