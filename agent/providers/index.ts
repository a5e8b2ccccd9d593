// Speech providers, chosen by configuration and loaded once per job process (prewarm):
// - cloud: Deepgram STT, an OpenAI(-compatible) LLM, Deepgram or OpenAI TTS;
// - local (offline; the default without cloud keys): Silero VAD, PocketSphinx STT in-process, the
//   rule-based dialogue engine behind the LLM interface, Flite TTS.
// A set supplies each call's components and renders fixed lines; agent/session-assembly.ts makes
// the session from them, the same way for both sets.
import { AudioFrame } from '@livekit/rtc-node';
import type { llm, stt, tts, VAD } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import type { Logger } from 'pino';
import type { UseCase } from '../../contracts/use-cases.js';
import type { AgentConfig } from '../config.js';
import { DialogueLLM } from '../dialogue/dialogue-llm.js';
import type { RenderSpeech } from '../greeting-cache.js';
import { TURN_TIMING } from '../session-assembly.js';
import { FliteTTS, synthesizeToPcm, warmUpFlite } from './flite-tts.js';
import { CallVad } from './call-vad.js';
import { PocketSphinxSTT, TELEPHONE_CEPSTRAL_MEAN } from './pocketsphinx-stt.js';

/** What one call's session speaks and listens with. */
export interface SessionComponents {
  vad: VAD;
  stt: stt.STT;
  llm: llm.LLM;
  tts: tts.TTS;
}

export interface SpeechProviders {
  kind: 'local' | 'cloud';
  /**
   * The components of one call's session. Its STT, LLM and TTS are made for it: the framework
   * subscribes to a component's events and never unsubscribes.
   */
  components(useCase: UseCase): SessionComponents;
  /** Renders a line to frames (the greeting cache). */
  renderSpeech: RenderSpeech;
}

async function loadVad(): Promise<VAD> {
  return silero.VAD.load({ minSilenceDuration: TURN_TIMING.vadMinSilenceMs, sampleRate: 16000 });
}

/** Collects a TTS's frames for one text (cloud greeting rendering). */
async function collect(t: tts.TTS, text: string): Promise<AudioFrame[]> {
  const frames: AudioFrame[] = [];
  for await (const ev of t.synthesize(text)) frames.push(ev.frame);
  return frames;
}

async function loadLocal(logger: Logger): Promise<SpeechProviders> {
  const [vad, model] = await Promise.all([
    loadVad(),
    PocketSphinxSTT.loadModel({ cepstralMean: TELEPHONE_CEPSTRAL_MEAN }),
    warmUpFlite(),
  ]);
  logger.info('speech providers: local (Silero VAD, PocketSphinx, dialogue engine, Flite)');
  return {
    kind: 'local',
    components: (uc) => {
      const callVad = new CallVad(vad);
      return {
        vad: callVad,
        stt: new PocketSphinxSTT(model, callVad),
        llm: new DialogueLLM(uc),
        tts: new FliteTTS({ voice: uc.voice.local }),
      };
    },
    // One frame of the whole line: the greeting cache trims and frames it for playing.
    renderSpeech: async (text, uc) => {
      const pcm = await synthesizeToPcm(text, { voice: uc.voice.local });
      return [new AudioFrame(pcm.samples, pcm.sampleRate, 1, pcm.samples.length)];
    },
  };
}

async function loadCloud(config: AgentConfig, logger: Logger): Promise<SpeechProviders> {
  // The Deepgram plugin reads DEEPGRAM_API_KEY when imported: import it only in cloud mode.
  const deepgram = await import('@livekit/agents-plugin-deepgram');
  const openai = await import('@livekit/agents-plugin-openai');
  const vad = await loadVad();
  // One STT per session: the framework subscribes to an STT's events and never unsubscribes.
  const makeStt = () =>
    new deepgram.STT({
      apiKey: config.deepgramApiKey,
      model: 'nova-3',
      sampleRate: 16000,
    });
  const makeTts = (uc: UseCase): tts.TTS =>
    config.cloudTts === 'openai'
      ? new openai.TTS({
          apiKey: config.openai.apiKey,
          baseURL: config.openai.baseURL,
          voice: (uc.voice.cloud ?? 'alloy') as never,
        })
      : new deepgram.TTS({
          apiKey: config.deepgramApiKey,
          model: uc.voice.cloud ?? 'aura-2-thalia-en',
        });
  logger.info({ model: config.openai.model, tts: config.cloudTts }, 'speech providers: cloud');
  return {
    kind: 'cloud',
    components: (uc) => ({
      vad,
      stt: makeStt(),
      llm: new openai.LLM({
        model: config.openai.model,
        apiKey: config.openai.apiKey,
        baseURL: config.openai.baseURL,
      }),
      tts: makeTts(uc),
    }),
    renderSpeech: (text, uc) => collect(makeTts(uc), text),
  };
}

export function loadSpeechProviders(config: AgentConfig, logger: Logger): Promise<SpeechProviders> {
  logger.info({ reason: config.speechReason }, `speech providers: ${config.speech}`);
  return config.speech === 'cloud' ? loadCloud(config, logger) : loadLocal(logger);
}
