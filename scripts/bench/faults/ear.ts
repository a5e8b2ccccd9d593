// What a fault did to one caller, read at the caller's ear (lab/chime/voice-connector-media.ts):
// the longest silence they sat through from the fault on, where they ended up, and whether their
// conversation went as scripted.
import type { Voice } from '../../../lab/chime/voice-connector-media.js';
import type { CallResult } from '../../../lab/caller/scripted-caller.js';
import type { CallRun } from '../../../lab/caller/call-run.js';
import { updateOf } from '../../../lab/caller/timeline-text.js';
import { type Gap, SILENT_MS, type SilenceWatch } from './silence-watch.js';

/** The person's speech that counts as the caller having reached them. */
const PERSON_REACHED_MS = 500;

export type EndedUp = 'agent' | 'person' | 'apology' | 'dropped';

export interface CallerOutcome {
  tx: string;
  /** A step of the script did not go as scripted (what the caller heard, or when). */
  affected: boolean;
  /** The longest stretch from the fault on with nothing audible and the caller not speaking. */
  silenceMs: number;
  /** That stretch: when, after what, until what (./silence-watch.ts). */
  silence?: Gap;
  /** The longest such stretch that began within 10 s of the fault: the fault's own. */
  faultSilenceMs: number;
  faultSilence?: Gap;
  endedUp: EndedUp;
  /** When each voice was first heard after the fault (ms after it). */
  firstHeardMs: Partial<Record<Voice, number>>;
  /** Why `dropped`, or which steps failed. */
  detail?: string;
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
    silenceMs: watch.longestMs,
    silence: watch.longest && { ...watch.longest, ms: watch.longestMs },
    faultSilenceMs: watch.nearFaultMs,
    faultSilence: watch.nearFault && { ...watch.nearFault, ms: watch.nearFaultMs },
    endedUp,
    firstHeardMs: { ...watch.firstHeardMs },
    detail: [why, steps].filter(Boolean).join('; ') || undefined,
  };
}

/**
 * The person, once their words reached the caller after the fault; else whoever the caller heard
 * last: Chime (an apology or notice, and the call ended), or the agent (the caller still with it,
 * or ended by it). Dropped: Chime ended the call (the handler did not answer), nothing was heard
 * after the fault, the line was silent for 5 s before the end (unless the agent spoke last and
 * the caller said nothing since: the agent is then waiting for the scripted caller), or the far
 * end hung up on the agent without the agent asking to.
 */
function whereEnded(run: CallRun, watch: SilenceWatch, faultAt: number): [EndedUp, string?] {
  const { media, call } = run;
  const dropped = call.timeline.find((s) => s.type === 'CALL_DROPPED');
  if (dropped) return ['dropped', `Chime ended the call: ${dropped.reason}`];
  if (media.audibleMsSince(faultAt, ['person']) >= PERSON_REACHED_MS) return ['person'];
  const last = media.lastAudibleAt();
  if (last === undefined || last < faultAt) return ['dropped', 'nothing heard after the fault'];
  const { ms, after, callerMs } = watch.trailing;
  if (ms >= SILENT_MS && (after !== 'agent' || callerMs > 0))
    return ['dropped', `silent for ${(ms / 1000).toFixed(1)} s before the end`];
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
