// The silences one caller sat through from a fault on, read at their ear every 50 ms: a gap runs
// from one audible frame (the agent, a person or Chime), or the fault, to the next, and its length
// leaves out the time the caller spent saying their own lines into it (talking into a dead line
// does not end the silence; the time taken to talk is not silence either). Each gap is kept with
// what came before it and what ended it.
import { renderPhoneLine, type Voice } from '../../../lab/chime/voice-connector-media.js';
import type { CallRun } from '../../../lab/caller/call-run.js';
import type { Scenario } from '../../../lab/caller/scenario.js';

/** Silence longer than this counts against the target (nobody left in silence). */
export const SILENT_MS = 5000;
/**
 * A gap that begins this soon after the fault is the fault's own: on a loaded machine the
 * scripted conversation has slow replies of its own later on (the baseline row shows them).
 */
export const NEAR_FAULT_MS = 10_000;
const TICK_MS = 50;
/** At least this much audible within the window before the latest audible frame is speech. */
const SPEECH_MS = 100;
const SPEECH_WINDOW_MS = 500;
const VOICES: Voice[] = ['person', 'chime', 'agent'];

/** What bounds a gap: a voice, the fault, or the end of the call. */
export type GapEdge = Voice | 'fault' | 'end';

export interface Gap {
  /** ms after the fault. */
  startMs: number;
  /** Its length, less `callerMs`. */
  ms: number;
  /** The caller's own lines said into it. */
  callerMs: number;
  after: GapEdge;
  /** Unset while the gap goes on. */
  until?: GapEdge;
}

/** How long each of the scenario's lines takes the caller to say (ms), by its text. */
export async function lineDurations(scenario: Scenario): Promise<Map<string, number>> {
  const lines = new Map<string, number>();
  for (const step of scenario.steps) {
    if (!('say' in step)) continue;
    const pcm = await renderPhoneLine(step.say, scenario.voice);
    lines.set(step.say, (pcm.samples.length / pcm.sampleRate) * 1000);
  }
  return lines;
}

const EDGE_WORDS: Record<GapEdge, string> = {
  agent: 'the agent',
  person: 'the person',
  chime: 'Chime',
  fault: 'the fault',
  end: 'the end of the call',
};

export function describeGap(g: Gap): string {
  const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const until = g.until ? `, until ${EDGE_WORDS[g.until]}` : '';
  return `${secs(g.ms)} at +${secs(g.startMs)}, after ${EDGE_WORDS[g.after]}${until}`;
}

/**
 * Watches one caller's line from the fault on. It stops when the call ends, or when the caller
 * reaches a person: the Connect stand-in's person says one line and then listens, so what follows
 * is not the fault's silence.
 */
export class SilenceWatch {
  /** The longest gap so far. */
  longest: Gap | undefined;
  /** The longest gap so far that began within NEAR_FAULT_MS of the fault. */
  nearFault: Gap | undefined;
  /** When each voice was first heard after the fault, ms after it (to the watch's 50 ms). */
  readonly firstHeardMs: Partial<Record<Voice, number>> = {};
  private current: Gap;
  private readonly timer: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly run: CallRun,
    private readonly faultAt: number,
    private readonly lineMs: Map<string, number>,
  ) {
    this.current = { startMs: 0, ms: 0, callerMs: 0, after: 'fault' };
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** The gap going on when the watch stopped (at the end of the call: the line's last silence). */
  get trailing(): Readonly<Gap> {
    return this.current;
  }

  get longestMs(): number {
    return Math.round(this.longest?.ms ?? 0);
  }

  get nearFaultMs(): number {
    return Math.round(this.nearFault?.ms ?? 0);
  }

  private tick(): void {
    if (this.stopped) return;
    const { media, endedAt } = this.run;
    const now = endedAt ?? performance.now();
    for (const v of VOICES)
      if (this.firstHeardMs[v] === undefined && media.audibleMsSince(this.faultAt, [v]) > 0)
        this.firstHeardMs[v] = Math.round(now - this.faultAt);
    const heardAt = media.lastAudibleAt() ?? 0;
    // Speech ends a gap; a lone audible frame (a click as a leg changes hands) does not.
    const speech = media.audibleMsSince(heardAt - SPEECH_WINDOW_MS, VOICES) >= SPEECH_MS;
    if (speech && heardAt > this.faultAt + this.current.startMs) {
      const voice = VOICES.find((v) => media.audibleMsSince(heardAt, [v]) > 0) ?? 'agent';
      this.current.until ??= voice;
      this.current = { startMs: heardAt - this.faultAt, ms: 0, callerMs: 0, after: voice };
    }
    const from = this.faultAt + this.current.startMs;
    this.current.callerMs = this.callerSpeaking(from, now);
    this.current.ms = now - from - this.current.callerMs;
    if (this.current.ms > (this.longest?.ms ?? 0)) this.longest = this.current;
    if (this.current.startMs < NEAR_FAULT_MS && this.current.ms > (this.nearFault?.ms ?? 0))
      this.nearFault = this.current;
    if (endedAt !== undefined || this.firstHeardMs.person !== undefined) this.stop(endedAt);
  }

  /** How long the caller spent saying their lines between `from` and `to`. */
  private callerSpeaking(from: number, to: number): number {
    let ms = 0;
    for (const e of this.run.timeline) {
      if (e.source !== 'caller') continue;
      const line = /^(?:\(again\) )?"(.*)"$/s.exec(e.text)?.[1];
      const lineMs = line === undefined ? undefined : this.lineMs.get(line);
      if (lineMs !== undefined)
        ms += Math.max(0, Math.min(to, e.at + lineMs) - Math.max(from, e.at));
    }
    return ms;
  }

  /** A last look (at the end of the call, if it ended), then no more. */
  finish(): void {
    if (this.run.endedAt !== undefined) this.tick();
    this.stop(this.run.endedAt);
  }

  private stop(endedAt: number | undefined): void {
    if (this.stopped) return;
    if (endedAt !== undefined) this.current.until ??= 'end';
    this.stopped = true;
    clearInterval(this.timer);
  }
}
