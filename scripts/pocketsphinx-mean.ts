// Measures the cepstral mean that PocketSphinx decoders start from (TELEPHONE_CEPSTRAL_MEAN in
// agent/providers/pocketsphinx-native.ts): a fresh decoder hears about five seconds of telephone-
// band speech (Flite's `rms` voice, band-limited to 8 kHz and back to 16 kHz) as one streamed
// utterance, and the mean its live CMN has learned is printed.
//   npm run pocketsphinx:mean
import { readFileSync } from 'node:fs';
import { resamplePcm } from '../agent/audio.js';
import { synthesizeToPcm } from '../agent/providers/flite-tts.js';
import { PocketSphinxModel } from '../agent/providers/pocketsphinx-native.js';

const TEXT = 'Hello, I am calling about a problem on my street. Can you help me with that today?';

const speech = await synthesizeToPcm(TEXT, { voice: 'rms' });
const telephone = resamplePcm(resamplePcm(speech.samples, speech.sampleRate, 8000), 8000, 16000);
const model = await PocketSphinxModel.load();
const initial = await model.initialCepstralMean();
// The mean is read from the library's structures: check the reading against the model's file.
const declared = /^-cmninit\s+(\S+)/m.exec(readFileSync(`${model.hmm}/feat.params`, 'utf8'))?.[1];
if (declared && declared.split(',').map(Number).join() !== initial.join()) {
  console.error(`the initial mean read (${initial.join()}) is not the model's (${declared}):`);
  console.error('this libsphinxbase lays its structures out differently; nothing was measured');
  process.exit(1);
}
const measured = await model.measureCepstralMean(telephone);
console.log(`the model's own initial mean: ${initial.join(', ')}`);
console.log(`after ${(telephone.length / 16000).toFixed(1)} s of telephone-band speech:`);
console.log(`  [${measured.join(', ')}]`);
process.exit(0);
