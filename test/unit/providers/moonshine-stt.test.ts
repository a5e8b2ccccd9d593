// The offline recognizer's stream over the session's VAD (a CallVad), with a scripted VAD and a
// fake model: what it tells the framework, and what audio it gives the model.
import {
  initializeLogger,
  stt,
  VAD,
  VADEventType,
  type VADEvent,
  type VADStream,
} from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { describe, expect, it, vi } from 'vitest';
import { CallVad } from '../../../agent/providers/call-vad.js';
import { MoonshineSTT, type Transcriber } from '../../../agent/providers/moonshine-stt.js';

initializeLogger({ pretty: false, level: 'error' });

/** A VAD whose one stream yields the events it is given, then ends. */
class ScriptedVad extends VAD {
  label = 'scripted';

  constructor(private readonly events: VADEvent[]) {
    super({ updateInterval: 32 });
  }

  stream(): VADStream {
    const events = this.events;
    const s = {
      next: async () => {
        const value = events.shift();
        return value ? { done: false, value } : { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return s;
      },
      pushFrame() {},
      flush() {},
      endInput() {},
      close() {},
    };
    return s as unknown as VADStream;
  }
}

/** `ms` of a tone at `rate`, as the VAD's frames carry the caller's audio. */
function audio(ms: number, rate = 16000): AudioFrame {
  const n = (rate * ms) / 1000;
  const data = Int16Array.from({ length: n }, (_, i) => Math.round(8000 * Math.sin(i / 5)));
  return new AudioFrame(data, rate, 1, n);
}

function vadEvent(type: VADEventType, over: Partial<VADEvent> = {}): VADEvent {
  return {
    type,
    samplesIndex: 0,
    timestamp: 0,
    speechDuration: 0,
    silenceDuration: 0,
    frames: [],
    probability: 0.9,
    inferenceDuration: 2,
    speaking: type !== VADEventType.END_OF_SPEECH,
    rawAccumulatedSilence: 0,
    rawAccumulatedSpeech: 0,
    ...over,
  };
}

/** One utterance: start (with `startMs` of audio), `inferences` windows of 32 ms, end. */
function utterance(startMs: number, inferences: number, rate = 16000): VADEvent[] {
  return [
    vadEvent(VADEventType.START_OF_SPEECH, { frames: [audio(startMs, rate)], speechDuration: 64 }),
    ...Array.from({ length: inferences }, (_, i) =>
      vadEvent(VADEventType.INFERENCE_DONE, {
        frames: [audio(32, rate)],
        speechDuration: 64 + 32 * (i + 1),
      }),
    ),
    vadEvent(VADEventType.END_OF_SPEECH, { silenceDuration: 300, inferenceDuration: 5 }),
  ];
}

/** A fake model answering `texts` in turn, recording the audio it was given. */
function fakeModel(texts: string[]): Transcriber & { heard: Int16Array[] } {
  const heard: Int16Array[] = [];
  return {
    heard,
    transcribe: async (pcm) => {
      heard.push(pcm);
      return texts.shift() ?? '';
    },
  };
}

/** Runs the session's side of the VAD over `events` and collects what the recognizer says. */
async function recognize(events: VADEvent[], model: Transcriber, finals: number) {
  const callVad = new CallVad(new ScriptedVad(events));
  const following = vi.spyOn(callVad, 'follow');
  const recognizer = new MoonshineSTT(model, callVad);
  const stream = recognizer.stream();
  await vi.waitFor(() => expect(following).toHaveBeenCalled());
  for await (const ev of callVad.stream()) void ev; // the session reads its VAD stream
  const out: stt.SpeechEvent[] = [];
  if (finals > 0) {
    for await (const ev of stream) {
      out.push(ev);
      if (out.filter((e) => e.type === stt.SpeechEventType.FINAL_TRANSCRIPT).length === finals)
        break;
    }
  }
  stream.close();
  return out;
}

const { START_OF_SPEECH, END_OF_SPEECH, FINAL_TRANSCRIPT } = stt.SpeechEventType;

describe('MoonshineSTT', () => {
  it('streams only when given a VAD', () => {
    expect(new MoonshineSTT(fakeModel([])).capabilities.streaming).toBe(false);
    expect(() => new MoonshineSTT(fakeModel([])).stream()).toThrow(/VAD/);
    expect(new MoonshineSTT(fakeModel([]), new ScriptedVad([])).capabilities.streaming).toBe(true);
  });

  it('says start, end, then the final transcript of the whole utterance when the VAD ends it', async () => {
    const model = fakeModel(['I would like to speak to a person']);
    const events = await recognize(utterance(200, 10), model, 1);
    expect(events.map((e) => e.type)).toEqual([START_OF_SPEECH, END_OF_SPEECH, FINAL_TRANSCRIPT]);
    expect(events[2]!.alternatives![0]!.text).toBe('I would like to speak to a person');
    // The start's audio and every window after it, once each, at 16 kHz.
    expect(model.heard).toHaveLength(1);
    expect(model.heard[0]!.length).toBe(16 * (200 + 10 * 32));
  });

  it('carries the end of speech time, silence and inference taken off, to the final transcript', async () => {
    const before = Date.now();
    const events = await recognize(utterance(200, 10), fakeModel(['yes']), 1);
    const end = events.find((e) => e.type === END_OF_SPEECH)!;
    const final = events.find((e) => e.type === FINAL_TRANSCRIPT)!;
    expect(end.speechEndTime).toBeGreaterThanOrEqual(before - 305);
    expect(end.speechEndTime).toBeLessThanOrEqual(Date.now() - 305);
    expect(final.speechEndTime).toBe(end.speechEndTime);
  });

  it('gives no final transcript when the model hears no words, and goes on to the next utterance', async () => {
    const model = fakeModel(['  ', 'my trash was not picked up']);
    const events = await recognize([...utterance(200, 5), ...utterance(200, 5)], model, 1);
    expect(events.map((e) => e.type)).toEqual([
      START_OF_SPEECH,
      END_OF_SPEECH,
      START_OF_SPEECH,
      END_OF_SPEECH,
      FINAL_TRANSCRIPT,
    ]);
    expect(events.at(-1)!.alternatives![0]!.text).toBe('my trash was not picked up');
  });

  it('does not transcribe an utterance shorter than 100 ms of speech', async () => {
    const model = fakeModel(['hello']);
    const click = [
      vadEvent(VADEventType.START_OF_SPEECH, { frames: [audio(64)], speechDuration: 64 }),
      vadEvent(VADEventType.END_OF_SPEECH, { silenceDuration: 300 }),
    ];
    const events = await recognize([...click, ...utterance(200, 5)], model, 1);
    expect(events.filter((e) => e.type === FINAL_TRANSCRIPT)).toHaveLength(1);
    expect(events.at(-1)!.alternatives![0]!.text).toBe('hello');
    expect(model.heard).toHaveLength(1); // the click never reached the model
    expect(model.heard[0]!.length).toBe(16 * (200 + 5 * 32));
  });

  it('resamples a VAD stream fed at 8 kHz to the 16 kHz the model takes', async () => {
    const model = fakeModel(['hello']);
    await recognize(utterance(200, 10, 8000), model, 1);
    const expected = 16 * (200 + 10 * 32);
    expect(Math.abs(model.heard[0]!.length - expected)).toBeLessThanOrEqual(32);
  });

  it('ignores windows after the end of speech and before the next start', async () => {
    const model = fakeModel(['one', 'two']);
    const idle = vadEvent(VADEventType.INFERENCE_DONE, { frames: [audio(32)], speaking: false });
    await recognize([...utterance(200, 2), idle, idle, ...utterance(100, 2)], model, 2);
    expect(model.heard.map((p) => p.length)).toEqual([16 * (200 + 64), 16 * (100 + 64)]);
  });
});
