// The end of a scripted call: tearing it down within bounds, then what the caller's ear measured
// (TTFA, CTD, E2E, each turn's latency beside the agent's own), the timeline's last entries, and
// the checks every call must pass.
import { readFile } from 'node:fs/promises';
import { SILENCE_RMS } from '../../agent/audio.js';
import { type CallRun, type Check, type TimelineEntry, sleep } from './call-run.js';
import { ttfaOf } from './caller-script.js';
import {
  agentCallCpuIn,
  agentFirstAudioIn,
  agentTurnsIn,
  earTurns,
  firstAudioWays,
  pairTurns,
  type FirstAudioWays,
  type TurnResult,
} from './ear-turns.js';
import { describeTurn, describeUpdate, updateOf } from './timeline-text.js';
import { checkTwilioCall, twilioTransferAt } from '../twilio/twilio-report.js';
import { transferHopsOf, type TransferHops } from './transfer-hops.js';

export interface CallResult {
  scenario: string;
  ok: boolean;
  tx: string;
  ttfaMs: number | null;
  /** Where the TTFA at the ear went: the answer's way to the agent, the agent, the way out. */
  ttfaWays: FirstAudioWays | null;
  /** The AI leg rang this long: its INVITE → its answer, at the phone (through Chime only). */
  ringMs: number | null;
  /** The agent's job process for this call: its CPU and the job's time (its `call ended` line). */
  agentCpu: { cpuMs: number; ms: number } | null;
  ctdMs: number | null;
  e2eMs: number | null;
  /** The first transfer's hops, from requestedAt (through Chime only; null without a transfer). */
  hops: TransferHops | null;
  /** Each line the caller said to the agent: its turn latency at the ear and the agent's own. */
  turns: TurnResult[];
  startedAt: number;
  checks: Check[];
  timeline: TimelineEntry[];
}

type Item = Record<string, unknown>;
type VoiceApiRequest = CallRun['lab']['voiceApi']['requests'][number];

/** Hangs up what is still up and lets every part settle; each step has a bound of its own. */
export async function tearDown(run: CallRun): Promise<void> {
  const { call, media } = run;
  if (!call.ended) {
    run.note('caller', 'hangs up (end of script)');
    await bounded(media.callerHangsUp(), 20_000);
  }
  const deadline = performance.now() + 5000;
  while (!call.ended && performance.now() < deadline) await sleep(50);
  run.stopWatching();
  if (call.ended) run.endedAt ??= performance.now();
  await bounded(run.observer.leave(), 10_000);
  await bounded(media.close(), 10_000);
  // A leg that ended with the teardown is reported to the handler like any other: let those
  // invocations finish, so the timeline and the journal are compared when both are final.
  await sleep(200);
  await bounded(call.settled(), 25_000);
  run.lab.calls.delete(run.tx);
}

/** The call's result, once it is torn down. */
export async function report(run: CallRun): Promise<CallResult> {
  const items = await run.lab.sma.journal(run.tx).catch(() => [] as Item[]);
  const state = items.find((i) => i['sk'] === 'state') ?? {};
  const transfer = transferRequest(run);
  const requestedAt =
    run.via === 'twilio'
      ? twilioTransferAt(run)
      : (transfer?.update.requestedAt ?? Number(state['TransferRequestedAt']));
  const personHeardAt = run.media.firstAudibleAt('person');
  const ctdMs =
    Number.isFinite(requestedAt) && personHeardAt !== undefined
      ? Math.round(performance.timeOrigin + personHeardAt - requestedAt)
      : null;
  noteWhatWasHeard(run, transfer?.request, personHeardAt);
  const logs = await workerLogs(run);
  const turns = turnsOf(run, logs);
  await checkEveryCall(run, items, state);
  run.timeline.sort((a, b) => a.at - b.at);
  return {
    scenario: run.scenario.name,
    ok: run.checks.every((c) => c.ok),
    tx: run.tx,
    ttfaMs: ttfaOf(run.media),
    ttfaWays:
      firstAudioWays(
        run.media,
        logs.map((text) => agentFirstAudioIn(text, run.tx)).find(Boolean),
        performance.timeOrigin,
      ) ?? null,
    ringMs: ringOf(run.media),
    agentCpu: logs.map((text) => agentCallCpuIn(text, run.tx)).find(Boolean) ?? null,
    ctdMs,
    hops:
      run.via === 'twilio'
        ? null
        : transferHopsOf(
            run.call.timeline,
            requestedAt,
            personHeardAt === undefined ? undefined : performance.timeOrigin + personHeardAt,
          ),
    e2eMs: run.endedAt !== undefined ? Math.round(run.endedAt - run.startedAt) : null,
    turns,
    startedAt: run.startedAt,
    checks: run.checks,
    timeline: run.timeline,
  };
}

