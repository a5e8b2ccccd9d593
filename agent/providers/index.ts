// Speech providers, chosen by configuration and loaded once per worker process (prewarm):
// - cloud: Deepgram STT, an OpenAI(-compatible) LLM, Deepgram or OpenAI TTS;
// - local (offline; the default without cloud keys): Silero VAD, PocketSphinx STT in-process, the
//   rule-based dialogue engine behind the LLM interface, Flite TTS.
// Both use the bundled `v1-mini` turn detector and VAD-based interruptions (barge-in), set
// explicitly so nothing reaches LiveKit Cloud for turn detection or interruption.
import { AudioFrame } from '@livekit/rtc-node';
import { inference, type llm, type stt, type tts, type VAD, type voice } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import type { Logger } from 'pino';
import type { UseCase } from '../../contracts/use-cases.js';
import type { AgentConfig } from '../config.js';
import { DialogueLLM } from '../dialogue/dialogue-llm.js';
import type { RenderSpeech } from '../greeting-cache.js';
import { FliteTTS, synthesizeToPcm, warmUpFlite } from './flite-tts.js';
import { CallVad } from './call-vad.js';
import { PocketSphinxSTT, TELEPHONE_CEPSTRAL_MEAN } from './pocketsphinx-stt.js';

export interface SessionProviders {
  vad: VAD;
  stt: stt.STT;
  llm: llm.LLM;
  tts: tts.TTS;
  turnHandling: Partial<voice.AgentSessionOptions['turnHandling']>;
}

export interface SpeechProviders {
  kind: 'local' | 'cloud';
  forSession(useCase: UseCase): SessionProviders;
  /** Renders a line to frames (the greeting cache). */
  renderSpeech: RenderSpeech;
}

/** Timing that keeps replies quick on a phone line (silence before the turn may end). */
export const TURN_TIMING = { vadMinSilenceMs: 300, endpointingMinMs: 200, endpointingMaxMs: 2500 };

/**
 * The turn handling of one session. The bundled `v1-mini` end-of-turn model runs in the worker's
 * inference process, which the detector finds through the job's context: it is made per session,
 * inside the job (made at prewarm, it has no executor and predicts "turn over" every time).
 */
function turnHandling(): SessionProviders['turnHandling'] {
  return {
    turnDetection: new inference.TurnDetector({ version: 'v1-mini' }),
    endpointing: { minDelay: TURN_TIMING.endpointingMinMs, maxDelay: TURN_TIMING.endpointingMaxMs },
    interruption: { enabled: true, mode: 'vad' },
  };
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
    forSession: (uc) => {
      const callVad = new CallVad(vad);
      return {
        vad: callVad,
        stt: new PocketSphinxSTT(model, callVad),
        llm: new DialogueLLM(uc),
        tts: new FliteTTS({ voice: uc.voice.local }),
        turnHandling: turnHandling(),
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
    forSession: (uc) => ({
      vad,
      stt: makeStt(),
      llm: new openai.LLM({
        model: config.openai.model,
        apiKey: config.openai.apiKey,
        baseURL: config.openai.baseURL,
      }),
      tts: makeTts(uc),
      turnHandling: turnHandling(),
    }),
    renderSpeech: (text, uc) => collect(makeTts(uc), text),
  };
}

export function loadSpeechProviders(config: AgentConfig, logger: Logger): Promise<SpeechProviders> {
  logger.info({ reason: config.speechReason }, `speech providers: ${config.speech}`);
  return config.speech === 'cloud' ? loadCloud(config, logger) : loadLocal(logger);
}
