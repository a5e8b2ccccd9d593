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
import {
  MoonshineSTT,
  type MoonshineStreamOptions,
  type Transcriber,
} from '../../../agent/providers/moonshine-stt.js';

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

/**
 * A window inside speech whose event carries the VAD's raw counts up to the window before it:
 * `silence` ms of silence, or `speech` ms of speech.
 */
function windowEvent(
  counts: { silence?: number; speech?: number },
  speechDuration = 320,
): VADEvent {
  return vadEvent(VADEventType.INFERENCE_DONE, {
    frames: [audio(32)],
    speechDuration,
    probability: counts.silence ? 0.1 : 0.9,
    rawAccumulatedSilence: counts.silence ?? 0,
    rawAccumulatedSpeech: counts.speech ?? 0,
  });
}

/** Windows of silence after speech, their events counting 0, 32, 64 … ms of it. */
const silentWindows = (n: number) =>
  Array.from({ length: n }, (_, i) => windowEvent({ silence: 32 * i }));

/** Runs the session's side of the VAD over `events` and collects what the recognizer says. */
async function recognize(events: VADEvent[], model: Transcriber, finals: number) {
  return (await recognizeWith({}, events, model, finals)).out;
}

/** {@link recognize} with the stream's options; also gives the recognizer (its decode counts). */
async function recognizeWith(
  opts: MoonshineStreamOptions,
  events: VADEvent[],
  model: Transcriber,
  finals: number,
) {
  const callVad = new CallVad(new ScriptedVad(events));
  const following = vi.spyOn(callVad, 'follow');
  const recognizer = new MoonshineSTT(model, callVad, opts);
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
  return { out, recognizer };
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

describe('MoonshineSTT decoding early, in the silence before the end of speech', () => {
  const start = () =>
    vadEvent(VADEventType.START_OF_SPEECH, { frames: [audio(200)], speechDuration: 64 });
  const end = () => vadEvent(VADEventType.END_OF_SPEECH, { silenceDuration: 288 });
  /** A model that answers each decode with its number, after `ms`. */
  const numbered = (ms = 0) => {
    const heard: Int16Array[] = [];
    return {
      heard,
      transcribe: async (pcm: Int16Array) => {
        heard.push(pcm);
        const n = heard.length;
        await new Promise((r) => setTimeout(r, ms));
        return `decode ${n}`;
      },
    };
  };

  it('decodes the utterance once its silence reaches the setting and uses that at the end', async () => {
    const model = numbered();
    // Speech, then windows whose events count 0, 32, 64, 96, 128 ms of silence: the decode starts
    // on the one counting 64 ms, with the audio up to and including that window.
    const events = [start(), windowEvent({ speech: 32 }), ...silentWindows(5), end()];
    const { out, recognizer } = await recognizeWith({ earlyDecodeMs: 64 }, events, model, 1);
    expect(out.map((e) => e.type)).toEqual([START_OF_SPEECH, END_OF_SPEECH, FINAL_TRANSCRIPT]);
    expect(out[2]!.alternatives![0]!.text).toBe('decode 1');
    expect(model.heard.map((p) => p.length)).toEqual([16 * (200 + 4 * 32)]);
    expect(recognizer.decodes).toEqual({ early: 1, earlyUsed: 1, atEnd: 0 });
  });

  it('voids the early decode when the caller speaks again, and decodes again in the next silence', async () => {
    const model = numbered(20);
    const events = [
      start(),
      ...silentWindows(3), // the decode starts on the window counting 64 ms
      windowEvent({ silence: 96 }),
      windowEvent({ speech: 32 }), // the window before this one was speech
      ...silentWindows(4),
      end(),
    ];
    const { out, recognizer } = await recognizeWith({ earlyDecodeMs: 64 }, events, model, 1);
    expect(out.at(-1)!.alternatives![0]!.text).toBe('decode 2');
    expect(model.heard.map((p) => p.length)).toEqual([16 * (200 + 3 * 32), 16 * (200 + 8 * 32)]);
    expect(recognizer.decodes).toEqual({ early: 2, earlyUsed: 1, atEnd: 0 });
  });

  it('takes a shorter run of silence as speech in between, though no event shows it', async () => {
    // With 32 ms windows each counted, a run that drops from 96 to 32 ms had speech between.
    const model = numbered();
    const events = [start(), ...silentWindows(4), windowEvent({ silence: 32 }), end()];
    const { out, recognizer } = await recognizeWith({ earlyDecodeMs: 64 }, events, model, 1);
    expect(out.at(-1)!.alternatives![0]!.text).toBe('decode 2');
    expect(model.heard.map((p) => p.length)).toEqual([16 * (200 + 3 * 32), 16 * (200 + 5 * 32)]);
    expect(recognizer.decodes).toEqual({ early: 1, earlyUsed: 0, atEnd: 1 });
  });

  it('does not decode early without the setting, or before the utterance can hold words', async () => {
    const model = numbered();
    const off = await recognizeWith({}, [start(), ...silentWindows(6), end()], model, 1);
    expect(off.recognizer.decodes).toEqual({ early: 0, earlyUsed: 0, atEnd: 1 });

    const click = [
      vadEvent(VADEventType.START_OF_SPEECH, { frames: [audio(64)], speechDuration: 64 }),
      ...Array.from({ length: 4 }, (_, i) => windowEvent({ silence: 32 * i }, 64)),
      end(),
    ];
    const short = await recognizeWith(
      { earlyDecodeMs: 64 },
      [...click, start(), windowEvent({ speech: 32 }), ...silentWindows(2), end()],
      model,
      1,
    );
    expect(short.recognizer.decodes).toEqual({ early: 0, earlyUsed: 0, atEnd: 1 });
    expect(model.heard).toHaveLength(2); // one each run; the click never reached the model
  });

  it('lets a voided early decode fail without losing the utterance', async () => {
    let calls = 0;
    const model: Transcriber = {
      transcribe: async () => {
        calls += 1;
        if (calls === 1) throw new Error('decoder busy');
        return 'my trash was not picked up';
      },
    };
    const events = [start(), ...silentWindows(3), windowEvent({ speech: 32 }), end()];
    const { out, recognizer } = await recognizeWith({ earlyDecodeMs: 64 }, events, model, 1);
    expect(out.at(-1)!.alternatives![0]!.text).toBe('my trash was not picked up');
    expect(recognizer.decodes).toEqual({ early: 1, earlyUsed: 0, atEnd: 1 });
  });

  it('refuses a setting that is not a number of milliseconds', () => {
    for (const earlyDecodeMs of [-1, Number.NaN, Infinity]) {
      expect(() => new MoonshineSTT(numbered(), new ScriptedVad([]), { earlyDecodeMs })).toThrow(
        /earlyDecodeMs/,
      );
    }
  });
});
