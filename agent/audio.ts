// Small PCM helpers over rtc-node's resampler. AudioResampler buffers the filter's tail, so every
// conversion ends with flush(), and closes the native resampler afterwards.
import { AudioFrame, AudioResampler } from '@livekit/rtc-node';

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
  return joinFrames(out).data;
}

/**
 * Frames of one rate and channel count as one frame, copied with typed-array copies. rtc-node's
 * `combineAudioFrames` spreads every sample into a JavaScript array first: a 3 s line cost a job
 * process tens of milliseconds of CPU, and its fixed lines at every spare's load over half a second.
 */
export function joinFrames(frames: readonly AudioFrame[]): AudioFrame {
  const first = frames[0];
  if (!first) throw new Error('no audio frames to join');
  let samples = 0;
  for (const f of frames) {
    if (f.sampleRate !== first.sampleRate || f.channels !== first.channels) {
      throw new Error(
        `audio frames differ: ${f.sampleRate} Hz × ${f.channels} after ${first.sampleRate} Hz × ${first.channels}`,
      );
    }
    samples += f.samplesPerChannel;
  }
  const data = new Int16Array(samples * first.channels);
  let at = 0;
  for (const f of frames) {
    const n = f.samplesPerChannel * f.channels;
    data.set(f.data.length === n ? f.data : f.data.subarray(0, n), at);
    at += n;
  }
  return new AudioFrame(data, first.sampleRate, first.channels, samples);
}

/** The first channel of a frame. */
export function firstChannel(f: AudioFrame): AudioFrame {
  if (f.channels === 1) return f;
  const data = new Int16Array(f.samplesPerChannel);
  for (let i = 0; i < data.length; i++) data[i] = f.data[i * f.channels]!;
  return new AudioFrame(data, f.sampleRate, 1, data.length);
}

/** Root mean square of PCM samples (0 for none). */
export function pcmRms(samples: Int16Array): number {
  let sum = 0;
  for (const v of samples) sum += v * v;
  return samples.length ? Math.sqrt(sum / samples.length) : 0;
}

/** Root mean square of a frame's samples (all channels). */
export function frameRms(f: AudioFrame): number {
  return pcmRms(f.data);
}

/** −54 dBFS: below any speech onset, above TTS engines' digital near-silence. */
export const SILENCE_RMS = 64;

/**
 * The length of the frames the agent's speech goes to the room in. Every frame costs a trip through
 * the framework's streams and rtc-node's FFI whatever its length: 100 ms frames cost a fifth of
 * 20 ms ones (0.4 s less CPU in a 25 s call, measured). They delay nothing: the audio is rendered
 * whole before it plays, the room's audio source queues 200 ms, and WebRTC takes 10 ms at a time.
 */
export const SPEECH_FRAME_MS = 100;

/** Mono PCM as frames of `frameMs` (the last may be shorter), each owning its buffer. */
export function pcmFrames(samples: Int16Array, rate: number, frameMs: number): AudioFrame[] {
  const n = Math.max(1, Math.round((rate * frameMs) / 1000));
  const frames: AudioFrame[] = [];
  for (let i = 0; i < samples.length; i += n) {
    const data = samples.slice(i, i + n);
    frames.push(new AudioFrame(data, rate, 1, data.length));
  }
  return frames;
}

/** The window speech onset is looked for in: fine enough to keep no audible lead-in. */
const ONSET_WINDOW_MS = 20;

/**
 * Where speech starts in mono PCM: the first sample of the first 20 ms window at or above
 * `threshold` RMS, or 0 when there is none (silence-only audio is kept whole).
 */
export function speechOnset(samples: Int16Array, rate: number, threshold = SILENCE_RMS): number {
  const n = Math.max(1, Math.round((rate * ONSET_WINDOW_MS) / 1000));
  for (let i = 0; i < samples.length; i += n) {
    if (pcmRms(samples.subarray(i, i + n)) >= threshold) return i;
  }
  return 0;
}

/**
 * Speech ready to play: from its onset on, in SPEECH_FRAME_MS frames. TTS engines start each
 * utterance with up to a quarter second of silence, which the caller would otherwise wait through
 * before the first word. The onset itself is soft (at most −54 dBFS), so starting there does not
 * click.
 */
export function speechFrames(samples: Int16Array, rate: number): AudioFrame[] {
  return pcmFrames(samples.subarray(speechOnset(samples, rate)), rate, SPEECH_FRAME_MS);
}
