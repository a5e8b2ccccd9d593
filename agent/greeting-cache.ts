// Each use case's greeting, rendered once at prewarm and played from memory the moment the call is
// answered, so the caller never waits on TTS for the first words. Live TTS is the fallback when a
// greeting is missing from the cache (rendering failed at prewarm, or a use case added since).
import type { AudioFrame } from '@livekit/rtc-node';
import type { UseCase } from '../sip/use-cases.js';

export type RenderSpeech = (text: string, useCase: UseCase) => Promise<AudioFrame[]>;

export class GreetingCache {
  private readonly frames = new Map<string, AudioFrame[]>();

  static key(useCase: UseCase): string {
    return `${useCase.id}|${useCase.voice.local}|${useCase.voice.cloud ?? ''}`;
  }

  /** Renders every greeting; failures are returned, not thrown (live TTS covers them). */
  async warm(
    useCases: readonly UseCase[],
    render: RenderSpeech,
  ): Promise<{ id: string; error: Error }[]> {
    const failures: { id: string; error: Error }[] = [];
    for (const uc of useCases) {
      try {
        const frames = await render(uc.greeting, uc);
        if (frames.length > 0) this.frames.set(GreetingCache.key(uc), frames);
      } catch (error) {
        failures.push({ id: uc.id, error: error as Error });
      }
    }
    return failures;
  }

  has(useCase: UseCase): boolean {
    return this.frames.has(GreetingCache.key(useCase));
  }

  /** A fresh stream of the cached frames, or undefined when the greeting is not cached. */
  stream(useCase: UseCase): ReadableStream<AudioFrame> | undefined {
    const frames = this.frames.get(GreetingCache.key(useCase));
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
