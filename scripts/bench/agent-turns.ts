// The turn part of the agent benchmark (./agent-session.ts): where a turn's time goes, and whether a
// caller's pause inside a sentence splits it into two turns, for one turn-timing setting.
// - A turn's parts, from the caller's last audible frame (the lab's "caller stops speaking"): the
//   voice's tail the VAD still hears as speech, the VAD's minimum silence, the recognizer's final
//   transcript, the end of the turn decided (turn detector, endpointing), the reply's first frame.
// - Split check: sentences with a 400–500 ms pause inside; a split is a sentence the agent took as
//   two (or more) turns. "Natural" pauses are cut into one rendering of the whole sentence (its
//   prosody runs on through the pause); "final" pauses join two renderings, the first ending as a
//   sentence ends (the hard case: only the timing can tell).
// The turn detector runs its model in this process (in a worker, the inference process runs it).
import { createRequire } from 'node:module';
import { voice, type metrics } from '@livekit/agents';
import { frameRms, pcmFrames, resamplePcm, SILENCE_RMS } from '../../agent/audio.js';
import { synthesizeToPcm } from '../../agent/providers/flite-tts.js';
import type { TurnExecutor } from '../../agent/session-assembly.js';
import type { PushAudioInput, RecordingAudioOutput } from '../../test/helpers/audio.js';

export const RATE = 8000;
const FRAME_MS = 20;

export async function telephone(text: string): Promise<Int16Array> {
  const pcm = await synthesizeToPcm(text, { voice: 'rms' });
  return resamplePcm(pcm.samples, pcm.sampleRate, RATE);
}

/** The end of the last audible 20 ms frame, in samples (the lab's audible threshold). */
export function audibleEnd(pcm: Int16Array): number {
  const n = (RATE * FRAME_MS) / 1000;
  const frames = pcmFrames(pcm, RATE, FRAME_MS);
  for (let i = frames.length - 1; i >= 0; i--) {
    if (frameRms(frames[i]!) >= SILENCE_RMS) return Math.min(pcm.length, (i + 1) * n);
  }
  return 0;
}

/** The quietest 10 ms of `pcm` within ±`spanMs` of `at` (samples): a seam between two words. */
function quietestNear(pcm: Int16Array, at: number, spanMs = 80): number {
  const w = RATE / 100;
  let best = at;
  let bestE = Infinity;
  for (
    let i = Math.max(0, at - (RATE * spanMs) / 1000);
    i < Math.min(pcm.length - w, at + (RATE * spanMs) / 1000);
    i += w / 2
  ) {
    let e = 0;
    for (let j = i; j < i + w; j++) e += pcm[j]! * pcm[j]!;
    if (e < bestE) [best, bestE] = [i, e];
  }
  return best;
}

const join = (parts: Int16Array[]) => {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
};

export const PAUSED = [
  ['my trash was not picked up', 'this week'],
  ['i want to report a pothole', 'on main street'],
  ['when is city hall', 'open on saturday'],
] as const;

export interface PausedSentence {
  kind: 'natural' | 'final';
  /** The sentence's first words. */
  head: string;
  pcm: Int16Array;
}

/** Each paused sentence both ways, with pauses of 400, 450 and 500 ms in turn. */
export async function pausedSentences(): Promise<PausedSentence[]> {
  const out: PausedSentence[] = [];
  let i = 0;
  for (const [head, tail] of PAUSED) {
    const pause = new Int16Array((RATE * (400 + 50 * (i++ % 3))) / 1000);
    const [whole, first, second] = await Promise.all([
      telephone(`${head} ${tail}`),
      telephone(head),
      telephone(tail),
    ]);
    const cut = quietestNear(whole, audibleEnd(first));
    const natural = join([whole.subarray(0, cut), pause, whole.subarray(cut)]);
    out.push({ kind: 'natural', head, pcm: natural });
    out.push({
      kind: 'final',
      head,
      pcm: join([first.subarray(0, audibleEnd(first)), pause, second]),
    });
  }
  return out;
}

