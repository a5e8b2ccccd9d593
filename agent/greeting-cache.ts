// Each use case's greeting, rendered once at prewarm and played from memory the moment the call is
// answered, so the caller never waits on TTS for the first words. Live TTS is the fallback when a
// greeting is missing from the cache (rendering failed at prewarm, or a use case added since).
// A few fixed lines (the hand-off line, the provider-trouble line) are kept the same way, so they
// play even when the TTS provider is what failed.
import type { AudioFrame } from '@livekit/rtc-node';
import type { UseCase } from '../sip/use-cases.js';
import { dropLeadingSilence } from './audio.js';

export type RenderSpeech = (text: string, useCase: UseCase) => Promise<AudioFrame[]>;

export class GreetingCache {
  private readonly frames = new Map<string, AudioFrame[]>();

  static key(useCase: UseCase, text: string): string {
    return `${useCase.id}|${useCase.voice.local}|${useCase.voice.cloud ?? ''}|${text}`;
  }

  /**
   * Renders every use case's greeting and the `lines` in its voice; failures are returned, not
   * thrown (live TTS covers them).
   */
  async warm(
    useCases: readonly UseCase[],
    render: RenderSpeech,
    lines: readonly string[] = [],
  ): Promise<{ id: string; error: Error }[]> {
    const failures: { id: string; error: Error }[] = [];
    for (const uc of useCases) {
      for (const text of [uc.greeting, ...lines]) {
        try {
          // The engine's lead-in silence would be the first thing the caller hears.
          const frames = dropLeadingSilence(await render(text, uc));
          if (frames.length > 0) this.frames.set(GreetingCache.key(uc, text), frames);
        } catch (error) {
          failures.push({ id: uc.id, error: error as Error });
        }
      }
    }
    return failures;
  }

  has(useCase: UseCase, text = useCase.greeting): boolean {
    return this.frames.has(GreetingCache.key(useCase, text));
  }

  /** A fresh stream of the cached frames, or undefined when the line is not cached. */
  stream(useCase: UseCase, text = useCase.greeting): ReadableStream<AudioFrame> | undefined {
    const frames = this.frames.get(GreetingCache.key(useCase, text));
    if (!frames) return undefined;
    let i = 0;
    return new ReadableStream<AudioFrame>({
      pull(controller) {
        if (i < frames.length) controller.enqueue(frames[i++]!);
        else controller.close();
      },
    });
  }
}
