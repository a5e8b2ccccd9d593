// The call's Silero stream against the framework's Silero plugin, on the same speech: telephone
// speech made by Flite, the line's 8 kHz band brought to the session's 16 kHz, with a pause inside.
import { initializeLogger, VADEventType, type VAD, type VADEvent } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import { AudioFrame } from '@livekit/rtc-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { resampleFrames } from '../../../agent/audio.js';
import { CallSilero } from '../../../agent/providers/call-silero.js';
import { synthesizeToPcm } from '../../../agent/providers/flite-tts.js';
import { pcmToFrames } from '../../helpers/audio.js';

initializeLogger({ pretty: false, level: 'error' });

const RATE = 16000;
const silence = (ms: number) =>
  pcmToFrames({ sampleRate: RATE, samples: new Int16Array((RATE * ms) / 1000) });
const telephone = async (text: string) =>
  resampleFrames(
    resampleFrames(pcmToFrames(await synthesizeToPcm(text, { voice: 'rms' })), 8000),
    RATE,
  );

/** 40 ms frames, as the call's audio input gives them. */
function reframe(frames: AudioFrame[], rate = RATE, ms = 40): AudioFrame[] {
  const all = new Int16Array(frames.reduce((n, f) => n + f.data.length, 0));
  let at = 0;
  for (const f of frames) {
    all.set(f.data, at);
    at += f.data.length;
  }
  const n = (rate * ms) / 1000;
  const out: AudioFrame[] = [];
  for (let i = 0; i + n <= all.length; i += n) {
    out.push(new AudioFrame(all.slice(i, i + n), rate, 1, n));
  }
  return out;
}

let call: AudioFrame[];
beforeAll(async () => {
  call = reframe([
    ...silence(600),
    ...(await telephone('my trash was not picked up')),
    ...silence(700),
    ...(await telephone('when is city hall open on monday')),
    ...silence(1200),
  ]);
});

/**
 * Every event of `vad`'s stream over `frames`, up to its last windows (the plugin's stream holds
 * back the last one or two).
 */
async function hear(vad: VAD, frames: AudioFrame[], windowSamples: number): Promise<VADEvent[]> {
  const stream = vad.stream();
  const windows = Math.floor((frames.length * frames[0]!.samplesPerChannel) / windowSamples) - 2;
  const events: VADEvent[] = [];
  let done = 0;
  const reading = (async () => {
    for await (const ev of stream) {
      events.push(ev);
      if (ev.type === VADEventType.INFERENCE_DONE && ++done === windows) break;
    }
  })();
  for (const f of frames) stream.pushFrame(f);
  await reading;
  stream.close();
  return events;
}

const edges = (events: VADEvent[]) =>
  events
    .filter((e) => e.type !== VADEventType.INFERENCE_DONE)
    .map((e) => ({
      type: e.type,
      samplesIndex: e.samplesIndex,
      samples: e.frames[0]!.samplesPerChannel,
    }));

const opts = { minSilenceDuration: 250, activationThreshold: 0.5 };
const callOpts = { minSilenceMs: 250, activationThreshold: 0.5 };

describe('CallSilero', () => {
  it.each([16000, 8000] as const)(
    'at %i Hz, reports what the plugin reports, window for window',
    async (rate) => {
      const audio = rate === RATE ? call : reframe(resampleFrames(call, rate), rate);
      const window = rate === 8000 ? 256 : 512;
      const plugin = await hear(
        await silero.VAD.load({ ...opts, sampleRate: rate }),
        audio,
        window,
      );
      const ours = await hear(await CallSilero.load(callOpts), audio, window);
      expect(ours.length).toBe(plugin.length);
      expect(edges(ours)).toEqual(edges(plugin));
      expect(edges(ours).map((e) => e.type)).toEqual([
        VADEventType.START_OF_SPEECH,
        VADEventType.END_OF_SPEECH,
        VADEventType.START_OF_SPEECH,
        VADEventType.END_OF_SPEECH,
      ]);
      for (let i = 0; i < plugin.length; i++) {
        const [a, b] = [ours[i]!, plugin[i]!];
        expect([a.type, a.speaking, a.speechDuration, a.silenceDuration]).toEqual([
          b.type,
          b.speaking,
          b.speechDuration,
          b.silenceDuration,
        ]);
        expect([a.rawAccumulatedSpeech, a.rawAccumulatedSilence]).toEqual([
          b.rawAccumulatedSpeech,
          b.rawAccumulatedSilence,
        ]);
        expect(a.probability).toBeCloseTo(b.probability, 4);
        // The plugin's start and end frames are views of its buffer, rewritten as it goes on:
        // only each window's own audio can be compared after the fact.
        if (a.type === VADEventType.INFERENCE_DONE) {
          expect(a.frames[0]!.data).toEqual(b.frames[0]!.data);
        }
      }
    },
  );

  it('gives each utterance as its own copy, the padding before it included', async () => {
    const events = await hear(await CallSilero.load(callOpts), call, 512);
    const [start, end] = [VADEventType.START_OF_SPEECH, VADEventType.END_OF_SPEECH].map((t) =>
      events.find((e) => e.type === t)!,
    );
    const startAudio = start!.frames[0]!.data.slice();
    // The utterance: 500 ms of padding, its speech and the silence that ended it.
    expect(end!.frames[0]!.samplesPerChannel / RATE).toBeGreaterThan(1.2);
    // What the start gave is the end's beginning, unchanged by what the stream heard since.
    expect(end!.frames[0]!.data.subarray(0, startAudio.length)).toEqual(startAudio);
    expect(start!.frames[0]!.data).toEqual(startAudio);
  });

  it('starts afresh after a flush', async () => {
    const vad = await CallSilero.load(callOpts);
    const stream = vad.stream();
    const seen: VADEvent[] = [];
    const half = call.slice(0, 60); // the first utterance, cut before its silence ends it
    const reading = (async () => {
      for await (const ev of stream) {
        seen.push(ev);
        if (ev.type === VADEventType.END_OF_SPEECH) break;
      }
    })();
    for (const f of half) stream.pushFrame(f);
    stream.flush();
    for (const f of call) stream.pushFrame(f);
    await reading;
    stream.close();
    const afterFlush = seen.findIndex(
      (e, i) => i > 0 && e.samplesIndex < seen[i - 1]!.samplesIndex,
    );
    expect(afterFlush).toBeGreaterThan(0);
    expect(seen[afterFlush]!.speaking).toBe(false);
    expect(seen.at(-1)!.type).toBe(VADEventType.END_OF_SPEECH);
  });

  it('does not hear audio at a rate the model has not, and says so', async () => {
    const vad = await CallSilero.load();
    const stream = vad.stream();
    stream.pushFrame(new AudioFrame(new Int16Array(4410), 44100, 1, 4410));
    const next = stream.next().then(() => 'an event');
    const quiet = new Promise((r) => setTimeout(() => r('nothing'), 200));
    expect(await Promise.race([next, quiet])).toBe('nothing');
    stream.close();
  });
});