/**
 * Each line the caller said to the agent, timed at the ear, beside the agent's own turn latency
 * from its workers' logs (a `turn` line per reply), each turn noted on the timeline.
 */
function turnsOf(run: CallRun, logs: readonly string[]): TurnResult[] {
  const phone = run.media.agent;
  if (!phone) return [];
  const ear = earTurns(phone.said, phone.heard, { threshold: SILENCE_RMS });
  const agent = logs.flatMap((text) => agentTurnsIn(text, run.tx));
  const turns = pairTurns(ear, agent, performance.timeOrigin);
  ear.forEach((t, i) => run.note('ear', describeTurn(turns[i]!), t.replyAt ?? t.lineEndAt));
  return turns;
}

function ringOf(line: CallRun['media']): number | null {
  const invitedAt = line.agent?.invitedAt;
  if (!invitedAt || line.answeredAt === undefined) return null;
  return Math.round(line.answeredAt - invitedAt);
}

/** The agent workers' logs, as written so far. */
function workerLogs(run: CallRun): Promise<string[]> {
  return Promise.all(
    run.lab.livekit.workers.map((w) => readFile(w.logFile, 'utf8').catch(() => '')),
  );
}

/** The agent's accepted transfer request for this call, if it made one. */
function transferRequest(run: CallRun) {
  for (const request of run.lab.voiceApi.requests) {
    if (!request.path.endsWith(`/calls/${run.tx}`) || request.status !== 202) continue;
    const update = updateOf(request.body);
    if (update?.action === 'transfer') return { request, update };
  }
  return undefined;
}

function noteWhatWasHeard(run: CallRun, transfer?: VoiceApiRequest, personHeardAt?: number) {
  const { media, note } = run;
  if (media.answeredAt !== undefined) note('ear', 'the AI leg is answered', media.answeredAt);
  if (media.firstAudioAt !== undefined) note('ear', 'first audio of the agent', media.firstAudioAt);
  const updateLine = (r: VoiceApiRequest) =>
    `UpdateSipMediaApplicationCall ${describeUpdate(updateOf(r.body))} → ${r.status}`;
  if (transfer) note('voice-api', updateLine(transfer), transfer.at);
  if (personHeardAt !== undefined) note('ear', 'first words of the person', personHeardAt);
  for (const r of run.lab.voiceApi.requests)
    if (r.path.endsWith(`/calls/${run.tx}`) && r !== transfer)
      note('voice-api', updateLine(r), r.at);
  if (run.endedAt !== undefined && run.via !== 'twilio')
    note('chime', 'both legs ended', run.endedAt);
}

/** What must hold for every call, whatever its scenario. */
async function checkEveryCall(run: CallRun, items: Item[], state: Item): Promise<void> {
  const { call, check } = run;
  if (run.via === 'twilio') return checkTwilioCall(run, items);
  check('both legs ended', call.ended);
  const events = items.filter((i) => String(i['sk']).startsWith('event#')).length;
  check(
    `the journal holds all ${call.timeline.length} events`,
    events === call.timeline.length,
    `${events} event items`,
  );
  const { disposition, transferOutcome } = run.scenario.expect;
  if (disposition) {
    const found = state['Disposition'];
    check(`disposition ${disposition}`, found === disposition, String(found));
  }
  if (transferOutcome) {
    const found = state['TransferOutcome'];
    check(`transfer outcome ${transferOutcome}`, found === transferOutcome, String(found));
  }
  const left = await run.lab.participantsLeft([run.observer.roomName]);
  check("no one is left in the call's room", left === 0, `${left} participants`);
}

/** Waits for `p` at most `ms`; what it does after that, or a failure, no longer matters here. */
async function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  await Promise.race([p.catch(() => {}), sleep(ms)]);
}
