// The call's one VAD stream, shared by the session and the recognizer: real Silero over speech made
// by Flite, with the session's side played by a consumer of the stream as the framework does.
import { initializeLogger, stt, VADEventType, type VAD, type VADEvent } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import type { AudioFrame } from '@livekit/rtc-node';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { resampleFrames } from '../../../agent/audio.js';
import { CallVad } from '../../../agent/providers/call-vad.js';
import { synthesizeToPcm } from '../../../agent/providers/flite-tts.js';
import { pcmToFrames } from '../../helpers/audio.js';
import {
  MoonshineModel,
  MoonshineSTT,
  type MoonshineStreamOptions,
} from '../../../agent/providers/moonshine-stt.js';

initializeLogger({ pretty: false, level: 'error' });

let vad: VAD;
let utterance: AudioFrame[];
beforeAll(async () => {
  vad = await silero.VAD.load({ minSilenceDuration: 300, sampleRate: 16000 });
  const speech = pcmToFrames(await synthesizeToPcm('when is city hall open', { voice: 'rms' }));
  utterance = [
    ...pcmToFrames({ sampleRate: 16000, samples: new Int16Array(4800) }),
    ...resampleFrames(resampleFrames(speech, 8000), 16000), // a telephone line's band
    ...pcmToFrames({ sampleRate: 16000, samples: new Int16Array(16000) }),
  ];
});

/** The session's side: reads the stream to its end, as the framework's VAD task does. */
async function consume(stream: AsyncIterable<VADEvent>, until: (ev: VADEvent) => boolean) {
  const seen: VADEventType[] = [];
  for await (const ev of stream) {
    seen.push(ev.type);
    if (until(ev)) break;
  }
  return seen;
}

const isEnd = (ev: VADEvent) => ev.type === VADEventType.END_OF_SPEECH;

describe('CallVad', () => {
  it('gives a follower every event the session reads, in order, from one inference stream', async () => {
    const callVad = new CallVad(vad);
    const stop = new AbortController();
    const followed = consume(callVad.follow(stop.signal), isEnd);
    const stream = callVad.stream();
    for (const f of utterance) stream.pushFrame(f);
    const session = await consume(stream, isEnd);
    stream.close();
    expect(session).toContain(VADEventType.START_OF_SPEECH);
    expect(session.at(-1)).toBe(VADEventType.END_OF_SPEECH);
    expect(await followed).toEqual(session);
    stop.abort();
  });

  it('ends a follower when its signal aborts, and keeps the model settings of the VAD it wraps', async () => {
    const callVad = new CallVad(vad);
    expect(callVad.minSilenceDuration).toBe(vad.minSilenceDuration);
    expect(callVad.capabilities).toEqual(vad.capabilities);
    const stop = new AbortController();
    const followed = consume(callVad.follow(stop.signal), () => false);
    stop.abort();
    expect(await followed).toEqual([]);
  });

  it('lets Moonshine transcribe from the session stream without running a VAD of its own', async () => {
    const streamsMade = vi.spyOn(vad, 'stream');
    const { events, recognizer } = await transcribeShared({});
    expect(events.map((e) => e.type)).toEqual([
      stt.SpeechEventType.START_OF_SPEECH,
      stt.SpeechEventType.END_OF_SPEECH,
      stt.SpeechEventType.FINAL_TRANSCRIPT,
    ]);
    expect(events[2]!.text).toMatch(/hall|open/);
    expect(streamsMade).toHaveBeenCalledTimes(1);
    expect(recognizer.decodes).toEqual({ early: 0, earlyUsed: 0, atEnd: 1 });
    streamsMade.mockRestore();
  });

  it('has the transcript decoded in the silence before the end of speech, and uses it', async () => {
    const { events, recognizer } = await transcribeShared({ earlyDecodeMs: 96 });
    expect(events.at(-1)!.type).toBe(stt.SpeechEventType.FINAL_TRANSCRIPT);
    expect(events.at(-1)!.text).toMatch(/hall|open/);
    expect(recognizer.decodes).toEqual({ early: 1, earlyUsed: 1, atEnd: 0 });
  });
});

/** The utterance through a CallVad's session stream, with Moonshine following it. */
async function transcribeShared(opts: MoonshineStreamOptions) {
  const shared = new CallVad(vad);
  const recognizer = new MoonshineSTT(await MoonshineModel.load(), shared, opts);
  const sttStream = recognizer.stream();
  const session = shared.stream();
  for (const f of utterance) {
    session.pushFrame(f);
    sttStream.pushFrame(f); // the framework gives the recognizer the same audio
  }
  const sessionDone = consume(session, isEnd);
  const events: { type: stt.SpeechEventType; text?: string }[] = [];
  for await (const ev of sttStream) {
    events.push({ type: ev.type, text: ev.alternatives?.[0]?.text });
    if (ev.type === stt.SpeechEventType.FINAL_TRANSCRIPT) break;
  }
  await sessionDone;
  sttStream.close();
  session.close();
  return { events, recognizer };
}
