// The cloud provider set: Deepgram STT, an OpenAI(-compatible) LLM, Deepgram or OpenAI TTS, each
// behind the framework's fallback adapter. A provider that fails hands the call's next request to
// the next one (TTS: the other cloud voice), and finally to the offline set's component, loaded
// beside it for that purpose: only when the last one fails too does the call's failure policy
// (agent/provider-failures.ts) hear of it, and the caller is handed to a person.
import { llm, stt, tts } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import type { Logger } from 'pino';
import type { UseCase } from '../../contracts/use-cases.js';
import type { AgentConfig } from '../config.js';
import { servingOf, type SessionComponents, type SpeechProviders } from './index.js';

/**
 * How the adapters try a provider. A refused connection is retried once, 100 ms later, then the
 * next provider takes over; a failed one is probed again in the background, not on the caller's
 * turn. The LLM's attempt limit is to its first byte: past it the caller is waiting.
 */
export const FALLBACK = {
  sttRetries: 1,
  sttProbeIntervalMs: 2000,
  llmAttemptTimeoutS: 5,
  ttsRetries: 1,
  ttsRecoveryDelayMs: 5000,
} as const;

const DEEPGRAM_VOICE = 'aura-2-thalia-en';
const OPENAI_VOICE = 'alloy';

/** The cloud components of one call, first choice first (each made for that call). */
export interface CloudChains {
  stt: stt.STT[];
  llm: llm.LLM[];
  tts: tts.TTS[];
}

/**
 * The session components of one call: each cloud chain, then the offline component, behind a
 * fallback adapter. The offline set's VAD (the call's CallVad) is the session's: the offline
 * recognizer follows its stream, and the STT adapter streams non-streaming recognizers by it.
 */
export function withFallbacks(
  cloud: CloudChains,
  offline: SessionComponents,
  logger?: Logger,
): SessionComponents {
  const sttAdapter = new stt.FallbackAdapter({
    sttInstances: [...cloud.stt, offline.stt],
    vad: offline.vad,
    maxRetryPerSTT: FALLBACK.sttRetries,
    retryIntervalMs: FALLBACK.sttProbeIntervalMs,
  });
  const llmAdapter = new llm.FallbackAdapter({
    llms: [...cloud.llm, offline.llm],
    attemptTimeout: FALLBACK.llmAttemptTimeoutS,
    maxRetryPerLLM: 0,
  });
  const ttsAdapter = new tts.FallbackAdapter({
    ttsInstances: [...cloud.tts, offline.tts],
    maxRetryPerTTS: FALLBACK.ttsRetries,
    recoveryDelayMs: FALLBACK.ttsRecoveryDelayMs,
  });
  coverTtsErrors(ttsAdapter);
  if (logger) logAvailability(logger, sttAdapter, llmAdapter, ttsAdapter);
  return { vad: offline.vad, stt: sttAdapter, llm: llmAdapter, tts: ttsAdapter };
}

/**
 * The TTS adapter passes each voice's errors on as they are, unrecoverable, and the session's
 * failure policy would count a failure the next voice covers. They go on as recoverable (logged,
 * not counted); the adapter's own error, once every voice has failed, is the call's failure.
 */
function coverTtsErrors(adapter: tts.FallbackAdapter): void {
  for (const child of adapter.ttsInstances) {
    child.removeAllListeners('error');
    child.on('error', (ev) => adapter.emit('error', { ...ev, recoverable: true }));
  }
}

/** The adapters announce each provider's availability with an event their typings leave out. */
interface Availability {
  on(event: string, listener: (ev: { available: boolean } & Record<string, unknown>) => void): void;
}

function logAvailability(
  logger: Logger,
  s: stt.FallbackAdapter,
  l: llm.FallbackAdapter,
  t: tts.FallbackAdapter,
): void {
  const watch = (kind: 'stt' | 'llm' | 'tts', adapter: unknown) =>
    (adapter as Availability).on(`${kind}_availability_changed`, (ev) => {
      const p = ev[kind] as { label: string | (() => string) } | undefined;
      const provider = typeof p?.label === 'function' ? p.label() : p?.label;
      if (ev.available) logger.info({ kind, provider }, 'speech provider recovered');
      else logger.warn({ kind, provider }, 'speech provider failed; the next one takes over');
    });
  watch('stt', s);
  watch('llm', l);
  watch('tts', t);
}

/** Deepgram's base URL for its WebSocket (STT) and HTTP (TTS) clients, from DEEPGRAM_BASE_URL. */
export function deepgramBases(baseURL: string | undefined): { ws?: string; http?: string } {
  if (baseURL === undefined) return {};
  const base = baseURL.replace(/\/+$/, '');
  return { ws: base.replace(/^http/, 'ws'), http: base.replace(/^ws/, 'http') };
}

