// The lab's in-process line (lab/chime/voice-connector-media.ts) without a SIP server: what Chime
// plays reaches the caller's ear frame by frame in real time, as loud as it was; the caller's own
// words take their time when no leg carries them; a caller who hangs up stops what is playing.
// The AI leg over SIP is exercised against the real stack by the lab's end-to-end scenarios.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChimeLeg } from '../../../lab/chime/events.js';
import { VoiceConnectorMedia } from '../../../lab/chime/voice-connector-media.js';
import { LEG_A, wavBytes } from '../../helpers/chime.js';

const BUCKET = 'callbridge-lab-audio';
/** 8 kHz samples of a loud square wave, then as many of silence. */
const toneThenSilence = (ms: number) => {
  const n = (8000 * ms) / 1000;
  return [...Array.from({ length: n }, (_, i) => (i % 16 < 8 ? 8000 : -8000)), ...Array(n).fill(0)];
};

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'callbridge-line-'));
  await mkdir(join(root, BUCKET));
  await writeFile(join(root, BUCKET, 'tone.wav'), wavBytes(toneThenSilence(300)));
});
afterAll(() => rm(root, { recursive: true, force: true }));

const line = () => new VoiceConnectorMedia({ sipAddress: '127.0.0.1:9', audioRoot: root });
const legA: ChimeLeg = { CallId: LEG_A, ParticipantTag: 'LEG-A' } as ChimeLeg;

describe('the lab line', () => {
  it('plays Chime audio to the ear in real time: the tone audible, the silence not', async () => {
    const media = line();
    const start = performance.now();
    await media.playAudio({ bucket: BUCKET, key: 'tone.wav' }, 1);
    const took = performance.now() - start;

    expect(took).toBeGreaterThanOrEqual(560); // 600 ms of audio, the last frame due at 580 ms
    expect(media.audibleMsSince(start, ['chime'])).toBe(300);
    expect(media.audibleMsSince(start, ['person', 'agent'])).toBe(0);
    // Frame by frame: the first was heard long before the whole had played.
    const first = media.firstAudibleAt('chime')!;
    expect(first - start).toBeLessThan(took - 400);
    // The last audible frame is the tone's last, about 280 ms after the first.
    expect(media.lastAudibleAt()! - first).toBeGreaterThanOrEqual(260);
  });

  it('plays an object Repeat times', async () => {
    const media = line();
    await media.playAudio({ bucket: BUCKET, key: 'tone.wav' }, 2);
    expect(media.audibleMsSince(0, ['chime'])).toBe(600);
  });

  it("takes the caller's words' time when no leg carries them", async () => {
    const media = line();
    const start = performance.now();
    await media.say(new Int16Array(16000 * 0.25), 16000);
    expect(performance.now() - start).toBeGreaterThanOrEqual(240);
  });

  it('stops what is playing when the caller hangs up, and plays nothing after', async () => {
    const media = line();
    const playing = media.playAudio({ bucket: BUCKET, key: 'tone.wav' }, 5);
    await new Promise((r) => setTimeout(r, 150));
    await media.hangup(legA);
    const stoppedAt = performance.now();
    await playing;
    expect(performance.now() - stoppedAt).toBeLessThan(400); // not the 3 s left to play
    const heard = media.audibleMsSince(0, ['chime']);
    expect(heard).toBeGreaterThan(0);
    expect(heard).toBeLessThanOrEqual(300);

    await media.playAudio({ bucket: BUCKET, key: 'tone.wav' }, 1);
    expect(media.audibleMsSince(0, ['chime'])).toBe(heard);
  });
});
