// The recognizers the benchmark compares, each behind the same small interface. Each loads its
// provider module only when chosen, so a recognizer's process holds that recognizer alone.
import { deepgramTranscribe } from './deepgram.js';

export const RECOGNIZER_NAMES = ['moonshine', 'moonshine-base', 'deepgram'] as const;
export type RecognizerName = (typeof RECOGNIZER_NAMES)[number];

export interface Recognizer {
  transcribe(pcm16k: Int16Array): Promise<string>;
  /** Printed beside the figures. */
  note?: string;
}

/** A recognizer that cannot run here (files missing, no key): listed as skipped, with why. */
export class RecognizerUnavailableError extends Error {
  override name = 'RecognizerUnavailableError';
}

async function moonshine(modelName?: string): Promise<Recognizer> {
  const ms = await import('../../../agent/providers/moonshine-native.js');
  try {
    const model = await ms.MoonshineModel.load({ model: modelName });
    return { transcribe: (pcm) => model.transcribe(pcm) };
  } catch (err) {
    if (err instanceof ms.MoonshineUnavailableError)
      throw new RecognizerUnavailableError(err.message, { cause: err });
    throw err;
  }
}

async function deepgram(): Promise<Recognizer> {
  const apiKey = process.env.DEEPGRAM_API_KEY;
  if (!apiKey) throw new RecognizerUnavailableError('DEEPGRAM_API_KEY is not set');
  return {
    transcribe: (pcm) => deepgramTranscribe(apiKey, pcm),
    note: 'ran against the real Deepgram service (nova-3, pre-recorded); times include the network',
  };
}

export const LOAD_RECOGNIZER: Record<RecognizerName, () => Promise<Recognizer>> = {
  moonshine: () => moonshine('tiny-en'),
  'moonshine-base': () => moonshine('base-en'),
  deepgram,
};
