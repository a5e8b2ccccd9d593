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
import type { TimelineStep } from '../chime/simulated-call.js';
import { CallObserver } from './call-observer.js';
import type { Expectation, Scenario, Who } from './scenario.js';
import {
  type Voice,
  type VoiceConnectorMedia,
  renderPhoneLine,
} from '../chime/voice-connector-media.js';
import type { Lab } from '../lab.js';

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

export interface CallResult {
  scenario: string;
  ok: boolean;
  tx: string;
  ttfaMs: number | null;
  ctdMs: number | null;
  e2eMs: number | null;
  startedAt: number;
  checks: Check[];
  timeline: TimelineEntry[];
}

/** Who a scenario's `hears` means, among the voices on the caller's line. */
const VOICES: Record<Who, Voice[]> = {
  agent: ['agent'],
  person: ['person'],
  chime: ['chime'],
  anyone: ['agent', 'person', 'chime'],
};
/** Audible speech that counts as "the person's words reached the caller". */
const PERSON_WORDS_MS = 500;
/** How long a caller waits for a silent line to let them speak before giving up. */
const QUIET_WAIT_MS = 20_000;

export interface ScriptedCallOptions {
  /**
   * Join the call's room to read what the agent said and heard, for the timeline (default true).
   * Load runs leave it out: production has no such participant.
   */
  observe?: boolean;
}

