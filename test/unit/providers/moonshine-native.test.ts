// The real offline recognizer, Moonshine tiny-en (and base-en, MOONSHINE_MODEL's other choice) from
// .tools/moonshine (npm run setup installs both), on speech made by Flite in a voice other than the
// agent's, wideband and telephone-band.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resamplePcm } from '../../../agent/audio.js';
import { synthesizeToPcm } from '../../../agent/providers/flite-tts.js';
import {
  MOONSHINE_MODEL_ENV,
  MoonshineModel,
  MoonshineUnavailableError,
  moonshineModelName,
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
    expect(model.modelName).toBe('tiny-en');
    expect(await MoonshineModel.load()).toBe(model);
    expect(await MoonshineModel.load({ dir: model.dir })).toBe(model);
    expect(await MoonshineModel.load({ model: 'tiny-en' })).toBe(model);
  });

  describe('base-en', () => {
    let base: MoonshineModel;
    beforeAll(async () => {
      base = await MoonshineModel.load({ model: 'base-en' });
    });
    afterAll(() => base.close());

    it('is a model of its own beside tiny-en in the same process', () => {
      expect(base.modelName).toBe('base-en');
      expect(base).not.toBe(model);
    });

    it('hears every word of a request for a person through a telephone line', async () => {
      const text = await base.transcribe(await speech('I would like to speak to a person', true));
      expect(words(text)).toEqual(['i', 'would', 'like', 'to', 'speak', 'to', 'a', 'person']);
    });

    it('gives each of several utterances sent at once its own words', async () => {
      const [a, b] = await Promise.all([
        speech('when is city hall open', true),
        speech('my trash was not picked up', true),
      ]);
      const [ta, tb] = await Promise.all([base.transcribe(a), base.transcribe(b)]);
      expect(words(ta)).toContain('hall');
      expect(words(tb)).toContain('trash');
    });

    it('hears nothing in silence or line hiss (the same detector gates it)', async () => {
      expect(await base.transcribe(new Int16Array(16000))).toBe('');
      expect(await base.transcribe(noise(24000, 24000, -30))).toBe('');
    });
  });

  describe('choosing the model', () => {
    const saved = process.env[MOONSHINE_MODEL_ENV];
    afterAll(() => {
      if (saved === undefined) delete process.env[MOONSHINE_MODEL_ENV];
      else process.env[MOONSHINE_MODEL_ENV] = saved;
    });

    it('takes the name given, else MOONSHINE_MODEL, else tiny-en', () => {
      delete process.env[MOONSHINE_MODEL_ENV];
      expect(moonshineModelName()).toBe('tiny-en');
      process.env[MOONSHINE_MODEL_ENV] = 'base-en';
      expect(moonshineModelName()).toBe('base-en');
      expect(moonshineModelName('tiny-en')).toBe('tiny-en');
    });

    it('refuses a model the setup does not install, naming the ones it does', async () => {
      process.env[MOONSHINE_MODEL_ENV] = 'small-en';
      expect(() => moonshineModelName()).toThrow(
        /unknown Moonshine model "small-en".*tiny-en, base-en/,
      );
      await expect(MoonshineModel.load({ model: 'toString' })).rejects.toThrow(
        MoonshineUnavailableError,
      );
    });
  });

  describe('when it is not installed', () => {
    const empty = mkdtempSync(join(tmpdir(), 'callbridge-no-moonshine-'));
    afterAll(() => rmSync(empty, { recursive: true, force: true }));

    it('says to run npm run setup', async () => {
      const load = MoonshineModel.load({ dir: empty });
      await expect(load).rejects.toThrow(MoonshineUnavailableError);
      await expect(MoonshineModel.load({ dir: empty })).rejects.toThrow(/npm run setup/);
      await expect(MoonshineModel.load({ dir: empty, model: 'base-en' })).rejects.toThrow(
        /Moonshine base-en\) is not installed .*base-en\/encoder_model\.ort.*npm run setup/,
      );
    });
  });
});
