// The Deepgram stand-in, driven by the real LiveKit Deepgram plugin through its base URL: speech
// streamed in comes back as Deepgram's events, text streamed in comes back as audio, and a wrong
// key is refused as Deepgram refuses it.
import { APIStatusError, initializeLogger, stt, tts } from '@livekit/agents';
import * as deepgram from '@livekit/agents-plugin-deepgram';
import { AudioFrame } from '@livekit/rtc-node';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesizeToPcm } from '../../../agent/providers/flite-tts.js';
import { startDeepgramStandIn } from '../../../lab/cloud/deepgram-server.js';
import { loadRecognizer } from '../../../lab/cloud/recognizer.js';
import type { StandIn } from '../../../lab/cloud/stand-in-http.js';
import { pcmToFrames } from '../../helpers/audio.js';

initializeLogger({ pretty: false, level: 'fatal' });

const KEY = 'test-deepgram-key';
let standIn: StandIn;
beforeAll(async () => {
  standIn = await startDeepgramStandIn({ apiKey: KEY, recognizer: await loadRecognizer() });
}, 60_000);
afterAll(async () => {
  await standIn?.stop();
});

const wsBase = () => standIn.url.replace(/^http/, 'ws');

async function callerSays(text: string): Promise<AudioFrame[]> {
  const pcm = await synthesizeToPcm(text, { voice: 'rms', sampleRate: 16000 });
  const quiet = (s: number) =>
    pcmToFrames({ samples: new Int16Array(16000 * s), sampleRate: 16000 });
  return [...quiet(0.3), ...pcmToFrames(pcm), ...quiet(1.2)];
}

const done = (e: stt.SpeechEvent) => e.type === stt.SpeechEventType.END_OF_SPEECH;

async function transcribe(key: string, frames: AudioFrame[]): Promise<stt.SpeechEvent[]> {
  const s = new deepgram.STT({ apiKey: key, baseUrl: wsBase(), sampleRate: 16000 });
  const errors: unknown[] = [];
  s.on('error', (e) => errors.push(e.error));
  const stream = s.stream({ connOptions: { maxRetry: 0, retryIntervalMs: 100, timeoutMs: 5000 } });
  const events: stt.SpeechEvent[] = [];
  const feed = async () => {
    // Faster than real time, but over time: the plugin connects once it has started reading.
    for (const [i, f] of frames.entries()) {
      stream.pushFrame(f);
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 10));
    }
    // A call's audio goes on after the caller stops: the stream stays open for the final result
    // (the plugin stops reading at the first message after it closes the stream).
    const end = Date.now() + 10_000;
    while (!events.some(done) && !errors.length && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
    }
    stream.endInput();
  };
  const read = async () => {
    for await (const ev of stream) events.push(ev);
  };
  await Promise.all([feed(), read()]);
  if (errors.length) throw errors[0];
  return events;
}

describe('Deepgram stand-in: /v1/listen', () => {
  it('streams speech back as start, interim and final transcripts, then end of speech', async () => {
    const events = await transcribe(
      KEY,
      await callerSays('I would like to talk to a person please'),
    );
    const types = events
      .map((e) => e.type)
      .filter((t) => t !== stt.SpeechEventType.RECOGNITION_USAGE);
    expect(types[0]).toBe(stt.SpeechEventType.START_OF_SPEECH);
    expect(types).toContain(stt.SpeechEventType.FINAL_TRANSCRIPT);
    expect(types.at(-1)).toBe(stt.SpeechEventType.END_OF_SPEECH);
    const final = events.find((e) => e.type === stt.SpeechEventType.FINAL_TRANSCRIPT)!;
    const text = final.alternatives![0].text.toLowerCase();
    expect(text).toMatch(/person|talk/);
    // Word timings sit inside the audio sent, and the first word is capitalised (smart_format).
    expect(final.alternatives![0].startTime).toBeGreaterThanOrEqual(0);
    expect(final.alternatives![0].endTime).toBeLessThan(4);
    expect(final.alternatives![0].text[0]).toMatch(/[A-Z]/);
  }, 60_000);

  it('refuses a wrong key with 401 before the WebSocket opens', async () => {
    const err = await transcribe('not-the-key', await callerSays('hello')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIStatusError);
    expect((err as APIStatusError).statusCode).toBe(401);
  }, 30_000);

  it('refuses audio parameters it cannot honour with 400', async () => {
    const ws = new WebSocket(`${wsBase()}/v1/listen?encoding=opus&sample_rate=16000`, {
      headers: { authorization: `Token ${KEY}` },
    });
    const status = await new Promise<number | undefined>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      ws.on('open', () => resolve(101));
      ws.on('error', () => resolve(undefined));
    });
    ws.terminate();
    expect(status).toBe(400);
  });
});

describe('Deepgram stand-in: /v1/speak', () => {
  it('speaks streamed text at the rate asked for, and ends the segment on Flushed', async () => {
    const t = new deepgram.TTS({ apiKey: KEY, baseUrl: standIn.url, sampleRate: 16000 });
    const stream = t.stream();
    stream.pushText('Our office opens at nine in the morning. ');
    stream.pushText('Is there anything else?');
    stream.endInput();
    const frames: AudioFrame[] = [];
    let finals = 0;
    for await (const ev of stream) {
      if (ev === tts.SynthesizeStream.END_OF_STREAM) break;
      frames.push(ev.frame);
      if (ev.final) finals += 1;
    }
    stream.close();
    expect(frames.every((f) => f.sampleRate === 16000 && f.channels === 1)).toBe(true);
    const seconds = frames.reduce((n, f) => n + f.samplesPerChannel, 0) / 16000;
    expect(seconds).toBeGreaterThan(1.5);
    expect(finals).toBe(1);
    await t.close();
  }, 30_000);

  it('answers the REST request with a WAV file, and refuses a wrong key with 401', async () => {
    const ok = await fetch(`${standIn.url}/v1/speak?model=aura-2-thalia-en&sample_rate=8000`, {
      method: 'POST',
      headers: { authorization: `Token ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Hello.' }),
    });
    expect(ok.status).toBe(200);
    const wav = Buffer.from(await ok.arrayBuffer());
    expect(wav.subarray(0, 4).toString()).toBe('RIFF');
    expect(wav.readUInt32LE(24)).toBe(8000);
    const refused = await fetch(`${standIn.url}/v1/speak`, {
      method: 'POST',
      headers: { authorization: 'Token nope', 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Hello.' }),
    });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ err_code: 'INVALID_AUTH' });
  });
});
