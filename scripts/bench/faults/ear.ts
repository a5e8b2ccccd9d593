// What a fault did to one caller, read at the caller's ear (lab/chime/voice-connector-media.ts):
// the longest silence they sat through from the fault on, where they ended up, and whether their
// conversation went as scripted.
import { renderPhoneLine } from '../../../lab/chime/voice-connector-media.js';
import type { CallResult } from '../../../lab/caller/scripted-caller.js';
import type { CallRun } from '../../../lab/caller/call-run.js';
import type { Scenario } from '../../../lab/caller/scenario.js';
import { updateOf } from '../../../lab/caller/timeline-text.js';

/** Silence longer than this counts against the target (nobody left in silence). */
export const SILENT_MS = 5000;
/** The person's speech that counts as the caller having reached them. */
const PERSON_REACHED_MS = 500;
const TICK_MS = 50;

export type EndedUp = 'agent' | 'person' | 'apology' | 'dropped';

export interface CallerOutcome {
  tx: string;
  /** A step of the script did not go as scripted (what the caller heard, or when). */
  affected: boolean;
  /** The longest stretch from the fault on with nothing audible and the caller not speaking. */
  silenceMs: number;
  endedUp: EndedUp;
  /** Why `dropped`, or which steps failed. */
  detail?: string;
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

/**
 * Watches one caller's line from the fault on, every 50 ms: the silence so far is the time since
 * the last audible frame, the caller's own speech, or the fault, whichever is latest. It stops
 * when the call ends, or when the caller reaches a person: the Connect stand-in's person says one
 * line and then listens, so what follows is not the fault's silence.
 */
export class SilenceWatch {
  longestMs = 0;
  /** The silence when the watch stopped (at the end of the call: the line went quiet for good). */
  trailingMs = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly run: CallRun,
    private readonly faultAt: number,
    private readonly lineMs: Map<string, number>,
  ) {
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  private tick(): void {
    const { media, endedAt } = this.run;
    const reachedPerson = media.audibleMsSince(this.faultAt, ['person']) > 0;
    const now = endedAt ?? performance.now();
    const latest = Math.max(this.faultAt, media.lastAudibleAt() ?? 0, this.speakingUntil(now));
    this.trailingMs = Math.max(0, now - latest);
    this.longestMs = Math.max(this.longestMs, this.trailingMs);
    if (endedAt !== undefined || reachedPerson) this.stop();
  }

  /** The end of the caller's latest line, if it began by `now` (capped at `now`). */
  private speakingUntil(now: number): number {
    let until = 0;
    for (const e of this.run.timeline) {
      if (e.source !== 'caller' || e.at > now) continue;
      const line = /^(?:\(again\) )?"(.*)"$/s.exec(e.text)?.[1];
      const ms = line === undefined ? undefined : this.lineMs.get(line);
      if (ms !== undefined) until = Math.max(until, Math.min(now, e.at + ms));
    }
    return until;
  }

  /** A last look, then no more. */
  finish(): void {
    if (this.run.endedAt !== undefined) this.tick();
    this.stop();
  }

  private stop(): void {
    clearInterval(this.timer);
  }
}

/** Checks about the records, not the caller's experience: they do not make a caller affected. */
const RECORD_CHECK =
  /^(both legs ended|the journal holds|disposition |transfer outcome |no one is left)/;

/** What the fault did to the caller of `result` (`run`, once torn down). */
export function callerOutcome(
  run: CallRun,
  result: CallResult,
  watch: SilenceWatch,
  faultAt: number,
): CallerOutcome {
  const failed = result.checks.filter((c) => !c.ok && !RECORD_CHECK.test(c.what));
  const [endedUp, why] = whereEnded(run, watch, faultAt);
  const steps = failed.map((c) => `✗ ${c.what}${c.detail ? ` (${c.detail})` : ''}`).join('; ');
  return {
    tx: run.tx,
    affected: failed.length > 0,
    silenceMs: Math.round(watch.longestMs),
    endedUp,
    detail: [why, steps].filter(Boolean).join('; ') || undefined,
  };
}

/**
 * The person, once their words reached the caller after the fault; else whoever the caller heard
 * last: Chime (an apology or notice, and the call ended), or the agent (the caller still with it,
 * or ended by it). Dropped: Chime ended the call (the handler did not answer), nothing was heard
 * after the fault, the line stayed silent for 5 s before the end, or the far end hung up on the
 * agent without the agent asking to.
 */
function whereEnded(run: CallRun, watch: SilenceWatch, faultAt: number): [EndedUp, string?] {
  const { media, call } = run;
  const dropped = call.timeline.find((s) => s.type === 'CALL_DROPPED');
  if (dropped) return ['dropped', `Chime ended the call: ${dropped.reason}`];
  if (media.audibleMsSince(faultAt, ['person']) >= PERSON_REACHED_MS) return ['person'];
  const last = media.lastAudibleAt();
  if (last === undefined || last < faultAt) return ['dropped', 'nothing heard after the fault'];
  if (watch.trailingMs >= SILENT_MS)
    return ['dropped', `silent for ${(watch.trailingMs / 1000).toFixed(1)} s at the end`];
  if (media.audibleMsSince(last, ['chime']) > 0) return ['apology'];
  if (callerHungUp(run) || agentHungUp(run)) return ['agent'];
  return ['dropped', 'the line went dead after the agent'];
}

function callerHungUp(run: CallRun): boolean {
  return run.timeline.some((e) => e.source === 'caller' && e.text.startsWith('hangs up'));
}

/** The agent's own hang-up request for the call was accepted. */
function agentHungUp(run: CallRun): boolean {
  return run.lab.voiceApi.requests.some(
    (r) =>
      r.path.endsWith(`/calls/${run.tx}`) &&
      r.status === 202 &&
      updateOf(r.body)?.action === 'hangup',
  );
}
