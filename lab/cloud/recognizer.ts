// What the Deepgram stand-in transcribes with: the project's own offline recognizer, behind the
// one method the stand-in needs. Moonshine when its module is in the tree, PocketSphinx otherwise.
import {
  PocketSphinxModel,
  TELEPHONE_CEPSTRAL_MEAN,
} from '../../agent/providers/pocketsphinx-native.js';

export interface Recognizer {
  readonly name: string;
  /** The words in 16 kHz mono speech ('' when none). */
  transcribe(pcm16k: Int16Array): Promise<string>;
}

interface MoonshineModule {
  MoonshineModel: { load(): Promise<{ transcribe(pcm16k: Int16Array): Promise<string> }> };
}

// Read through a variable: the module may not be in the tree, and the stand-in must load without it.
const MOONSHINE_MODULE = '../../agent/providers/moonshine-native.js';

async function loadMoonshine(): Promise<Recognizer | undefined> {
  let mod: MoonshineModule;
  try {
    mod = (await import(MOONSHINE_MODULE)) as MoonshineModule;
  } catch {
    return undefined;
  }
  try {
    const model = await mod.MoonshineModel.load();
    return { name: 'moonshine', transcribe: (pcm) => model.transcribe(pcm) };
  } catch {
    return undefined; // its model files are not installed here: the other recognizer serves
  }
}

export async function loadRecognizer(): Promise<Recognizer> {
  const moonshine = await loadMoonshine();
  if (moonshine) return moonshine;
  const model = await PocketSphinxModel.load({ cepstralMean: TELEPHONE_CEPSTRAL_MEAN });
  return { name: 'pocketsphinx', transcribe: (pcm) => model.transcribe(pcm) };
}
