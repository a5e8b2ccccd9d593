// "Welcome back, Jordan": a returning caller's name. The line is rendered while the call rings,
// once the profile has come in (agent/call-memory.ts). Ready at the answer, it plays with the cached
// greeting as one utterance; ready while the greeting plays, right after it; later, not at all. The
// greeting never waits for it.
import type { voice } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import type { Logger } from 'pino';
import { isEnglish, type UseCase } from '../contracts/use-cases.js';
import type { CallMemory } from './call-memory.js';
import { GreetingCache, type RenderSpeech } from './greeting-cache.js';

export const welcomeText = (name: string) => `Welcome back, ${name}.`;

export class Welcome {
  private ready: { text: string; cache: GreetingCache; useCase: UseCase } | undefined;
  private onReady: (() => void) | undefined;

  /** Starts rendering the welcome once the profile's read ends with a name (English use cases). */
  prepare(memory: CallMemory, useCase: UseCase, render: RenderSpeech, logger: Logger): void {
    if (!isEnglish(useCase.language)) return;
    const started = Date.now();
    void memory.readProfile().then(async () => {
      const name = memory.knownName();
      logger.info({ profileMs: Date.now() - started, known: name !== undefined }, 'profile read');
      if (!name) return;
      const text = welcomeText(name);
      // The line is cached as a use case whose greeting it is, in this call's own cache.
      const line = { ...useCase, greeting: text };
      const cache = new GreetingCache();
      const failures = await cache.warm([line], render);
      if (failures.length > 0 || !cache.has(line)) {
        logger.warn({ reason: 'welcome_not_rendered' }, 'plain greeting');
        return;
      }
      this.ready = { text, cache, useCase: line };
      logger.info({ welcomeMs: Date.now() - started }, 'welcome ready');
      this.onReady?.();
    });
  }

  /**
   * Says the welcome and the greeting as one, when both are ready in memory; false otherwise (the
   * caller then hears the plain greeting).
   */
  sayWithGreeting(
    session: voice.AgentSession,
    greetings: GreetingCache,
    useCase: UseCase,
  ): boolean {
    const r = this.ready;
    const greeting = greetings.stream(useCase);
    const welcome = r?.cache.stream(r.useCase);
    if (!r || !greeting || !welcome) return false;
    session.say(`${r.text} ${useCase.greeting}`, {
      audio: concat([welcome, greeting]),
      allowInterruptions: true,
    });
    return true;
  }

  /**
   * The welcome, when it becomes ready while the greeting (already playing, never held for it) is
   * still being said: it follows the greeting. Later than that, the caller has begun; nothing.
   */
  followGreeting(session: voice.AgentSession, greeting: voice.SpeechHandle): void {
    this.onReady = () => {
      const r = this.ready;
      if (!r || greeting.done()) return;
      session.say(r.text, { audio: r.cache.stream(r.useCase), allowInterruptions: true });
    };
    if (this.ready) this.onReady(); // ready, but the greeting was not cached to play it with
  }
}

function concat(streams: ReadableStream<AudioFrame>[]): ReadableStream<AudioFrame> {
  const readers = streams.map((s) => s.getReader());
  let i = 0;
  return new ReadableStream<AudioFrame>({
    async pull(controller) {
      while (i < readers.length) {
        const { done, value } = await readers[i]!.read();
        if (!done) {
          controller.enqueue(value);
          return;
        }
        i++;
      }
      controller.close();
    },
  });
}
