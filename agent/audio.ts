// Small PCM helpers over rtc-node's resampler. AudioResampler buffers the filter's tail, so every
// conversion ends with flush(), and closes the native resampler afterwards.
import { AudioFrame, AudioResampler, combineAudioFrames } from '@livekit/rtc-node';

/** Mono frames at `rate` (frames already at that rate pass through untouched). */
export function resampleFrames(frames: AudioFrame[], rate: number): AudioFrame[] {
  const first = frames[0];
  if (!first || first.sampleRate === rate) return frames;
  const r = new AudioResampler(first.sampleRate, rate, 1);
  try {
    return [...frames.flatMap((f) => r.push(f)), ...r.flush()];
  } finally {
    r.close();
  }
}

/** Mono PCM converted from one sample rate to another. */
export function resamplePcm(samples: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (fromRate === toRate || samples.length === 0) return samples;
  const out = resampleFrames([new AudioFrame(samples, fromRate, 1, samples.length)], toRate);
  return combineAudioFrames(out).data;
}

/** The first channel of a frame. */
export function firstChannel(f: AudioFrame): AudioFrame {
  if (f.channels === 1) return f;
  const data = new Int16Array(f.samplesPerChannel);
  for (let i = 0; i < data.length; i++) data[i] = f.data[i * f.channels]!;
  return new AudioFrame(data, f.sampleRate, 1, data.length);
}

/** Root mean square of a frame's samples (all channels). */
export function frameRms(f: AudioFrame): number {
  let sum = 0;
  for (const v of f.data) sum += v * v;
  return f.data.length ? Math.sqrt(sum / f.data.length) : 0;
}

/** −54 dBFS: below any speech onset, above TTS engines' digital near-silence. */
export const SILENCE_RMS = 64;

/**
 * The frames from speech onset on (optionally keeping `keepFrames` quiet frames before it). TTS
 * engines start each utterance with up to a quarter second of silence, which the caller would
 * otherwise wait through before the first word. The onset itself is soft (at most −54 dBFS), so
 * starting there does not click. Silence-only input is returned whole.
 */
export function dropLeadingSilence(
  frames: AudioFrame[],
  keepFrames = 0,
  threshold = SILENCE_RMS,
): AudioFrame[] {
  const onset = frames.findIndex((f) => frameRms(f) >= threshold);
  if (onset <= keepFrames || onset < 0) return frames;
  return frames.slice(onset - keepFrames);
}
