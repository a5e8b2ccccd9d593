// Prints what the offline speech recognizer (Moonshine, English only: tiny-en, or the model
// MOONSHINE_MODEL names) hears in WAV files, with each file's length and how long the decoding took.
//   [MOONSHINE_MODEL=base-en] npm run stt -- FILE.wav [FILE2.wav ...]
// Mono 8 or 16 kHz, 16-bit PCM or µ-law; 8 kHz audio is resampled to the model's 16 kHz as the
// agent resamples a phone call's.
import { resamplePcm } from '../agent/audio.js';
import {
  MOONSHINE_SAMPLE_RATE,
  MoonshineModel,
  MoonshineUnavailableError,
} from '../agent/providers/moonshine-native.js';
import { readWavFile, WavFileError } from './lib/wav-file.js';

const files = process.argv.slice(2).filter((a) => a !== '--');
if (files.length === 0) {
  console.error('usage: npm run stt -- FILE.wav [FILE2.wav ...]');
  process.exit(2);
}

async function loadModel(): Promise<MoonshineModel> {
  try {
    const started = performance.now();
    const model = await MoonshineModel.load();
    console.error(`Moonshine ${model.modelName} loaded from ${model.dir} in ${ms(started)} ms`);
    return model;
  } catch (err) {
    if (!(err instanceof MoonshineUnavailableError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}

function ms(since: number): string {
  return (performance.now() - since).toFixed(0);
}

/** Transcribes one file and prints it; false when the file cannot be read. */
async function transcribeFile(model: MoonshineModel, file: string): Promise<boolean> {
  let wav;
  try {
    wav = await readWavFile(file);
  } catch (err) {
    if (!(err instanceof WavFileError)) throw err;
    console.error(`error: ${err.message}`);
    return false;
  }
  const seconds = wav.samples.length / wav.sampleRate;
  const pcm = resamplePcm(wav.samples, wav.sampleRate, MOONSHINE_SAMPLE_RATE);
  const started = performance.now();
  const text = await model.transcribe(pcm);
  const decodeMs = ms(started);
  console.log(
    `${file}: ${seconds.toFixed(2)} s of audio (${wav.sampleRate} Hz ${wav.encoding}), decoded in ${decodeMs} ms`,
  );
  console.log(`  ${text ? JSON.stringify(text) : '(nothing heard)'}`);
  return true;
}

const model = await loadModel();
let failed = 0;
for (const file of files) if (!(await transcribeFile(model, file))) failed += 1;
await model.close();
process.exit(failed > 0 ? 1 : 0);
