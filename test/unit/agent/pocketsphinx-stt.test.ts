// PocketSphinx through the framework's STT interface, on real speech made by Flite (a different
// voice from the agent's), at 16 kHz and at 8 kHz telephone quality.
import { initializeLogger, stt } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import type { AudioFrame } from '@livekit/rtc-node';
import { resampleFrames, resamplePcm } from '../../../agent/audio.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesizeToPcm } from '../../../agent/providers/flite-tts.js';
import { pcmToFrames } from '../../helpers/audio.js';
import {
  PocketSphinxModel,
  PocketSphinxSTT,
  PocketSphinxUnavailableError,
  TELEPHONE_CEPSTRAL_MEAN,
} from '../../../agent/providers/pocketsphinx-stt.js';

initializeLogger({ pretty: false, level: 'error' });

let model: PocketSphinxSTT;
beforeAll(async () => {
  const t = performance.now();
  model = await PocketSphinxSTT.load();
  console.log(`PocketSphinx model load: ${(performance.now() - t).toFixed(0)} ms`);
});

async function speech(text: string, rate: number): Promise<AudioFrame[]> {
  return resampleFrames(pcmToFrames(await synthesizeToPcm(text, { voice: 'rms' })), rate);
}

const words = (text: string) => new Set(text.toLowerCase().split(/\s+/));

describe('PocketSphinxSTT', () => {
  it.each([16000, 8000, 48000])('transcribes speech at %i Hz', async (rate) => {
    const frames = await speech('I would like to report a pothole on my street', rate);
    const t = performance.now();
    const ev = await model.recognize(frames);
    const ms = performance.now() - t;
    const text = ev.alternatives?.[0]?.text ?? '';
    const audioS = frames.reduce((n, f) => n + f.samplesPerChannel / f.sampleRate, 0);
    console.log(
      `${rate} Hz: "${text}" (${ms.toFixed(0)} ms for ${audioS.toFixed(1)} s, RTF ${(ms / 1000 / audioS).toFixed(2)})`,
    );
    const heard = words(text);
    const expected = ['report', 'pothole', 'street', 'like'];
    expect(expected.filter((w) => heard.has(w)).length).toBeGreaterThanOrEqual(2);
  });

  it('serves several utterances at once from one decoder, each getting its own words', async () => {
    const [a, b] = await Promise.all([
      speech('when is city hall open', 16000),
      speech('my trash was not picked up', 16000),
    ]);
    const [ra, rb] = await Promise.all([model.recognize(a!), model.recognize(b!)]);
    expect(words(ra.alternatives![0]!.text).has('hall')).toBe(true);
    expect(words(rb.alternatives![0]!.text).has('trash')).toBe(true);
  });

  it('returns an empty transcript for silence', async () => {
    const silence = pcmToFrames({ sampleRate: 16000, samples: new Int16Array(16000) });
    const ev = await model.recognize(silence);
    expect(ev.alternatives![0]!.text.trim()).toBe('');
  });

  it('names the Debian packages when the model is missing', async () => {
    await expect(PocketSphinxSTT.load({ lm: '/nonexistent/en-us.lm.bin' })).rejects.toThrow(
      PocketSphinxUnavailableError,
    );
    await expect(PocketSphinxSTT.load({ lm: '/nonexistent/en-us.lm.bin' })).rejects.toThrow(
      /pocketsphinx-en-us/,
    );
  });

  it('streams with a VAD: start, end, then the transcript decoded while the caller spoke', async () => {
    const vad = await silero.VAD.load({ minSilenceDuration: 300, sampleRate: 16000 });
    const streaming = new PocketSphinxSTT(
      await PocketSphinxSTT.loadModel({ cepstralMean: TELEPHONE_CEPSTRAL_MEAN }),
      vad,
    );
    expect(streaming.capabilities.streaming).toBe(true);
    const stream = streaming.stream();
    const frames = [
      ...pcmToFrames({ sampleRate: 8000, samples: new Int16Array(2400) }),
      ...(await speech('when is city hall open', 8000)),
      ...pcmToFrames({ sampleRate: 8000, samples: new Int16Array(8000) }),
    ];
    for (const f of frames) stream.pushFrame(f);
    const events: { type: stt.SpeechEventType; text?: string; at: number }[] = [];
    for await (const ev of stream) {
      events.push({ type: ev.type, text: ev.alternatives?.[0]?.text, at: Date.now() });
      if (ev.type === stt.SpeechEventType.FINAL_TRANSCRIPT) break;
    }
    stream.close();
    expect(events.map((e) => e.type)).toEqual([
      stt.SpeechEventType.START_OF_SPEECH,
      stt.SpeechEventType.END_OF_SPEECH,
      stt.SpeechEventType.FINAL_TRANSCRIPT,
    ]);
    expect(events[2]!.text).toMatch(/hall|open/);
  });

  describe('the cepstral mean a decoder starts from', () => {
    // Telephone-band speech as one streamed utterance: live CMN, as in a call.
    async function telephone(text: string): Promise<Int16Array> {
      const pcm = await synthesizeToPcm(text, { voice: 'rms' });
      return resamplePcm(resamplePcm(pcm.samples, pcm.sampleRate, 8000), 8000, 16000);
    }
    async function firstUtterance(model: PocketSphinxModel, pcm: Int16Array): Promise<string> {
      const u = await model.begin();
      for (let i = 0; i < pcm.length; i += 1600) u.feed(pcm.subarray(i, i + 1600));
      return u.finish();
    }
    const line = 'my trash was not picked up this week';

    it("with the model's default, a fresh decoder misreads telephone speech; with the telephone mean it does not", async () => {
      const pcm = await telephone(line);
      const plain = await firstUtterance(await PocketSphinxModel.load(), pcm);
      const tuned = await firstUtterance(
        await PocketSphinxModel.load({ cepstralMean: TELEPHONE_CEPSTRAL_MEAN }),
        pcm,
      );
      console.log(`default mean: "${plain}"; telephone mean: "${tuned}"`);
      expect(words(tuned)).toEqual(words(line));
      expect(words(plain)).not.toEqual(words(line));
    });

    it('the telephone mean is what a decoder learns from telephone speech (measured again)', async () => {
      const model = await PocketSphinxModel.load();
      const speech = await telephone(
        'Hello, I am calling about a problem on my street. Can you help me with that today?',
      );
      const measured = await model.measureCepstralMean(speech);
      expect(measured).toHaveLength(TELEPHONE_CEPSTRAL_MEAN.length);
      measured.forEach((v, i) => expect(v).toBeCloseTo(TELEPHONE_CEPSTRAL_MEAN[i]!, 0));
      // And differs from where a decoder starts by default, so the reading is a real one.
      const initial = await model.initialCepstralMean();
      expect(initial[1]).toBeCloseTo(-5.29, 1);
    });
  });
});