export async function runScriptedCall(
  lab: Lab,
  scenario: Scenario,
  opts: ScriptedCallOptions = {},
): Promise<CallResult> {
  const timeline: TimelineEntry[] = [];
  const checks: Check[] = [];
  const note = (source: string, text: string, at = performance.now()) =>
    timeline.push({ at, source, text });
  const check = (what: string, ok: boolean, detail?: string): boolean => {
    checks.push({ what, ok, detail });
    return ok;
  };
  const observer = new CallObserver(lab.livekit.stack, (l) =>
    note(l.speaker === 'agent' ? 'agent' : 'heard', l.text, l.at),
  );

  const startedAt = performance.now();
  const { call, media, tx } = lab.newCall({
    queueAnswers: scenario.queueAnswers,
    caller: scenario.caller,
    dialed: scenario.dialed,
    onStep: (s) => note('sma', describeStep(s)),
  });
  let endedAt: number | undefined;
  const endedWatch = setInterval(() => {
    if (call.ended && endedAt === undefined) endedAt = performance.now();
  }, 20);

  const heardFrom = (who: Who, since: number) => media.audibleMsSince(since, VOICES[who]);

  const expect = async (e: Expectation, since: number): Promise<[boolean, string]> => {
    const end = since + e.withinMs;
    const held = () =>
      'hears' in e
        ? heardFrom(e.hears, since) >= e.atLeastMs
        : 'transferred' in e
          ? heardFrom('person', since) >= PERSON_WORDS_MS
          : call.ended;
    while (!held() && performance.now() < end) await sleep(50);
    const ok = held();
    if ('hears' in e) return [ok, `${heardFrom(e.hears, since)} ms of ${e.hears}`];
    if ('transferred' in e) return [ok, ok ? 'the person is heard' : 'no person heard'];
    return [ok, ok ? 'ended' : 'still up'];
  };

  const script = async () => {
    note('caller', `dials ${scenario.dialed ?? 'the default use case'} (call ${tx.slice(0, 8)})`);
    await call.startInbound();
    // The observer joins once the caller hears the agent (or after 3 s): joining the call's room
    // while the agent is starting to speak would compete with what TTFA measures. Not joining, it
    // still finds the room, which must be empty at the end.
    void media
      .waitFirstAudio(3000)
      .catch(() => {})
      .then(() => observer.attach(tx, { join: opts.observe ?? true }))
      .catch(() => false);

    for (const step of scenario.steps) {
      if (endedAt !== undefined && !('listen' in step && 'callEnds' in step.listen)) {
        check(`the call is still up for: ${describeScenarioStep(step)}`, false, 'it had ended');
        break;
      }
      if ('greeting' in step) {
        const ok = await media
          .waitFirstAudio(step.greeting.withinMs + 10_000)
          .then(() => true)
          .catch(() => false);
        const ttfa = ttfaOf(media);
        const held = ok && ttfa !== null && ttfa <= step.greeting.withinMs;
        if (!check(`hears the greeting within ${step.greeting.withinMs} ms`, held, fmt(ttfa)))
          break;
      } else if ('say' in step) {
        const pcm = await renderPhoneLine(step.say, scenario.voice);
        let held = step.then === undefined;
        let detail = '';
        for (let attempt = 0; attempt < (step.repeatIfNotHeard ? 2 : 1); attempt++) {
          if (!(await quiet(media, step.afterQuietMs))) {
            detail = `the line was not quiet for ${step.afterQuietMs} ms within ${QUIET_WAIT_MS} ms`;
            break;
          }
          const at = performance.now();
          note('caller', `${attempt > 0 ? '(again) ' : ''}"${step.say}"`, at);
          await media.say(pcm.samples, pcm.sampleRate);
          if (!step.then) break;
          [held, detail] = await expect(step.then, at);
          if (held) break;
        }
        if (step.then && !check(`after "${step.say}": ${describe(step.then)}`, held, detail)) break;
      } else if ('listen' in step) {
        const [held, detail] = await expect(step.listen, performance.now());
        if (!check(describe(step.listen), held, detail)) break;
      } else if ('pause' in step) {
        await sleep(step.pause);
      } else if ('hangUp' in step) {
        await sleep(step.hangUp.afterMs);
        if (!call.ended) {
          note('caller', 'hangs up');
          await media.callerHangsUp();
        }
      }
    }
  };

  // However the far end behaves, a call's run ends: the script has a budget, and so has each
  // step of tearing down.
  const budgetMs = scriptBudgetMs(scenario);
  try {
    const finished = await Promise.race([
      script().then(() => true),
      sleep(budgetMs).then(() => false),
    ]);
    if (!finished) check(`the script ran to its end within ${budgetMs} ms`, false, 'it did not');
  } catch (e) {
    check('the call ran', false, (e as Error).message);
  } finally {
    if (!call.ended) {
      note('caller', 'hangs up (end of script)');
      await bounded(media.callerHangsUp(), 20_000);
    }
    const deadline = performance.now() + 5000;
    while (!call.ended && performance.now() < deadline) await sleep(50);
    clearInterval(endedWatch);
    if (call.ended) endedAt ??= performance.now();
    await bounded(observer.leave(), 10_000);
    await bounded(media.close(), 10_000);
    // A leg that ended with the teardown is reported to the handler like any other: let those
    // invocations finish, so the timeline and the journal are compared when both are final.
    await sleep(200);
    await bounded(call.settled(), 25_000);
    lab.calls.delete(tx);
  }

  // What the ear measured.
  const ttfaMs = ttfaOf(media);
  const transfer = lab.voiceApi.requests.find(
    (r) =>
      r.path.endsWith(`/calls/${tx}`) &&
      r.status === 202 &&
      (r.body as { Arguments?: Record<string, string> }).Arguments?.['action'] === 'transfer',
  );
  const items = await lab.sma.journal(tx).catch(() => [] as Record<string, unknown>[]);
  const state = items.find((i) => i['sk'] === 'state') ?? {};
  const requestedEpoch = Number(
    (transfer?.body as { Arguments?: Record<string, string> } | undefined)?.Arguments?.[
      'requestedAt'
    ] ?? state['TransferRequestedAt'],
  );
  const personHeardAt = media.firstAudibleAt('person');
  const ctdMs =
    Number.isFinite(requestedEpoch) && personHeardAt !== undefined
      ? Math.round(performance.timeOrigin + personHeardAt - requestedEpoch)
      : null;
  const e2eMs = endedAt !== undefined ? Math.round(endedAt - startedAt) : null;

  if (media.answeredAt !== undefined) note('ear', 'the AI leg is answered', media.answeredAt);
  if (media.firstAudioAt !== undefined) note('ear', 'first audio of the agent', media.firstAudioAt);
  if (transfer)
    note('voice-api', `UpdateSipMediaApplicationCall ${argsOf(transfer.body)} → 202`, transfer.at);
  if (personHeardAt !== undefined) note('ear', 'first words of the person', personHeardAt);
  for (const r of lab.voiceApi.requests)
    if (r.path.endsWith(`/calls/${tx}`) && r !== transfer)
      note('voice-api', `UpdateSipMediaApplicationCall ${argsOf(r.body)} → ${r.status}`, r.at);
  if (endedAt !== undefined) note('chime', 'both legs ended', endedAt);

  // What must hold for every call.
  check('both legs ended', call.ended);
  const events = items.filter((i) => String(i['sk']).startsWith('event#')).length;
  check(
    `the journal holds all ${call.timeline.length} events`,
    events === call.timeline.length,
    `${events} event items`,
  );
  const { disposition, transferOutcome } = scenario.expect;
  if (disposition)
    check(
      `disposition ${disposition}`,
      state['Disposition'] === disposition,
      String(state['Disposition']),
    );
  if (transferOutcome)
    check(
      `transfer outcome ${transferOutcome}`,
      state['TransferOutcome'] === transferOutcome,
      String(state['TransferOutcome']),
    );
  const left = await lab.participantsLeft([observer.roomName]);
  check("no one is left in the call's room", left === 0, `${left} participants`);

  timeline.sort((a, b) => a.at - b.at);
  return {
    scenario: scenario.name,
    ok: checks.every((c) => c.ok),
    tx,
    ttfaMs,
    ctdMs,
    e2eMs,
    startedAt,
    checks,
    timeline,
  };
}

