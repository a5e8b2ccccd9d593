// The recognition test set, made at run time: every sentence in every chosen voice, through the
// phone path. Deterministic (the same sentences and voices give the same samples, in the same
// order), so runs on different days and machines hear the same audio. Not cached: making the whole
// set takes seconds, recognising it minutes.
import type { Feed } from './args.js';
import { asUtterance, RECOGNIZER_RATE, throughPhone } from './phone.js';
import type { Sentence } from './sentences.js';
import type { Voice } from './voices.js';

export interface Clip {
  /** `<voice>/<sentence>`. */
  id: string;
  voice: string;
  sentence: string;
  text: string;
  /** 16 kHz mono, after the phone path (and with an utterance's silence around it, as fed). */
  pcm: Int16Array;
  /** The length of `pcm`. */
  audioMs: number;
}

/** The clips in plan order: sentence by sentence, each in every voice, fed as `feed` says. */
export async function makeTestSet(
  sentences: readonly Sentence[],
  voices: readonly Voice[],
  feed: Feed = 'utterance',
): Promise<Clip[]> {
  const clips: Clip[] = [];
  for (const s of sentences) {
    for (const v of voices) {
      const spoken = await v.speak(s.text);
      const line = throughPhone(spoken.samples, spoken.sampleRate);
      const pcm = feed === 'utterance' ? asUtterance(line, RECOGNIZER_RATE) : line;
      clips.push({
        id: `${v.id}/${s.id}`,
        voice: v.id,
        sentence: s.id,
        text: s.text,
        pcm,
        audioMs: (pcm.length / RECOGNIZER_RATE) * 1000,
      });
    }
  }
  return clips;
}
