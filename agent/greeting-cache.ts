// Each use case's greeting, rendered once at prewarm and played from memory the moment the call is
// answered, so the caller never waits on TTS for the first words. Live TTS is the fallback when a
// greeting is missing from the cache (rendering failed at prewarm, or a use case added since).
// The other fixed lines (agent/lines.ts: the hand-off, the trouble line, the goodbyes, the check-in
// and the offer before the longest call) are kept the same way, so they play with no TTS round
// trip, and even when the TTS provider is what failed.
//
// The framework loads a job process per call, and each would render the same lines again (half a
// second of CPU with Flite; a TTS API request per line and per call in the cloud). A RenderedLines
// store in a directory shared by one worker's job processes renders each line once per worker.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { voice } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import type { UseCase } from '../contracts/use-cases.js';
import { firstChannel, joinFrames, pcmFrames, SPEECH_FRAME_MS, speechFrames } from './audio.js';
import { fixedLines, fixedLineTexts, type FixedLines, type LineName } from './lines.js';

export type RenderSpeech = (text: string, useCase: UseCase) => Promise<AudioFrame[]>;

/** Rendered lines kept by key: the worker's job processes share them. */
export interface RenderedLines {
  get(key: string): AudioFrame[] | undefined;
  put(key: string, frames: AudioFrame[]): void;
}

/**
 * Rendered lines as files in `dir` (mono 16-bit PCM after a 4-byte sample rate), written whole
 * under a temporary name and renamed, so a process never reads a half-written line. A file that
 * cannot be read or written is a miss: the line is rendered in memory as before.
 */
export class RenderedLinesDir implements RenderedLines {
  constructor(private readonly dir: string) {}

  private path(key: string): string {
    return join(this.dir, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.pcm`);
  }

  get(key: string): AudioFrame[] | undefined {
    let buf: Buffer;
    try {
      buf = readFileSync(this.path(key));
    } catch {
      return undefined;
    }
    if (buf.length < 6 || (buf.length - 4) % 2 !== 0) return undefined;
    const rate = buf.readUInt32LE(0);
    const samples = new Int16Array(new Uint8Array(buf.subarray(4)).buffer);
    return pcmFrames(samples, rate, SPEECH_FRAME_MS);
  }

  put(key: string, frames: AudioFrame[]): void {
    const first = frames[0];
    if (!first || frames.some((f) => f.channels !== 1 || f.sampleRate !== first.sampleRate)) return;
    const pcm = joinFrames(frames).data;
    const buf = Buffer.alloc(4 + pcm.byteLength);
    buf.writeUInt32LE(first.sampleRate, 0);
    Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength).copy(buf, 4);
    const path = this.path(key);
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      mkdirSync(this.dir, { recursive: true });
      writeFileSync(tmp, buf);
      renameSync(tmp, path);
    } catch {
      // a cache: the line stays in this process's memory either way
    }
  }
}

export interface RenderFailure {
  /** The use case whose line could not be rendered. */
  id: string;
  error: Error;
}

export class GreetingCache {
  private readonly frames = new Map<string, AudioFrame[]>();

  constructor(private readonly shared?: RenderedLines) {}

  static key(useCase: UseCase, text: string): string {
    return `${useCase.id}|${useCase.voice.local}|${useCase.voice.cloud ?? ''}|${text}`;
  }

  /**
   * Renders every use case's greeting and the `lines` in its voice; failures are returned, not
   * thrown (live TTS covers them).
   */
  warm(
    useCases: readonly UseCase[],
    render: RenderSpeech,
    lines: readonly string[] = [],
  ): Promise<RenderFailure[]> {
    return this.warmEach(useCases, render, (uc) => [uc.greeting, ...lines]);
  }

  /** Renders every fixed line (agent/lines.ts) of each use case, as {@link warm} does. */
  warmFixedLines(useCases: readonly UseCase[], render: RenderSpeech): Promise<RenderFailure[]> {
    return this.warmEach(useCases, render, fixedLineTexts);
  }

  private async warmEach(
    useCases: readonly UseCase[],
    render: RenderSpeech,
    textsOf: (uc: UseCase) => readonly string[],
  ): Promise<RenderFailure[]> {
    const failures: RenderFailure[] = [];
    for (const uc of useCases) {
      for (const text of textsOf(uc)) {
        const failure = await this.warmLine(uc, text, render);
        if (failure) failures.push(failure);
      }
    }
    return failures;
  }

  private async warmLine(
    uc: UseCase,
    text: string,
    render: RenderSpeech,
  ): Promise<RenderFailure | undefined> {
    const key = GreetingCache.key(uc, text);
    if (this.frames.has(key)) return undefined;
    try {
      let frames = this.shared?.get(key);
      if (!frames) {
        // The engine's lead-in silence would be the first thing the caller hears.
        const rendered = await render(text, uc);
        if (rendered.length === 0) return undefined;
        const pcm = joinFrames(rendered.map(firstChannel));
        frames = speechFrames(pcm.data, pcm.sampleRate);
        if (frames.length > 0) this.shared?.put(key, frames);
      }
      if (frames.length > 0) this.frames.set(key, frames);
      return undefined;
    } catch (error) {
      return { id: uc.id, error: error as Error };
    }
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

/**
 * One call's fixed lines: each plays from the cache when it was rendered, else by live TTS. When
 * the caller switches language (agent/language-switch.ts) they switch with it, for every part of
 * the call that says them.
 */
export class CallLines {
  private _lines: FixedLines;

  constructor(
    private useCase: UseCase,
    private readonly cache?: GreetingCache,
  ) {
    this._lines = fixedLines(useCase);
  }

  get lines(): FixedLines {
    return this._lines;
  }

  /** From now on, the lines (and their voice) of `useCase`: the call's use case in a language. */
  switchTo(useCase: UseCase): void {
    this.useCase = useCase;
    this._lines = fixedLines(useCase);
  }

  isCached(name: LineName): boolean {
    return this.cache?.has(this.useCase, this.lines[name]) ?? false;
  }

  say(
    session: voice.AgentSession,
    name: LineName,
    opts: { allowInterruptions?: boolean } = {},
  ): voice.SpeechHandle {
    const text = this.lines[name];
    return session.say(text, { audio: this.cache?.stream(this.useCase, text), ...opts });
  }
}
