// What the Deepgram stand-in transcribes with: the project's own offline recognizer (Moonshine
// tiny-en, the process's shared model), behind the one method the stand-in needs.
import { MoonshineModel } from '../../agent/providers/moonshine-native.js';

export interface Recognizer {
  /** The words in 16 kHz mono speech ('' when none). */
  transcribe(pcm16k: Int16Array): Promise<string>;
}

/** MoonshineUnavailableError when its files are not installed (`npm run setup` installs them). */
export async function loadRecognizer(): Promise<Recognizer> {
  const model = await MoonshineModel.load();
  return { transcribe: (pcm) => model.transcribe(pcm) };
}
