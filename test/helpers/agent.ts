// Stand-ins for the agent's session tests.
import { FliteTTS } from '../../agent/providers/flite-tts.js';

/** A Flite TTS that records what it is asked to say (a line played from the cache is not). */
export class CountingTTS extends FliteTTS {
  texts: string[] = [];
  override synthesize(
    text: string,
    ...rest: Parameters<FliteTTS['synthesize']> extends [string, ...infer R] ? R : never
  ) {
    this.texts.push(text);
    return super.synthesize(text, ...rest);
  }
}
