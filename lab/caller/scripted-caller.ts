// The lab's scripted caller: places one call through the lab (the real SMA handler driven as Chime
// drives it, the AI leg a real SIP call through LiveKit to the agent), says a scenario's lines in a
// voice other than the agent's, listens, and checks the scenario's expectations. Everything is
// measured at the caller's own ear:
//   TTFA  the AI leg's answer → the first audible frame of the agent;
//   CTD   the transfer request (`requestedAt`, as the contract defines it) → the first audible
//         frame of the person;
//   E2E   the call arriving (NEW_INBOUND_CALL) → both legs ended.
// It also keeps a timeline: SMA events and actions, the Voice API requests, what each side said
// (the agent's side from the transcription it publishes in its room) and what the ear heard.
// The steps: ./call-run.ts (the call while it runs), ./caller-script.ts (the scenario's steps),
// ./call-report.ts (teardown, figures and the checks every call must pass), in the words of
// ./timeline-text.ts.
import type { Lab } from '../lab.js';
import { type CallResult, report, tearDown } from './call-report.js';
import { openRun, type Via } from './call-run.js';
import { twilioPlacement } from '../twilio/twilio-report.js';
import { playScript } from './caller-script.js';
import type { Scenario } from './scenario.js';

export type { CallResult } from './call-report.js';
export type { Check, TimelineEntry } from './call-run.js';

export interface ScriptedCallOptions {
  /**
   * Join the call's room to read what the agent said and heard, for the timeline (default true).
   * Load runs leave it out: production has no such participant.
   */
  observe?: boolean;
  /** Place the call through Twilio's gateway rather than Chime's SMA (lab/twilio/). */
  via?: Via;
}

export async function runScriptedCall(
  lab: Lab,
  scenario: Scenario,
  opts: ScriptedCallOptions = {},
): Promise<CallResult> {
  const run =
    opts.via === 'twilio'
      ? openRun(lab, scenario, twilioPlacement(lab, scenario))
      : openRun(lab, scenario);
  try {
    await playScript(run, opts.observe ?? true);
  } finally {
    await tearDown(run);
  }
  return report(run);
}