/** The turn detector's model, run in this process; each prediction's time is kept. */
export function inProcessTurnExecutor(inferenceMs: number[]): TurnExecutor {
  const model = createRequire(import.meta.url)('@livekit/local-inference') as {
    initEot(): void;
    predict(pcm: Int16Array): Promise<number>;
  };
  model.initEot();
  return {
    doInference: async (_method: string, data: unknown) => {
      const bytes = Buffer.from((data as { pcm: string }).pcm, 'base64');
      const pcm = new Int16Array(new Uint8Array(bytes).buffer); // aligned copy
      const t0 = performance.now();
      const probability = await model.predict(pcm);
      const ms = performance.now() - t0;
      inferenceMs.push(ms);
      return { probability, inferenceDurationMs: ms };
    },
  };
}

/** What one turn's events said, epoch ms. */
interface TurnMoments {
  lastAudibleAt: number;
  vadEnds: number[];
  finals: number[];
  eou: metrics.EOUMetrics[];
  /** The turn detector's end-of-turn probabilities, in order. */
  eot: number[];
  startedAt?: number;
  playedAt?: number;
  /** The latest reply's first frame: after a cut-off reply, the answer's. */
  lastPlayedAt?: number;
  /** Each stretch the agent spoke, first frame → paused or done (epoch ms). */
  spoke: { from: number; to?: number }[];
}

export type PartName =
  | 'tail (last audible → VAD last speech)'
  | 'VAD silence (→ VAD end of speech)'
  | 'decode (→ final transcript)'
  | 'end of turn (→ turn decided)'
  | 'reply (→ first reply frame)'
  | 'agent total (last audible → first reply frame)';

/** A session under test and what it reports, turn by turn. */
export class TurnProbe {
  readonly parts = new Map<PartName, number[]>();
  private m: TurnMoments | undefined;

  constructor(
    private readonly session: voice.AgentSession,
    output: RecordingAudioOutput,
    private readonly input: PushAudioInput,
  ) {
    session.on(voice.AgentSessionEventTypes.UserStateChanged, (ev) => {
      if (ev.oldState === 'speaking' && ev.newState !== 'speaking')
        this.m?.vadEnds.push(Date.now());
    });
    session.on(voice.AgentSessionEventTypes.UserInputTranscribed, (ev) => {
      if (ev.isFinal) this.m?.finals.push(Date.now());
    });
    session.on(voice.AgentSessionEventTypes.EotPrediction, (ev) =>
      this.m?.eot.push(ev.probability),
    );
    if (process.env['DEBUG_TURNS']) this.trace(session);
    session.on(voice.AgentSessionEventTypes.MetricsCollected, (ev) => {
      if (ev.metrics.type === 'eou_metrics') this.m?.eou.push(ev.metrics);
    });
    output.on(voice.AudioOutput.EVENT_PLAYBACK_STARTED, (ev: voice.PlaybackStartedEvent) => {
      if (!this.m || this.m.eou.length === 0) return;
      this.m.playedAt ??= ev.createdAt;
      this.m.lastPlayedAt = ev.createdAt;
    });
    session.on(voice.AgentSessionEventTypes.AgentStateChanged, (ev) => {
      const spoke = this.m?.spoke;
      if (ev.newState === 'speaking') spoke?.push({ from: ev.createdAt });
      else if (spoke?.at(-1) && spoke.at(-1)!.to === undefined) spoke.at(-1)!.to = ev.createdAt;
    });
  }

