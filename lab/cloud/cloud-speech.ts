// Cloud speech for a lab run (SPEECH_PROVIDERS=cloud): the real Deepgram and OpenAI when both keys
// are in the environment, otherwise local stand-ins that speak their protocols, started here and
// stopped with the lab. Either way, the worker environment that points the agent at them.
import { randomUUID } from 'node:crypto';
import type { UseCaseCatalog } from '../../contracts/use-cases.js';
import { type DeepgramRequest, startDeepgramStandIn } from './deepgram-server.js';
import { startOpenAIStandIn } from './openai-server.js';
import { loadRecognizer } from './recognizer.js';

export interface CloudSpeech {
  /** Real services (both keys set) or the stand-ins. */
  target: 'real services' | 'stand-ins';
  /** For the agent worker: speech providers, keys and base URLs. */
  workerEnv: Record<string, string>;
  /** What the stand-ins served, by route (empty with the real services). */
  served(): Record<string, number>;
  /**
   * Each stream and request the Deepgram stand-in accepted, in order, with the model and (for a
   * recognizer's stream) the language it asked for (empty with the real services).
   */
  deepgramRequests(): readonly DeepgramRequest[];
  /**
   * The stand-ins' fault switch: these routes (`/v1/listen`, `/v1/speak`, `/v1/chat/completions`,
   * `/v1/audio/speech`) answer with the vendor's server error from now on (`[]` restores them all).
   * Throws with the real services, which the lab cannot switch off.
   */
  fail(routes: readonly string[]): void;
  stop(): Promise<void>;
}

/** Both cloud keys are set: a cloud lab run goes to the real services. */
export function haveCloudKeys(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.DEEPGRAM_API_KEY && env.OPENAI_API_KEY);
}

export async function startCloudSpeech(opts: {
  useCases: UseCaseCatalog;
  env?: NodeJS.ProcessEnv;
}): Promise<CloudSpeech> {
  if (haveCloudKeys(opts.env)) {
    // The worker inherits the keys (and any base URLs) from the environment.
    return {
      target: 'real services',
      workerEnv: { SPEECH_PROVIDERS: 'cloud' },
      served: () => ({}),
      deepgramRequests: () => [],
      fail: () => {
        throw new Error('the real cloud services cannot be switched off');
      },
      stop: async () => {},
    };
  }
  // Keys of this run only: the stand-ins refuse any other, as the services would.
  const deepgramKey = `lab-${randomUUID()}`;
  const openaiKey = `sk-lab-${randomUUID()}`;
  const recognizer = await loadRecognizer();
  const deepgram = await startDeepgramStandIn({ apiKey: deepgramKey, recognizer });
  const openai = await startOpenAIStandIn({ apiKey: openaiKey, useCases: opts.useCases }).catch(
    async (e: unknown) => {
      await deepgram.stop();
      throw e;
    },
  );
  return {
    target: 'stand-ins',
    workerEnv: {
      SPEECH_PROVIDERS: 'cloud',
      DEEPGRAM_API_KEY: deepgramKey,
      DEEPGRAM_BASE_URL: deepgram.url,
      OPENAI_API_KEY: openaiKey,
      OPENAI_BASE_URL: `${openai.url}/v1`,
    },
    served: () => ({ ...deepgram.traffic.served, ...openai.traffic.served }),
    deepgramRequests: () => [...deepgram.requests],
    fail: (routes) => {
      for (const t of [deepgram.traffic, openai.traffic]) {
        t.failing.clear();
        for (const r of routes) t.failing.add(r);
      }
    },
    stop: async () => {
      await Promise.all([deepgram.stop(), openai.stop()]);
    },
  };
}
