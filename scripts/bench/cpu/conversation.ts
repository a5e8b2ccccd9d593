// The scripted call of bench:cpu, the same for both pipelines: the greeting, two caller lines
// answered, a goodbye. The caller's line runs the whole call, in real time: silence between the
// lines, as a phone line carries it, so the VAD works through the whole call as it does on a call.
import { voice } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { resamplePcm } from '../../../agent/audio.js';
import { synthesizeToPcm } from '../../../agent/providers/flite-tts.js';
import type { RecordingAudioOutput } from '../../../test/helpers/audio.js';

/** Two questions with short answers, so the call lasts about 25 s as the lab's calls do. */
export const CALLER_LINES = [
  'where is city hall',
  'when is city hall open',
  'thank you, that is all, goodbye',
];

/** The caller's lines as a phone line brings them (8 kHz), at the pipeline's input rate. */
export async function callerAudio(rate: number): Promise<Int16Array[]> {
  const out: Int16Array[] = [];
  for (const text of CALLER_LINES) {
    const pcm = await synthesizeToPcm(text, { voice: 'rms' });
    out.push(resamplePcm(resamplePcm(pcm.samples, pcm.sampleRate, 8000), 8000, rate));
  }
  return out;
}

/** The session's audio input: a frame every `frameMs`, speech when given, silence otherwise. */
export class CallerLine extends voice.AudioInput {
  private controller!: ReadableStreamDefaultController<AudioFrame>;
  private readonly per: number;
  private speech: { pcm: Int16Array; at: number; done: () => void } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly rate: number,
    private readonly frameMs: number,
  ) {
    super();
    this.per = (rate * frameMs) / 1000;
    const stream = new ReadableStream<AudioFrame>({ start: (c) => (this.controller = c) });
    this.multiStream.addInputStream(stream);
  }

  /** Starts the line; frames are timed from here, so timer lateness does not drift. */
  begin(): void {
    const start = Date.now();
    let n = 0;
    const tick = () => {
      this.controller.enqueue(this.nextFrame());
      n += 1;
      this.timer = setTimeout(tick, Math.max(0, start + n * this.frameMs - Date.now()));
    };
    tick();
  }

  /** Speaks `pcm`; resolves when its last frame is sent. */
  say(pcm: Int16Array): Promise<void> {
    return new Promise((done) => (this.speech = { pcm, at: 0, done }));
  }

  end(): void {
    clearTimeout(this.timer);
  }

  private nextFrame(): AudioFrame {
    const chunk = new Int16Array(this.per);
    const s = this.speech;
    if (s) {
      chunk.set(s.pcm.subarray(s.at, Math.min(s.at + this.per, s.pcm.length)));
      s.at += this.per;
      if (s.at >= s.pcm.length) {
        this.speech = undefined;
        s.done();
      }
    }
    return new AudioFrame(chunk, this.rate, 1, this.per);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

export interface Script {
  session: voice.AgentSession;
  line: CallerLine;
  output: RecordingAudioOutput;
  audio: Int16Array[];
  greet: () => voice.SpeechHandle;
  /** True once the agent has left (end_call said goodbye). */
  left: () => boolean;
}

/** Plays the call; the turn latencies (caller's line sent -> first reply frame). */
export async function playCall(s: Script): Promise<{ turnsMs: number[]; ended: boolean }> {
  s.line.begin();
  await s.greet().waitForPlayout();
  const turnsMs: number[] = [];
  for (const [i, pcm] of s.audio.entries()) {
    await sleep(400);
    const before = s.output.played.length;
    await s.line.say(pcm);
    const spoken = Date.now();
    if (!(await until(() => s.output.played.length > before, 10_000))) break;
    turnsMs.push(s.output.played[before]!.at - spoken);
    if (i === s.audio.length - 1) break;
    await s.output.waitForPlayout();
  }
  const ended = await until(s.left, 15_000);
  s.line.end();
  return { turnsMs, ended };
}