type DeepgramPlugin = typeof import('@livekit/agents-plugin-deepgram');
type OpenAIPlugin = typeof import('@livekit/agents-plugin-openai');

function cloudMakers(config: AgentConfig, deepgram: DeepgramPlugin, openai: OpenAIPlugin) {
  const dg = deepgramBases(config.deepgramBaseURL);
  const oa = { apiKey: config.openai.apiKey, baseURL: config.openai.baseURL };
  const voice = (uc: UseCase, deepgramVoice: boolean) => {
    const v = uc.voice.cloud;
    const isDeepgram = v?.startsWith('aura') ?? false;
    if (deepgramVoice) return isDeepgram ? v! : DEEPGRAM_VOICE;
    return v && !isDeepgram ? v : OPENAI_VOICE;
  };
  const deepgramTts = (uc: UseCase) => () =>
    new deepgram.TTS({
      apiKey: config.deepgramApiKey,
      model: voice(uc, true),
      ...(dg.http ? { baseUrl: dg.http } : {}),
    });
  const openaiTts = (uc: UseCase) => () =>
    new openai.TTS({ ...oa, voice: voice(uc, false) as never });
  return {
    // The use case's language reaches the recognizer; its models and temperature, when set, the
    // recognizer and the LLM (the worker's OPENAI_MODEL otherwise).
    stt: (uc: UseCase) =>
      new deepgram.STT({
        apiKey: config.deepgramApiKey,
        model: (uc.speech.sttModel ?? 'nova-3') as never,
        language: uc.language,
        sampleRate: 16000,
        ...(dg.ws ? { baseUrl: dg.ws } : {}),
      }),
    llm: (uc: UseCase) =>
      new openai.LLM({
        ...oa,
        model: uc.speech.llmModel ?? config.openai.model,
        ...(uc.speech.temperature !== undefined ? { temperature: uc.speech.temperature } : {}),
      }),
    /** The configured voice first, the other cloud voice next. */
    tts: (uc: UseCase): (() => tts.TTS)[] =>
      config.cloudTts === 'openai'
        ? [openaiTts(uc), deepgramTts(uc)]
        : [deepgramTts(uc), openaiTts(uc)],
  };
}

/** One line's audio from one TTS (its streaming interface when it has one). */
async function render(t: tts.TTS, text: string): Promise<AudioFrame[]> {
  t.on('error', () => {}); // the failure reaches this caller as a rejection
  const frames: AudioFrame[] = [];
  try {
    if (t.capabilities.streaming) {
      const s = t.stream();
      s.pushText(text);
      s.endInput();
      for await (const ev of s) {
        if (ev === tts.SynthesizeStream.END_OF_STREAM) break;
        frames.push(ev.frame);
      }
      s.close();
    } else {
      for await (const ev of t.synthesize(text)) frames.push(ev.frame);
    }
  } finally {
    await t.close();
  }
  if (frames.length === 0) throw new Error(`${t.label} rendered no audio`);
  return frames;
}

export async function loadCloud(
  config: AgentConfig,
  logger: Logger,
  loadOffline: () => Promise<SpeechProviders>,
): Promise<SpeechProviders> {
  // The Deepgram plugin reads DEEPGRAM_API_KEY when imported: import it only in cloud mode.
  const deepgram = await import('@livekit/agents-plugin-deepgram');
  const openai = await import('@livekit/agents-plugin-openai');
  const offline = await loadOffline();
  const make = cloudMakers(config, deepgram, openai);
  const chains = (uc: UseCase): CloudChains => ({
    stt: [make.stt(uc)],
    llm: [make.llm(uc)],
    tts: make.tts(uc).map((m) => m()),
  });
  logger.info(
    { model: config.openai.model, tts: config.cloudTts, fallback: 'offline' },
    'speech providers: cloud',
  );
  return {
    kind: 'cloud',
    serves: (uc) => servingOf('cloud', uc),
    // A use case that asks for the offline set gets it on a cloud worker too.
    components: (uc, vad) =>
      uc.speech.providers === 'local'
        ? offline.components(uc, vad)
        : withFallbacks(chains(uc), offline.components(uc, vad), logger),
    // The fixed lines in the configured cloud voice; the offline voice when it cannot render them.
    renderSpeech: async (text, uc) => {
      for (const makeTts of make.tts(uc)) {
        try {
          return await render(makeTts(), text);
        } catch (err) {
          logger.warn({ err }, 'a cloud voice could not render a fixed line');
        }
      }
      return offline.renderSpeech(text, uc);
    },
  };
}
