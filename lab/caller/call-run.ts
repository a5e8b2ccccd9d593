// One scripted call while it runs: the lab call (Chime's side and the caller's line), the room
// observer, the timeline and checks collected so far, and when both legs were seen ended. The
// script (./caller-script.ts) and the report (./call-report.ts) both work on it.
import type { SimulatedChimeCall } from '../chime/simulated-call.js';
import type { VoiceConnectorMedia } from '../chime/voice-connector-media.js';
import { LAB_CALLER, type Lab } from '../lab.js';
import { CallObserver } from './call-observer.js';
import { describeStep } from './timeline-text.js';
import type { Scenario } from './scenario.js';

export interface TimelineEntry {
  /** performance.now() */
  at: number;
  /** Who or what: sma, chime, voice-api, caller, agent, person, ear, lab. */
  source: string;
  text: string;
}

export interface Check {
  what: string;
  ok: boolean;
  /** What was found, when it is not just "held". */
  detail?: string;
}

/** The call's side the script and the report use: Chime's call, or Twilio's (lab/twilio/). */
export type LabCallSide = Pick<SimulatedChimeCall, 'startInbound' | 'ended' | 'settled'> & {
  readonly timeline: readonly SimulatedChimeCall['timeline'][number][];
};

/** The caller's line and ear the script and the report use. */
export type LabLine = Pick<
  VoiceConnectorMedia,
  | 'say'
  | 'callerHangsUp'
  | 'close'
  | 'waitFirstAudio'
  | 'answeredAt'
  | 'firstAudioAt'
  | 'audibleMsSince'
  | 'lastAudibleAt'
  | 'firstAudibleAt'
> & { readonly agent: VoiceConnectorMedia['agent'] };

/** How the call reaches callbridge: through Chime's SMA (default) or Twilio's gateway. */
export type Via = 'chime' | 'twilio';

/** A call placed some other way than through the lab's Chime (lab/twilio/). */
export interface PlacedCall {
  call: LabCallSide;
  media: LabLine;
  tx: string;
}

export interface CallRun {
  lab: Lab;
  scenario: Scenario;
  call: LabCallSide;
  media: LabLine;
  via: Via;
  /** The call's TransactionId. */
  tx: string;
  /** The caller's number. */
  caller: string;
  observer: CallObserver;
  timeline: TimelineEntry[];
  checks: Check[];
  /** performance.now() as the call was placed. */
  startedAt: number;
  /** When both legs were first seen ended. */
  endedAt: number | undefined;
  note(source: string, text: string, at?: number): void;
  /** Records a check; returns whether it held. */
  check(what: string, ok: boolean, detail?: string): boolean;
  /** Stops watching for the end of the call. */
  stopWatching(): void;
}

/** Places nothing yet: sets up the call on the lab, its observer, and the watch for its end. */
export function openRun(
  lab: Lab,
  scenario: Scenario,
  place?: { via: Via; call: (note: CallRun['note']) => PlacedCall },
): CallRun {
  const timeline: TimelineEntry[] = [];
  const checks: Check[] = [];
  const note = (source: string, text: string, at = performance.now()) =>
    void timeline.push({ at, source, text });
  const observer = new CallObserver(lab.livekit.stack, (l) =>
    note(l.speaker === 'agent' ? 'agent' : 'heard', l.text, l.at),
  );
  const startedAt = performance.now();
  const { call, media, tx } = place
    ? place.call(note)
    : lab.newCall({
        queueAnswers: scenario.queueAnswers,
        caller: scenario.caller,
        dialed: scenario.dialed,
        onStep: (s) => note('sma', describeStep(s)),
        note: (source, text) => note(source, text),
      });
  const watch = setInterval(() => {
    if (call.ended && run.endedAt === undefined) run.endedAt = performance.now();
  }, 20);
  const run: CallRun = {
    lab,
    scenario,
    call,
    media,
    via: place?.via ?? 'chime',
    tx,
    caller: scenario.caller ?? LAB_CALLER,
    observer,
    timeline,
    checks,
    startedAt,
    endedAt: undefined,
    note,
    check(what, ok, detail) {
      checks.push({ what, ok, detail });
      return ok;
    },
    stopWatching: () => clearInterval(watch),
  };
  return run;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
