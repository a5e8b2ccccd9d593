// The phone path a caller's voice takes before a recognizer hears it: set to a talker's level,
// band-limited to 8 kHz, G.711 µ-law encoded and decoded (what the carrier and Chime carry), and
// brought to the 16 kHz the recognizers take. The resampler is a windowed sinc of its own, not
// rtc-node's (agent/audio.ts): that one dithers, so its output differs by a bit or two from run to
// run, and the test set must be the same samples every time.
import { decodeG711, encodeG711, RTP_RATE } from '../../../lab/phone/g711.js';
import { TURN_TIMING } from '../../../agent/turn-timing.js';

/** Silero's window at 16 kHz (512 samples). */
const VAD_WINDOW_MS = 32;

export const RECOGNIZER_RATE = 16_000;

/** −20 dBFS: a talker's level on a phone line (ITU-T P.56's active level is near −26 dBov). */
const TARGET_RMS = 32768 * 10 ** (-20 / 20);
/** Head room so that the loudest sample of a peaky voice is not clipped by the level change. */
const MAX_PEAK = 0.9 * 32767;

/** `samples` scaled to TARGET_RMS, or less when that would clip. */
export function toTalkerLevel(samples: Int16Array): Int16Array {
  let sum = 0;
  let peak = 0;
  for (const v of samples) {
    sum += v * v;
    peak = Math.max(peak, Math.abs(v));
  }
  if (peak === 0) return samples.slice();
  const rms = Math.sqrt(sum / samples.length);
  const gain = Math.min(TARGET_RMS / rms, MAX_PEAK / peak);
  return Int16Array.from(samples, (v) => Math.round(v * gain));
}

/** Zero crossings of the sinc on each side: a transition band of about a tenth of the band. */
const SINC_ZEROS = 16;
/** The pass band ends this far below the lower rate's Nyquist frequency. */
const CUTOFF = 0.94;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** The filter's taps for an output sample `phase / phases` of an input sample past `base`. */
function sincTaps(phase: number, phases: number, fc: number): { first: number; weights: number[] } {
  const halfWidth = SINC_ZEROS / (2 * fc);
  const offset = phase / phases;
  const first = Math.ceil(offset - halfWidth);
  const weights: number[] = [];
  for (let k = first; k <= Math.floor(offset + halfWidth); k++) {
    const t = offset - k;
    const x = 2 * fc * t;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const u = t / halfWidth;
    const window = 0.42 + 0.5 * Math.cos(Math.PI * u) + 0.08 * Math.cos(2 * Math.PI * u);
    weights.push(2 * fc * sinc * window);
  }
  return { first, weights };
}

/**
 * Mono PCM from one rate to another with a Blackman-windowed sinc low-pass at the lower rate's
 * band edge; deterministic (plain arithmetic, no dither). Integer rates: output sample n lies at
 * input position n·from/to, so the taps repeat every to/gcd(from, to) samples and are made once.
 */
export function resampleSinc(samples: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (fromRate === toRate) return samples.slice();
  const g = gcd(fromRate, toRate);
  const [num, phases] = [fromRate / g, toRate / g]; // input position of output n: n·num/phases
  const fc = 0.5 * Math.min(1, toRate / fromRate) * CUTOFF; // cycles per input sample
  const taps = Array.from({ length: phases }, (_, p) => sincTaps(p, phases, fc));
  const out = new Int16Array(Math.round((samples.length * toRate) / fromRate));
  for (let n = 0; n < out.length; n++) {
    const base = Math.floor((n * num) / phases);
    const { first, weights } = taps[(n * num) % phases]!;
    let acc = 0;
    for (let k = 0; k < weights.length; k++) {
      const i = base + first + k;
      if (i >= 0 && i < samples.length) acc += samples[i]! * weights[k]!;
    }
    out[n] = Math.max(-32768, Math.min(32767, Math.round(acc)));
  }
  return out;
}

/** µ-law at 8 kHz and back: what a G.711 call leaves of 8 kHz PCM. */
export function mulawRoundTrip(pcm8k: Int16Array): Int16Array {
  return decodeG711(encodeG711(pcm8k, 'PCMU'), 'PCMU');
}

/** A clip at any rate as a recognizer hears it after a G.711 call: 16 kHz mono. */
export function throughPhone(samples: Int16Array, sampleRate: number): Int16Array {
  const narrow = resampleSinc(toTalkerLevel(samples), sampleRate, RTP_RATE);
  return resampleSinc(mulawRoundTrip(narrow), RTP_RATE, RECOGNIZER_RATE);
}

/**
 * The silence around an utterance as the agent's recognizer gets it: the VAD's prefix padding
 * (Silero's default, 500 ms) before the speech, and after it the silence its decode starts on
 * (TURN_TIMING's earlyDecodeMs, counted on the VAD's windows before the one whose event starts
 * it: 96 + 32 ms). The line's silence is digital zero here: G.711 carries zero as zero, and the
 * test set has no line noise.
 */
export const UTTERANCE_PADDING_MS = {
  before: 500,
  after: TURN_TIMING.earlyDecodeMs + VAD_WINDOW_MS,
} as const;

/** `pcm` at `sampleRate` with the silence of UTTERANCE_PADDING_MS around it. */
export function asUtterance(pcm: Int16Array, sampleRate: number): Int16Array {
  const before = Math.round((UTTERANCE_PADDING_MS.before * sampleRate) / 1000);
  const after = Math.round((UTTERANCE_PADDING_MS.after * sampleRate) / 1000);
  const out = new Int16Array(before + pcm.length + after);
  out.set(pcm, before);
  return out;
}

/** 16-bit mono PCM as a WAV file (for a recognizer that takes files). */
export function wavFile(samples: Int16Array, sampleRate: number): Buffer {
  const data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28); // bytes per second
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}
