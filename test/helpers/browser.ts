// A real browser for the console's tests and benchmark: Debian's Chromium (installed by
// `scripts/setup/ensure.mjs --browser`), headless, driven by puppeteer-core, whose microphone is a
// WAV file played by Chromium's fake capture device.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { synthesizeToPcm } from '../../agent/providers/flite-tts.js';
import { linear16, wavHeader } from '../../lab/cloud/speech-synth.js';

/** The sentence the tab's microphone says. */
export const MICROPHONE_SENTENCE = 'My trash was not picked up this week.';

export function chromiumPath(): string {
  for (const p of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) if (existsSync(p)) return p;
  throw new Error('Chromium is missing: apt-get install chromium (npm test installs it)');
}

/**
 * The tab's microphone in `dir`: `leadMs` of silence (the greeting plays meanwhile), the sentence
 * in Flite's `rms` voice (not the agent's), then 40 s of silence.
 */
export async function microphoneWav(dir: string, leadMs = 7000): Promise<string> {
  const rate = 16_000;
  const speech = await synthesizeToPcm(MICROPHONE_SENTENCE, { voice: 'rms', sampleRate: rate });
  const lead = Math.round((rate * leadMs) / 1000);
  const samples = new Int16Array(lead + speech.samples.length + rate * 40);
  samples.set(speech.samples, lead);
  const data = linear16(samples);
  const file = join(dir, 'microphone.wav');
  writeFileSync(file, Buffer.concat([wavHeader(data.length, rate, 'linear16'), data]));
  return file;
}

/** Headless Chromium, its microphone the WAV file (played once per capture). */
export function launchChromium(microphone: string): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox', // root in CI
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${microphone}%noloop`,
      '--autoplay-policy=no-user-gesture-required',
      '--disable-features=WebRtcHideLocalIpsWithMdns',
    ],
  });
}
