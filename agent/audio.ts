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
