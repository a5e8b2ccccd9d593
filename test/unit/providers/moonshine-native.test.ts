// The real offline recognizer, Moonshine tiny-en from .tools/moonshine (npm run setup installs it),
// on speech made by Flite in a voice other than the agent's, wideband and telephone-band.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resamplePcm } from '../../../agent/audio.js';
import { synthesizeToPcm } from '../../../agent/providers/flite-tts.js';
import {
  MoonshineModel,
  MoonshineUnavailableError,
} from '../../../agent/providers/moonshine-native.js';

let model: MoonshineModel;
beforeAll(async () => {
  model = await MoonshineModel.load();
});

/** `text` spoken by Flite, as 16 kHz PCM; `phone`: through an 8 kHz telephone line first. */
async function speech(text: string, phone = false): Promise<Int16Array> {
  const pcm = await synthesizeToPcm(text, { voice: 'rms' });
  const rate = phone ? 8000 : 16000;
  return resamplePcm(resamplePcm(pcm.samples, pcm.sampleRate, rate), rate, 16000);
}

/**
 * `length` samples of silence with `noisy` samples of telephone-band noise at `dbfs` in their
 * middle (a fixed pseudo-random sequence, the same on every run).
 */
function noise(length: number, noisy: number, dbfs: number): Int16Array {
  const pcm = new Int16Array(length);
  const amplitude = 32768 * 10 ** (dbfs / 20) * Math.sqrt(3); // uniform noise of that RMS
  let seed = 12345;
  const start = Math.floor((length - noisy) / 2);
  for (let i = start; i < start + noisy; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    pcm[i] = Math.round((seed / 2 ** 30 - 1) * amplitude);
  }
  return resamplePcm(resamplePcm(pcm, 16000, 8000), 8000, 16000);
}

/** The words, without case or punctuation. */
const words = (text: string) => text.toLowerCase().match(/[a-z']+/g) ?? [];

describe('MoonshineModel', () => {
  it.each([false, true])(
    'hears every word of a request for a person (telephone band: %s)',
    async (phone) => {
      const text = await model.transcribe(await speech('I would like to speak to a person', phone));
      expect(words(text)).toEqual(['i', 'would', 'like', 'to', 'speak', 'to', 'a', 'person']);
    },
  );

  it('gives each of several utterances sent at once its own words', async () => {
    const [a, b] = await Promise.all([
      speech('when is city hall open'),
      speech('my trash was not picked up'),
    ]);
    const [ta, tb] = await Promise.all([model.transcribe(a), model.transcribe(b)]);
    expect(words(ta)).toContain('hall');
    expect(words(tb)).toContain('trash');
  });

  it('hears nothing in no audio and in silence', async () => {
    expect(await model.transcribe(new Int16Array(0))).toBe('');
    expect(await model.transcribe(new Int16Array(16000))).toBe('');
  });

  it('hears nothing in line hiss or a burst of noise', async () => {
    expect(await model.transcribe(noise(24000, 24000, -30))).toBe('');
    expect(await model.transcribe(noise(24000, 4800, -20))).toBe('');
  });

  it('is loaded once per process and shared', async () => {
    expect(await MoonshineModel.load()).toBe(model);
    expect(await MoonshineModel.load({ dir: model.dir })).toBe(model);
  });

  describe('when it is not installed', () => {
    const empty = mkdtempSync(join(tmpdir(), 'callbridge-no-moonshine-'));
    afterAll(() => rmSync(empty, { recursive: true, force: true }));

    it('says to run npm run setup', async () => {
      const load = MoonshineModel.load({ dir: empty });
      await expect(load).rejects.toThrow(MoonshineUnavailableError);
      await expect(MoonshineModel.load({ dir: empty })).rejects.toThrow(/npm run setup/);
    });
  });
});
