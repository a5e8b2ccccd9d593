// The lab's in-process line (lab/chime/voice-connector-media.ts) without a SIP server: what Chime
// plays reaches the caller's ear frame by frame, one every 20 ms, as loud as it was; the caller's
// own words take their time when no leg carries them; a caller who hangs up stops what is playing.
// The AI leg over SIP is exercised against the real stack by the lab's end-to-end scenarios.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
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

/**
 * Lets real I/O (reading the WAV object) finish while the fake clock stands still, until `who`'s
 * first audible frame has reached the ear.
 */
async function untilHeard(media: VoiceConnectorMedia, who: 'chime'): Promise<void> {
  for (let turns = 0; media.firstAudibleAt(who) === undefined; turns++) {
    if (turns > 100_000) throw new Error(`nothing from ${who} reached the ear`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('the lab line', () => {
  // The line's clock is the test's: frames are due by setTimeout and stamped by performance.now().
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
  afterEach(() => vi.useRealTimers());

  it('plays Chime audio to the ear a frame every 20 ms: the tone audible, the silence not', async () => {
    const media = line();
    const start = performance.now();
    let done = false;
    const playing = media.playAudio({ bucket: BUCKET, key: 'tone.wav' }, 1).then(() => {
      done = true;
    });
    await untilHeard(media, 'chime');
    // Frame by frame: the first is heard at once, long before the whole has played.
    expect(media.firstAudibleAt('chime')).toBe(start);
    expect(media.audibleMsSince(start, ['chime'])).toBe(20);
    await vi.advanceTimersByTimeAsync(100);
    expect(media.audibleMsSince(start, ['chime'])).toBe(120);
    // 600 ms of audio: the last frame is due at 580 ms, and not before.
    await vi.advanceTimersByTimeAsync(479);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await playing;
    expect(media.audibleMsSince(start, ['chime'])).toBe(300);
    expect(media.audibleMsSince(start, ['person', 'agent'])).toBe(0);
    // The last audible frame is the tone's fifteenth, 280 ms after the first.
    expect(media.lastAudibleAt()! - start).toBe(280);
  });

  it('plays an object Repeat times', async () => {
    const media = line();
    const playing = media.playAudio({ bucket: BUCKET, key: 'tone.wav' }, 2);
    await untilHeard(media, 'chime');
    await vi.runAllTimersAsync();
    await playing;
    expect(media.audibleMsSince(0, ['chime'])).toBe(600);
  });

  it("takes the caller's words' time when no leg carries them", async () => {
    const media = line();
    let said = false;
    void media.say(new Int16Array(16000 * 0.25), 16000).then(() => {
      said = true;
    });
    await vi.advanceTimersByTimeAsync(249);
    expect(said).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(said).toBe(true);
  });

  it('stops what is playing when the caller hangs up, and plays nothing after', async () => {
    const media = line();
    let done = false;
    const playing = media.playAudio({ bucket: BUCKET, key: 'tone.wav' }, 5).then(() => {
      done = true;
    });
    await untilHeard(media, 'chime');
    await vi.advanceTimersByTimeAsync(150);
    await media.hangup(legA);
    // The frame under way ends the play, not the 3 s left of it.
    await vi.advanceTimersByTimeAsync(20);
    expect(done).toBe(true);
    await playing;
    const heard = media.audibleMsSince(0, ['chime']);
    expect(heard).toBeGreaterThan(0);
    expect(heard).toBeLessThanOrEqual(300);

    await media.playAudio({ bucket: BUCKET, key: 'tone.wav' }, 1);
    expect(media.audibleMsSince(0, ['chime'])).toBe(heard);
  });
});
