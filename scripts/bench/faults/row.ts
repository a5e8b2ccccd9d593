// One row of the fault matrix: K scripted calls placed on the lab, the fault injected once every
// caller is in conversation with the agent, the calls played to their end (the scripted caller
// hangs up at the end of its script, or when a step fails), the fault undone, and then what it did
// to each caller and what it left behind.
import { tearDown, report } from '../../../lab/caller/call-report.js';
import { type CallRun, openRun, sleep } from '../../../lab/caller/call-run.js';
import { playScript } from '../../../lab/caller/caller-script.js';
import type { Scenario } from '../../../lab/caller/scenario.js';
import type { CallResult } from '../../../lab/caller/scripted-caller.js';
import type { Lab } from '../../../lab/lab.js';
import type { Fault, FaultContext, FaultLab } from './catalog.js';
import { type CallerOutcome, type EndedUp, callerOutcome } from './ear.js';
import { SILENT_MS, SilenceWatch, lineDurations } from './silence-watch.js';
import { type LeftBehind, leftBehind, roomNames } from './left-behind.js';

export interface RowOptions {
  /** Calls placed together (K). */
  calls: number;
  /** Between two calls' arrivals. */
  rampMs: number;
  scenario: Scenario;
}

export interface RowResult {
  id: string;
  fault: string;
  /** `not injected`: the lab cannot inject it, or the injection failed; no figures then. */
  status: 'measured' | 'not injected';
  calls: number;
  affected: number | null;
  longestSilenceMs: number | null;
  /**
   * The longest silence that began within 10 s of the fault (./silence-watch.ts NEAR_FAULT_MS);
   * null for a fault that acts later (`deferred`).
   */
  faultSilenceMs: number | null;
  silentOverTarget: number | null;
  endedUp: Record<EndedUp, number> | null;
  leftBehind: LeftBehind | null;
  notes: string[];
  callers: CallerOutcome[];
}

/** Once every caller has heard the agent, this much further into the conversation. */
const INJECT_AFTER_MS = 1500;
/** Longest wait for every caller to hear the agent before injecting all the same. */
const FIRST_AUDIO_WAIT_MS = 20_000;

const firstLine = (e: unknown) => String((e as Error)?.message ?? e).split('\n')[0]!;

export async function runRow(f: FaultLab, fault: Fault, o: RowOptions): Promise<RowResult> {
  const missing = fault.missing?.(f);
  if (missing) return notInjected(fault, o.calls, missing, []);
  const scenario = fault.scenario?.(o.scenario) ?? o.scenario;
  const lineMs = await lineDurations(scenario);
  await f.lab.livekit.worker!.waitPrewarmed(o.calls);
  const roomsBefore = await roomNames(f.lab);
  const { runs, played } = await placeCalls(f.lab, scenario, o);
  await momentToInject(runs);
  const ctx: FaultContext = { ...f, runs, faultAt: performance.now() };
  const watches = runs.map((r) => new SilenceWatch(r, ctx.faultAt, lineMs));
  const notes: string[] = [];
  const injectError = await fault.inject(ctx).then(
    (note) => void (note && notes.push(note)),
    (e: unknown) => firstLine(e),
  );
  const results = await Promise.all(played);
  for (const w of watches) w.finish();
  const restored = await fault
    .restore?.(ctx)
    .catch((e: unknown) => `undoing it failed: ${firstLine(e)}`);
  if (restored) notes.push(restored);
  notes.push(...(await repairWorker(f.lab)));
  if (injectError) return notInjected(fault, o.calls, `injection failed: ${injectError}`, notes);
  const callers = runs.map((r, i) => callerOutcome(r, results[i]!, watches[i]!, ctx.faultAt));
  const left = await leftBehind(
    f.lab,
    runs.map((r) => r.tx),
    roomsBefore,
  );
  return summarize(fault, callers, left, notes);
}

/** The K calls, `rampMs` apart, each playing its script from the moment it is placed. */
async function placeCalls(lab: Lab, scenario: Scenario, o: RowOptions) {
  const runs: CallRun[] = [];
  const played: Promise<CallResult>[] = [];
  for (let i = 0; i < o.calls; i++) {
    if (i > 0) await sleep(o.rampMs);
    const run = openRun(lab, scenario);
    runs.push(run);
    played.push(playCall(run));
  }
  return { runs, played };
}

/** A scripted call without a room observer (production has none): lab/caller/scripted-caller.ts. */
async function playCall(run: CallRun): Promise<CallResult> {
  try {
    await playScript(run, false);
  } finally {
    await tearDown(run);
  }
  return report(run);
}

async function momentToInject(runs: CallRun[]): Promise<void> {
  const end = performance.now() + FIRST_AUDIO_WAIT_MS;
  const talking = (r: CallRun) => r.media.firstAudioAt !== undefined || r.endedAt !== undefined;
  while (!runs.every(talking) && performance.now() < end) await sleep(50);
  await sleep(INJECT_AFTER_MS);
}

/** A worker that died during the row (whatever the fault) is restarted for the next one. */
async function repairWorker(lab: Lab): Promise<string[]> {
  const worker = lab.livekit.worker!;
  const running = await Promise.race([worker.failed, Promise.resolve(true)]).catch(() => false);
  if (running) return [];
  await lab.livekit.restartWorker();
  return ['lab repaired: the agent worker had exited and was restarted'];
}

function summarize(
  fault: Fault,
  callers: CallerOutcome[],
  left: LeftBehind,
  notes: string[],
): RowResult {
  const endedUp: Record<EndedUp, number> = { agent: 0, person: 0, apology: 0, dropped: 0 };
  for (const c of callers) endedUp[c.endedUp] += 1;
  return {
    id: fault.id,
    fault: fault.title,
    status: 'measured',
    calls: callers.length,
    affected: callers.filter((c) => c.affected).length,
    longestSilenceMs: Math.max(...callers.map((c) => c.silenceMs)),
    faultSilenceMs: fault.deferred ? null : Math.max(...callers.map((c) => c.faultSilenceMs)),
    silentOverTarget: callers.filter((c) => c.silenceMs > SILENT_MS).length,
    endedUp,
    leftBehind: left,
    notes,
    callers,
  };
}

export function notInjected(fault: Fault, calls: number, why: string, notes: string[]): RowResult {
  return {
    id: fault.id,
    fault: fault.title,
    status: 'not injected',
    calls,
    affected: null,
    longestSilenceMs: null,
    faultSilenceMs: null,
    silentOverTarget: null,
    endedUp: null,
    leftBehind: null,
    notes: [why, ...notes],
    callers: [],
  };
}
