// Speech providers, chosen by configuration and loaded once per job process (prewarm):
// - cloud: Deepgram STT, an OpenAI(-compatible) LLM, Deepgram or OpenAI TTS;
// - local (offline; the default without cloud keys): Silero VAD, Moonshine tiny-en STT in-process
//   through koffi, the rule-based dialogue engine behind the LLM interface, Flite TTS.
// A set supplies each call's components and renders fixed lines; agent/session-assembly.ts makes
// the session from them, the same way for both sets.
import { AudioFrame } from '@livekit/rtc-node';
import type { llm, stt, tts, VAD } from '@livekit/agents';
import type { Logger } from 'pino';
import { isEnglish, type UseCase } from '../../contracts/use-cases.js';
import type { AgentConfig } from '../config.js';
import { DialogueLLM } from '../dialogue/dialogue-llm.js';
import type { RenderSpeech } from '../greeting-cache.js';
import { TURN_TIMING } from '../turn-timing.js';
import { FliteTTS, synthesizeToPcm, warmUpFlite } from './flite-tts.js';
import { CallSilero } from './call-silero.js';
import { CallVad } from './call-vad.js';
import { loadCloud } from './cloud.js';
import { MoonshineModel, MoonshineSTT, type Transcriber } from './moonshine-stt.js';

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
   * subscribes to a component's events and never unsubscribes. `vad`: the call's own, when the
   * call already has one (a language switch makes new components for a call in progress).
   */
  components(useCase: UseCase, vad?: CallVad): SessionComponents;
  /** Renders a line to frames (the greeting cache). */
  renderSpeech: RenderSpeech;
  /**
   * Whether this set can hold a use case's conversation: the offline set hears English only and
   * has no cloud model. A call it cannot serve is told so and handed to a person. Unset:
   * {@link servingOf} the set's kind.
   */
  serves?(useCase: UseCase): Serving;
}

export type Serving = { ok: true } | { ok: false; why: 'needs_cloud' | 'language' };

/** What a set of `kind` makes of a use case's `speech.providers` and `language`. */
export function servingOf(kind: 'local' | 'cloud', useCase: UseCase): Serving {
  const wanted = useCase.speech.providers === 'worker' ? kind : useCase.speech.providers;
  if (wanted === 'cloud' && kind === 'local') return { ok: false, why: 'needs_cloud' };
  if (wanted === 'local' && !isEnglish(useCase.language)) return { ok: false, why: 'language' };
  return { ok: true };
}

async function loadVad(): Promise<VAD> {
  return CallSilero.load({
    minSilenceMs: TURN_TIMING.vadMinSilenceMs,
    activationThreshold: TURN_TIMING.vadActivationThreshold,
  });
}

/** A call's offline recognizer: `model` shared by the process, following the call's VAD. */
export function callTranscriber(model: Transcriber, vad: VAD): MoonshineSTT {
  return new MoonshineSTT(model, vad, { earlyDecodeMs: TURN_TIMING.earlyDecodeMs });
}

async function loadLocal(logger: Logger): Promise<SpeechProviders> {
  const [vad, model] = await Promise.all([loadVad(), MoonshineModel.load(), warmUpFlite()]);
  logger.info(
    `speech providers: local (Silero VAD, Moonshine ${model.modelName}, dialogue engine, Flite)`,
  );
  // Moonshine tiny-en hears English only: a use case in another language is not served offline.
  return {
    kind: 'local',
    serves: (uc) => {
      const s = servingOf('local', uc);
      return s.ok && !isEnglish(uc.language) ? { ok: false, why: 'language' } : s;
    },
    components: (uc, shared) => {
      const callVad = shared ?? new CallVad(vad);
      return {
        vad: callVad,
        stt: callTranscriber(model, callVad),
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

export function loadSpeechProviders(config: AgentConfig, logger: Logger): Promise<SpeechProviders> {
  logger.info({ reason: config.speechReason }, `speech providers: ${config.speech}`);
  // The cloud set falls back to the offline one, which it loads beside it.
  return config.speech === 'cloud'
    ? loadCloud(config, logger, () => loadLocal(logger.child({ role: 'fallback' })))
    : loadLocal(logger);
}