/** Long enough for every step to use all its time (and a repeated line), plus the answer. */
function scriptBudgetMs(scenario: Scenario): number {
  let ms = 90_000; // the SMA's AI ring timeout and a queue's, at their defaults
  for (const step of scenario.steps) {
    if ('greeting' in step) ms += step.greeting.withinMs + 10_000;
    else if ('say' in step) ms += 2 * (QUIET_WAIT_MS + 30_000 + (step.then?.withinMs ?? 0));
    else if ('listen' in step) ms += step.listen.withinMs;
    else if ('pause' in step) ms += step.pause;
    else ms += step.hangUp.afterMs + 20_000;
  }
  return ms;
}

/** Waits for `p` at most `ms`; what it does after that, or a failure, no longer matters here. */
async function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  await Promise.race([p.catch(() => {}), sleep(ms)]);
}

function ttfaOf(line: VoiceConnectorMedia): number | null {
  if (line.answeredAt === undefined || line.firstAudioAt === undefined) return null;
  return Math.round(line.firstAudioAt - line.answeredAt);
}

/** Waits until nothing audible has reached the caller for `ms`; false after QUIET_WAIT_MS. */
async function quiet(line: VoiceConnectorMedia, ms: number): Promise<boolean> {
  const end = performance.now() + QUIET_WAIT_MS;
  for (;;) {
    const since = performance.now() - (line.lastAudibleAt() ?? 0);
    if (since >= ms) return true;
    if (performance.now() > end) return false;
    await sleep(Math.min(100, ms - since + 5));
  }
}

export function describe(e: Expectation): string {
  if ('hears' in e) return `hears the ${e.hears} for ${e.atLeastMs} ms within ${e.withinMs} ms`;
  if ('transferred' in e) return `is transferred: the person is heard within ${e.withinMs} ms`;
  return `the call ends within ${e.withinMs} ms`;
}

function describeScenarioStep(step: Scenario['steps'][number]): string {
  if ('greeting' in step) return 'the greeting';
  if ('say' in step) return `saying "${step.say}"`;
  if ('listen' in step) return describe(step.listen);
  if ('pause' in step) return `a pause of ${step.pause} ms`;
  return 'hanging up';
}

function argsOf(body: unknown): string {
  const args = (body as { Arguments?: Record<string, string> }).Arguments ?? {};
  return Object.entries(args)
    .filter(([k]) => k !== 'traceparent' && k !== 'requestedAt')
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** One SMA invocation: the event (with what matters of its ActionData) → the actions answered. */
export function describeStep(step: TimelineStep): string {
  const d = step.actionData as
    { Type?: string; Parameters?: Record<string, unknown>; ErrorType?: string } | undefined;
  let event = step.type;
  if (step.type === 'CALL_UPDATE_REQUESTED')
    event += ` ${argsOf({ Arguments: d?.Parameters?.['Arguments'] })}`;
  else if (step.type === 'HANGUP') event += ` ${String(d?.Parameters?.['ParticipantTag'])}`;
  else if (d?.Type) event += ` ${d.Type}${d.ErrorType ? ` (${d.ErrorType})` : ''}`;
  if (step.attempts) event += ` [invoked ${step.attempts} times]`;
  if (step.reason) event += `: ${step.reason}`;
  const actions = step.actions
    .map((a) => {
      const p = a.Parameters ?? {};
      if (a.Type === 'CallAndBridge') {
        const ep = (
          p['Endpoints'] as { BridgeEndpointType: string; Uri: string }[] | undefined
        )?.[0];
        return `CallAndBridge ${ep?.BridgeEndpointType ?? '?'} ${ep?.Uri ?? ''}`.trim();
      }
      if (a.Type === 'Hangup') return `Hangup ${String(p['ParticipantTag'] ?? p['CallId'])}`;
      if (a.Type === 'Speak') return `Speak "${String(p['Text'])}"`;
      return a.Type;
    })
    .join(', ');
  return `#${step.sequence} ${event} → ${actions || '(nothing)'}`;
}

const fmt = (ms: number | null) => (ms === null ? 'not heard' : `${ms} ms`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