  /** DEBUG_TURNS=1: each event of a turn, in ms from the start of the caller's line. */
  private trace(session: voice.AgentSession): void {
    const t0 = () => Date.now() - (this.m?.startedAt ?? 0);
    session.on(voice.AgentSessionEventTypes.UserStateChanged, (ev) =>
      console.log(t0(), 'user', ev.newState),
    );
    session.on(voice.AgentSessionEventTypes.AgentStateChanged, (ev) =>
      console.log(t0(), 'agent', ev.newState),
    );
    session.on(voice.AgentSessionEventTypes.EotPrediction, (ev) =>
      console.log(t0(), 'eot', ev.probability.toFixed(2), ev.delayMs),
    );
    session.on(voice.AgentSessionEventTypes.UserInputTranscribed, (ev) =>
      console.log(t0(), 'final', ev.transcript),
    );
    session.on(
      voice.AgentSessionEventTypes.MetricsCollected,
      (ev) => ev.metrics.type === 'eou_metrics' && console.log(t0(), 'commit'),
    );
    session.on(voice.AgentSessionEventTypes.ConversationItemAdded, ({ item }) => {
      if (item.type !== 'message') return;
      const cut = item.interrupted ? ' (interrupted)' : '';
      console.log(t0(), `${item.role}${cut}:`, JSON.stringify(item.textContent ?? ''));
    });
  }

  /** The caller's lines in the session's history. */
  private callerLines(): number {
    return this.session.history.items.filter((i) => i.type === 'message' && i.role === 'user')
      .length;
  }

  /**
   * Says `pcm` in real time, waits for the reply to play out; returns the turns it was taken as,
   * the caller's lines it left in the history (a line that went on past a reply it cut off is one,
   * agent/line-goes-on.ts), the turn detector's probabilities, from the caller's last audible frame
   * to the first frame of the last reply (`answerMs`), and, when a reply started before the caller
   * had finished, how long it played before it stopped (`cutOffMs`).
   */
  async say(
    pcm: Int16Array,
    settleMs = 0,
  ): Promise<{
    turns: number;
    lines: number;
    eot: number[];
    answerMs?: number;
    cutOffMs?: number;
  }> {
    const linesBefore = this.callerLines();
    const end = audibleEnd(pcm);
    const m: TurnMoments = {
      lastAudibleAt: 0,
      vadEnds: [],
      finals: [],
      eou: [],
      eot: [],
      spoke: [],
    };
    this.m = m;
    m.startedAt = Date.now();
    if (process.env['DEBUG_TURNS']) console.log('--- say', pcm.length / 8, 'ms');
    await this.input.push(pcm.subarray(0, end), RATE);
    m.lastAudibleAt = Date.now() - FRAME_MS; // the last frame went in one frame ago
    await this.input.push(pcm.subarray(end), RATE);
    const deadline = Date.now() + 15_000;
    while (m.playedAt === undefined && Date.now() < deadline) await this.input.silence(100, RATE);
    if (settleMs > 0) await this.input.silence(settleMs, RATE);
    this.m = undefined;
    if (m.eou.length === 1) this.record(m);
    const first = m.spoke[0];
    const cutOff = first && first.from < m.lastAudibleAt && first.to !== undefined;
    return {
      turns: m.eou.length,
      lines: this.callerLines() - linesBefore,
      eot: m.eot,
      answerMs: m.lastPlayedAt === undefined ? undefined : m.lastPlayedAt - m.lastAudibleAt,
      cutOffMs: cutOff ? first.to! - first.from : undefined,
    };
  }

  private record(m: TurnMoments): void {
    const e = m.eou[0]!;
    const decidedAt = e.lastSpeakingTimeMs + e.endOfUtteranceDelayMs;
    const finalAt = m.finals.filter((t) => t <= decidedAt + 1).at(-1);
    const vadEnd = m.vadEnds.filter((t) => t <= (finalAt ?? decidedAt) + 1).at(-1);
    if (finalAt === undefined || vadEnd === undefined || m.playedAt === undefined) return;
    const add = (p: PartName, ms: number) => this.parts.set(p, [...(this.parts.get(p) ?? []), ms]);
    add('tail (last audible → VAD last speech)', e.lastSpeakingTimeMs - m.lastAudibleAt);
    add('VAD silence (→ VAD end of speech)', vadEnd - e.lastSpeakingTimeMs);
    add('decode (→ final transcript)', finalAt - vadEnd);
    add('end of turn (→ turn decided)', Math.max(0, decidedAt - finalAt));
    add('reply (→ first reply frame)', m.playedAt - decidedAt);
    add('agent total (last audible → first reply frame)', m.playedAt - m.lastAudibleAt);
  }
}
