// Flite TTS for real (the WASI build, in its worker): through the framework's TTS interface the way
// the session drives a non-streaming TTS, and through the standalone helper used for the greeting
// cache and the scripted caller.
import { initializeLogger, tokenize, tts } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FLITE_VOICES,
  FliteTTS,
  FliteVoiceError,
  synthesizeToPcm,
  warmUpFlite,
} from '../../../agent/providers/flite-tts.js';
import { pcmToFrames } from '../../helpers/audio.js';

initializeLogger({ pretty: false, level: 'warn' });

const SENTENCE = 'Thanks for calling the city services line. How can I help you today?';

function rms(samples: Int16Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / Math.max(1, samples.length));
}

function seconds(frames: AudioFrame[]): number {
  return frames.reduce((t, f) => t + f.samplesPerChannel / f.sampleRate, 0);
}

function joined(frames: AudioFrame[]): Int16Array {
  const out = new Int16Array(frames.reduce((n, f) => n + f.samplesPerChannel, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f.data.subarray(0, f.samplesPerChannel), at);
    at += f.samplesPerChannel;
  }
  return out;
}

async function collect(stream: AsyncIterable<tts.SynthesizedAudio>) {
  const events: tts.SynthesizedAudio[] = [];
  for await (const ev of stream) events.push(ev);
  return { events, frames: events.map((e) => e.frame) };
}

const errors: unknown[] = [];
const agentTts = new FliteTTS();
agentTts.on('error', (e) => errors.push(e));

beforeAll(async () => {
  const { initMs } = await warmUpFlite();
  expect(initMs).toBeGreaterThan(0);
});

afterAll(async () => {
  await agentTts.close();
  expect(errors).toEqual([]);
});

describe('FliteTTS', () => {
  it('declares itself non-streaming, mono, at the voice rate', () => {
    expect(agentTts.capabilities.streaming).toBe(false);
    expect(agentTts.sampleRate).toBe(16000);
    expect(agentTts.numChannels).toBe(1);
    expect(agentTts.model).toBe('kal16');
    expect(agentTts.provider).toBe('flite');
  });

  it('synthesizes a sentence into 100 ms frames, the last marked final', async () => {
    const { events, frames } = await collect(agentTts.synthesize(SENTENCE));
    expect(frames.length).toBeGreaterThan(5);
    for (const f of frames) {
      expect(f.sampleRate).toBe(16000);
      expect(f.channels).toBe(1);
    }
    for (const f of frames.slice(0, -1)) expect(f.samplesPerChannel).toBe(1600);
    expect(frames.at(-1)!.samplesPerChannel).toBeLessThanOrEqual(1600);
    expect(events.map((e) => e.final)).toEqual(events.map((_e, i) => i === events.length - 1));
    const requestId = events[0]!.requestId;
    expect(requestId).not.toBe('');
    expect(events.every((e) => e.requestId === requestId && e.segmentId === requestId)).toBe(true);
    expect(seconds(frames)).toBeGreaterThan(1);
    expect(seconds(frames)).toBeLessThan(6);
    expect(rms(joined(frames))).toBeGreaterThan(300); // speech, not silence
  });

  it('speaks with a different voice when asked', async () => {
    const slt = new FliteTTS({ voice: 'slt' });
    const [a, b] = await Promise.all([
      collect(agentTts.synthesize(SENTENCE)),
      collect(slt.synthesize(SENTENCE)),
    ]);
    expect(b.frames[0]!.sampleRate).toBe(16000);
    expect(rms(joined(b.frames))).toBeGreaterThan(300);
    expect(Buffer.from(joined(a.frames).buffer).equals(Buffer.from(joined(b.frames).buffer))).toBe(
      false,
    );
  });

  it('resamples to a requested rate', async () => {
    const at24 = new FliteTTS({ sampleRate: 24000 });
    expect(at24.sampleRate).toBe(24000);
    const { frames } = await collect(at24.synthesize('One moment please.'));
    expect(frames.every((f) => f.sampleRate === 24000)).toBe(true);
    expect(frames.slice(0, -1).every((f) => f.samplesPerChannel === 2400)).toBe(true);
  });

  it('streams sentence by sentence as the session does (tts.StreamAdapter)', async () => {
    const adapter = new tts.StreamAdapter(agentTts, new tokenize.basic.SentenceTokenizer());
    for (const stream of [adapter.stream(), agentTts.stream()]) {
      stream.pushText('Thanks for calling the city services line. ');
      stream.pushText('I can help you report a pothole or pay a parking ticket.');
      stream.endInput();
      const frames: AudioFrame[] = [];
      for await (const ev of stream) {
        if (ev === tts.SynthesizeStream.END_OF_STREAM) break;
        frames.push(ev.frame);
      }
      stream.close();
      expect(seconds(frames)).toBeGreaterThan(3);
      expect(frames.every((f) => f.sampleRate === 16000)).toBe(true);
    }
    await adapter.close();
  });

  it('stops quietly when interrupted, and says nothing for empty text', async () => {
    const ac = new AbortController();
    const stream = agentTts.synthesize(SENTENCE, undefined, ac.signal);
    ac.abort();
    expect((await collect(stream)).frames).toEqual([]);
    expect((await collect(agentTts.synthesize('  \n '))).frames).toEqual([]);
  });

  it('refuses an unknown voice at construction', () => {
    expect(() => new FliteTTS({ voice: 'nope' })).toThrow(FliteVoiceError);
    expect(() => new FliteTTS({ voice: 'nope' })).toThrow(/unknown Flite voice "nope".*kal16/);
  });
});

describe('synthesizeToPcm', () => {
  it('renders PCM at the voice rate outside a session', async () => {
    const pcm = await synthesizeToPcm('Hello, this is your city services line.');
    expect(pcm.sampleRate).toBe(16000);
    expect(pcm.samples.length / pcm.sampleRate).toBeGreaterThan(1);
    expect(pcm.samples.length / pcm.sampleRate).toBeLessThan(6);
    expect(rms(pcm.samples)).toBeGreaterThan(300);
    const frames = pcmToFrames(pcm);
    expect(frames[0]!.samplesPerChannel).toBe(320);
    expect(seconds(frames)).toBeCloseTo(pcm.samples.length / pcm.sampleRate, 6);
  });

  it('honours voice, rate and speaking rate', async () => {
    const text = 'Please hold while I connect you.';
    const [normal, fast, at8k, at48k] = await Promise.all([
      synthesizeToPcm(text, { voice: 'rms' }),
      synthesizeToPcm(text, { voice: 'rms', speakingRate: 1.5 }),
      synthesizeToPcm(text, { voice: 'kal' }),
      synthesizeToPcm(text, { voice: 'rms', sampleRate: 48000 }),
    ]);
    expect(FLITE_VOICES.kal).toBe(8000);
    expect(at8k.sampleRate).toBe(8000);
    expect(fast.samples.length).toBeLessThan(normal.samples.length * 0.8);
    expect(at48k.sampleRate).toBe(48000);
    const [d16, d48] = [normal.samples.length / 16000, at48k.samples.length / 48000];
    expect(Math.abs(d48 - d16)).toBeLessThan(0.05);
  });

  it('rejects an unknown voice or rate with a clear error', async () => {
    await expect(synthesizeToPcm('Hello.', { voice: 'alloy' })).rejects.toThrow(
      /unknown Flite voice "alloy" \(available: kal16, slt, rms, awb, kal\)/,
    );
    await expect(synthesizeToPcm('Hello.', { speakingRate: 5 })).rejects.toThrow(RangeError);
  });
});
