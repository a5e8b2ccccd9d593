// The agent's input of the caller's audio, against a real livekit-server: 40 ms frames of the
// caller's own audio at the session's rate, nothing while muted, the caller's new track after a
// re-publish, and an ended stream once closed.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AudioFrame,
  AudioSource,
  LocalAudioTrack,
  Room,
  TrackPublishOptions,
  TrackSource,
  type LocalTrackPublication,
} from '@livekit/rtc-node';
import { initializeLogger } from '@livekit/agents';
import { AccessToken } from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLER_FRAME_MS, CallAudioInput } from '../../agent/call-audio-input.js';
import { freePorts, startLocalStack, type LocalStack } from '../../lab/stack/local-stack.js';
import { rms } from '../helpers/audio.js';

initializeLogger({ pretty: false, level: 'error' });
const ROOM = 'call_audio_input';
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    ports: await freePorts(),
    logDir: mkdtempSync(join(tmpdir(), 'callbridge-input-')),
  });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

async function join_(identity: string): Promise<Room> {
  const token = new AccessToken(stack.apiKey, stack.apiSecret, { identity });
  token.addGrant({ roomJoin: true, room: ROOM, canPublish: true, canSubscribe: true });
  const room = new Room();
  await room.connect(stack.url, await token.toJwt(), { autoSubscribe: true, dynacast: false });
  return room;
}

/** A caller's microphone playing a steady tone at `level` in 10 ms frames, until stopped. */
async function microphone(room: Room, level: number) {
  const source = new AudioSource(48000, 1, 200);
  const opts = new TrackPublishOptions();
  opts.source = TrackSource.SOURCE_MICROPHONE;
  const pub: LocalTrackPublication = await room.localParticipant!.publishTrack(
    LocalAudioTrack.createAudioTrack('mic', source),
    opts,
  );
  let on = true;
  const playing = (async () => {
    for (let n = 0; on; n++) {
      const data = new Int16Array(480);
      for (let i = 0; i < data.length; i++) {
        data[i] = Math.round(level * Math.sin((2 * Math.PI * 440 * (n * 480 + i)) / 48000));
      }
      await source.captureFrame(new AudioFrame(data, 48000, 1, 480));
    }
  })();
  return {
    async stop() {
      on = false;
      await playing;
      await room.localParticipant!.unpublishTrack(pub.sid!);
      await source.close();
    },
  };
}

/** Frames read within `ms` (the reader stays usable). */
async function framesWithin(
  reader: ReadableStreamDefaultReader<AudioFrame>,
  ms: number,
): Promise<{ frames: AudioFrame[]; done: boolean }> {
  const frames: AudioFrame[] = [];
  const end = Date.now() + ms;
  let pending: ReturnType<typeof reader.read> | undefined;
  while (Date.now() < end) {
    pending ??= reader.read();
    const r = await Promise.race([pending, sleep(end - Date.now()).then(() => undefined)]);
    if (!r) break;
    pending = undefined;
    if (r.done) return { frames, done: true };
    frames.push(r.value);
  }
  // A read still pending takes the next frame: let it, and count it, so none is lost.
  if (pending) void pending.then((r) => !r.done && frames.push(r.value));
  return { frames, done: false };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

describe('the caller audio input', () => {
  it("delivers the caller's audio in 40 ms frames, follows a new track, mutes and closes", async () => {
    const caller = await join_('caller');
    const agentRoom = await join_('agent');
    const loud = await microphone(caller, 8000);
    const input = new CallAudioInput(agentRoom, 'caller', 16000);
    const reader = input.stream.getReader();
    try {
      // Skip the first frames (the decoder's start); then a steady stream of the tone.
      await framesWithin(reader, 1500);
      const { frames } = await framesWithin(reader, 1000);
      expect(frames.length).toBeGreaterThan(15); // ~25 a second
      for (const f of frames) {
        expect(f.sampleRate).toBe(16000);
        expect(f.channels).toBe(1);
        expect(f.samplesPerChannel).toBe((16000 * CALLER_FRAME_MS) / 1000);
      }
      expect(rms(frames)).toBeGreaterThan(2000);

      input.setAttached(false);
      await sleep(100);
      expect((await framesWithin(reader, 600)).frames.length).toBeLessThanOrEqual(1);
      input.setAttached(true);
      expect((await framesWithin(reader, 600)).frames.length).toBeGreaterThan(5);

      // The caller's track is replaced by a quiet one: the input follows it.
      await loud.stop();
      const quiet = await microphone(caller, 500);
      await framesWithin(reader, 1500);
      const after = (await framesWithin(reader, 800)).frames;
      expect(after.length).toBeGreaterThan(10);
      expect(rms(after)).toBeGreaterThan(150);
      expect(rms(after)).toBeLessThan(1000);

      await input.close();
      const closed = await framesWithin(reader, 2000);
      expect(closed.done).toBe(true);
      await quiet.stop();
    } finally {
      await input.close();
      await agentRoom.disconnect();
      await caller.disconnect();
    }
  }, 60_000);
});
