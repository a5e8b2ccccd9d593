// The synthetic callers: Flite's four 16 kHz voices (the project's own TTS, in-process) and two
// eSpeak NG voices (Debian's espeak-ng, run as a command). Both engines are deterministic: the same
// text and voice give the same samples on every run.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { synthesizeToPcm } from '../../../agent/providers/flite-tts.js';
import type { Pcm } from '../../../lab/phone/wav.js';
import { parseWav } from '../../../lab/phone/wav.js';

const run = promisify(execFile);

export interface Voice {
  id: string;
  describe: string;
  speak(text: string): Promise<Pcm>;
}

const flite = (voice: 'kal16' | 'slt' | 'rms' | 'awb', describe: string): Voice => ({
  id: `flite-${voice}`,
  describe: `Flite ${voice}: ${describe}`,
  speak: async (text) => {
    const pcm = await synthesizeToPcm(text, { voice });
    return { samples: pcm.samples, sampleRate: pcm.sampleRate };
  },
});

/** eSpeak NG at 150 words a minute (its default, 175, is faster than callers talk). */
const espeak = (id: string, voice: string, describe: string): Voice => ({
  id,
  describe: `eSpeak NG ${voice}: ${describe}`,
  speak: async (text) => {
    try {
      const { stdout } = await run('espeak-ng', ['-v', voice, '-s', '150', '--stdout', text], {
        encoding: 'buffer',
        maxBuffer: 64 << 20,
      });
      return parseWav(stdout);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new Error('espeak-ng is not installed (npm run setup installs it)', { cause: err });
      throw err;
    }
  },
});

export const VOICES: readonly Voice[] = [
  flite('kal16', 'US male, diphone'),
  flite('slt', 'US female, statistical'),
  flite('rms', 'US male, statistical'),
  flite('awb', 'Scottish male, statistical'),
  espeak('espeak-us', 'en-us', 'US male, formant'),
  espeak('espeak-us-f', 'en-us+f3', 'US female, formant'),
];
