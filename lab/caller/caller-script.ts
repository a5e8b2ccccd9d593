// What the scripted caller does on a call, step by step, as its scenario says: waits for the
// greeting, says its lines once the line is quiet (again when not understood), listens, pauses and
// hangs up; each expectation becomes a check, and the first one that fails ends the script.
import {
  renderPhoneLine,
  type Voice,
  type VoiceConnectorMedia,
} from '../chime/voice-connector-media.js';
import { ConnectContextAttribute } from '../../contracts/handoff-context.js';
import { VOICEMAIL_SK, voicemailItem } from '../../contracts/recordings.js';
import { wavFacts } from '../../store/recordings.js';
import { readObject } from '../stack/local-s3.js';
import { callTraceId } from '../../otel/traceparent.js';
import { connectQueueId } from '../connect/lab-connect.js';
import { Lines } from '../../agent/dialogue/engine.js';
import { type CallRun, sleep } from './call-run.js';
import type { Expectation, Scenario, Step, Who } from './scenario.js';

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
/** How long after the agent was heard its reply's first words may take to arrive. */
const REPLY_WORDS_WAIT_MS = 3_000;
/** How much of a reply tells whether it is the agent asking the caller to say it again. */
const ASKED_AGAIN_CHARS = 16;

type SayStep = Extract<Step, { say: string }>;

/** Runs the scenario's script within its budget; what goes wrong becomes a failed check. */
export async function playScript(run: CallRun, observe: boolean): Promise<void> {
  // However the far end behaves, a call's run ends: the script has a budget.
  const budgetMs = scriptBudgetMs(run.scenario);
  try {
    const finished = await Promise.race([
      script(run, observe).then(() => true),
      sleep(budgetMs).then(() => false),
    ]);
    if (!finished)
      run.check(`the script ran to its end within ${budgetMs} ms`, false, 'it did not');
  } catch (e) {
    run.check('the call ran', false, (e as Error).message);
  }
}

async function script(run: CallRun, observe: boolean): Promise<void> {
  const stopNotes = setQueues(run);
  try {
    await scriptSteps(run, observe);
  } finally {
    stopNotes();
  }
  const wanted = run.scenario.expect.callback;
  if (wanted !== undefined) await checkCallback(run, wanted);
  const message = run.scenario.expect.message;
  if (message !== undefined) await checkMessage(run, message);
  const knows = run.scenario.expect.personKnows;
  if (knows !== undefined) checkPersonKnows(run, knows);
}

/** Whether Connect's flow found this call's context and the person greeted with its topic. */
function checkPersonKnows(run: CallRun, wanted: boolean): void {
  const traceId = callTraceId(run.tx);
  const found = run.lab.contactFlows.runs.find(
    (r) => r.attributes[ConnectContextAttribute.traceId] === traceId,
  );
  run.check(
    wanted ? 'the person is given the context' : 'the person is given no context',
    (found !== undefined) === wanted,
    found ? `greeting: ${found.greeting}` : 'no context found for this call',
  );
  if (!wanted || !found) return;
  const topic = found.attributes[ConnectContextAttribute.topic] ?? '';
  run.check(
    'the person greets with the topic',
    topic !== '' &&
      found.greeting.toLowerCase().includes(topic.replace(/[.?!]+$/, '').toLowerCase()),
    `topic "${topic}"`,
  );
}

/** Whether a callback was queued in Connect for this call, and kept beside its items. */
async function checkCallback(run: CallRun, wanted: boolean): Promise<void> {
  const queued = run.lab.connect.callbacks.filter(
    (c) => c.attributes['callbridgeTransactionId'] === run.tx,
  );
  run.check(
    wanted ? 'a callback is queued in Connect' : 'no callback is queued',
    (queued.length === 1) === wanted,
    `${queued.length} queued`,
  );
  if (!wanted) return;
  const items = await run.lab.sma.journal(run.tx).catch(() => []);
  const item = items.find((i) => i['sk'] === 'callback');
  run.check(
    'the callback is kept with the call’s items',
    item?.['ContactId'] === queued[0]?.contactId,
    item ? `contact ${String(item['ContactId'])}` : 'no callback item',
  );
}

/** Whether the caller's message was kept: its item with the call's, its audio in the lab's S3. */
async function checkMessage(run: CallRun, wanted: boolean): Promise<void> {
  const items = await run.lab.sma.journal(run.tx).catch(() => []);
  const item = voicemailItem.safeParse(items.find((i) => i['sk'] === VOICEMAIL_SK));
  run.check(
    wanted ? 'the message is kept with the call’s items' : 'no message is kept',
    item.success === wanted,
    item.success ? `key ${item.data.Key}` : 'no voicemail item',
  );
  if (!wanted || !item.success) return;
  const { s3 } = run.lab.sma;
  const seconds = await readObject(s3.client, item.data.Bucket, item.data.Key)
    .then((o) => wavFacts(o.bytes).seconds)
    .catch(() => 0);
  run.check('the message is in S3', seconds > 0, `${seconds.toFixed(1)} s of audio`);
}

/**
 * The Connect stand-in's queues as the scenario sets them; what Connect answers the agent's worker
 * goes on the call's timeline until the script ends.
 */
function setQueues(run: CallRun): () => void {
  const { connect, livekit } = run.lab;
  connect.resetQueues();
  for (const [key, setting] of Object.entries(run.scenario.queues)) {
    const id = connectQueueId(livekit.useCases, key, run.scenario.dialed);
    if (id === undefined) {
      run.check(`queue ${key} names a Connect queue`, false, 'it names none');
      continue;
    }
    connect.setQueue(id, setting);
  }
  // Each answer once per queue or hours: the worker reads them again and again while calls go on.
  const told = new Map<string, string>();
  return connect.onRequest((r) => {
    const text = `${r.operation} → ${r.status}${r.summary ? ` · ${r.summary}` : ''}`;
    const about = `${r.operation} ${r.resource ?? ''}`;
    if (told.get(about) === text) return;
    told.set(about, text);
    run.note('connect', text);
  });
}

async function scriptSteps(run: CallRun, observe: boolean): Promise<void> {
  const { scenario, call, media, tx } = run;
  if (scenario.registers && !(await register(run))) return;
  run.note('caller', `dials ${scenario.dialed ?? 'the default use case'} (call ${tx.slice(0, 8)})`);
  // The caller listens from the moment they dial: Chime may speak to them before any bridge (a
  // caller the SMA does not admit), and the SMA's first actions run while the steps do.
  const dialing = call
    .startInbound()
    .then(() => true)
    .catch((e: unknown) => run.check('the call is placed', false, (e as Error).message));
  // The observer joins once the caller hears the agent (or after 3 s): joining the call's room
  // while the agent is starting to speak would compete with what TTFA measures. Not joining, it
  // still finds the room, which must be empty at the end.
  void media
    .waitFirstAudio(3000)
    .catch(() => {})
    .then(() => run.observer.attach(tx, { join: observe }))
    .catch(() => false);

  for (const step of scenario.steps) {
    if (run.endedAt !== undefined && !('listen' in step && 'callEnds' in step.listen)) {
      run.check(`the call is still up for: ${describeScenarioStep(step)}`, false, 'it had ended');
      break;
    }
    if (!(await playStep(run, step))) break;
  }
  await dialing;
}

/** Carries out one step; false when its expectation failed. */
async function playStep(run: CallRun, step: Step): Promise<boolean> {
  if ('greeting' in step) return greeting(run, step.greeting.withinMs);
  if ('say' in step) return sayLine(run, step);
  if ('press' in step) return pressKeys(run, step);
  if ('listen' in step) {
    const [held, detail] = await expectation(run, step.listen, performance.now());
    return run.check(describe(step.listen), held, detail);
  }
  if ('pause' in step) await sleep(step.pause);
  else await hangUp(run, step.hangUp.afterMs);
  return true;
}

/**
 * The caller confirms their number as a person would on the verification page: asks for a code,
 * reads it from the SMS, types it in. The lab shows the message as the caller's phone gets it.
 */
async function register(run: CallRun): Promise<boolean> {
  const { url } = run.lab.verification;
  const number = run.caller;
  const post = (path: string, body: unknown) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  run.note('caller', `asks for a code at ${url}/ (the verification page)`);
  const asked = await post('/codes', { number });
  if (
    !run.check(
      'the verification API accepts the request',
      asked.status === 202,
      `HTTP ${asked.status}`,
    )
  )
    return false;
  const sms = await run.lab.sms.nextMessage(number, 10_000).catch(() => undefined);
  if (!run.check('the code arrives by SMS within 10 s', sms !== undefined, 'no message'))
    return false;
  run.note('phone', `SMS: "${sms!.body}"`);
  const code = /\b(\d{6})\b/.exec(sms!.body)?.[1] ?? '';
  run.note('caller', 'types the code in');
  const confirmed = await post('/codes/confirm', { number, code });
  return run.check('the number is confirmed', confirmed.status === 200, `HTTP ${confirmed.status}`);
}

async function greeting(run: CallRun, withinMs: number): Promise<boolean> {
  const heard = await run.media
    .waitFirstAudio(withinMs + 10_000)
    .then(() => true)
    .catch(() => false);
  const ttfa = ttfaOf(run.media);
  const held = heard && ttfa !== null && ttfa <= withinMs;
  return run.check(`hears the greeting within ${withinMs} ms`, held, fmt(ttfa));
}

/** Says the line once the line is quiet; says it again once when its expectation did not hold. */
async function sayLine(run: CallRun, step: SayStep): Promise<boolean> {
  const pcm = await renderPhoneLine(step.say, run.scenario.voice);
  let held = step.then === undefined;
  let detail = '';
  for (let attempt = 0; attempt < (step.repeatIfNotHeard ? 2 : 1); attempt++) {
    if (!(await quiet(run.media, step.afterQuietMs))) {
      detail = `the line was not quiet for ${step.afterQuietMs} ms within ${QUIET_WAIT_MS} ms`;
      break;
    }
    const at = performance.now();
    run.note('caller', `${attempt > 0 ? '(again) ' : ''}"${step.say}"`, at);
    await run.media.say(pcm.samples, pcm.sampleRate);
    if (!step.then) break;
    [held, detail] = await expectation(run, step.then, at);
    if (
      held &&
      'hears' in step.then &&
      step.then.hears === 'agent' &&
      (await askedAgain(run, at))
    ) {
      [held, detail] = [false, 'the agent did not understand it'];
    }
    if (held) break;
  }
  return !step.then || run.check(`after "${step.say}": ${describe(step.then)}`, held, detail);
}

/**
 * Whether the agent's reply to the line said since `at` asks the caller to say it again: the
 * caller then repeats it, as anyone would. Without an observer in the room (load runs), never.
 */
async function askedAgain(run: CallRun, at: number): Promise<boolean> {
  if (!run.observer.joined) return false;
  // The reply's first words tell: they arrive in step with the agent's speech.
  const enough = () => (run.observer.agentSaying(at)?.length ?? 0) >= ASKED_AGAIN_CHARS;
  const end = performance.now() + REPLY_WORDS_WAIT_MS;
  while (!enough() && !run.call.ended && performance.now() < end) await sleep(20);
  const words = run.observer.agentSaying(at);
  return words !== undefined && words.length > 0 && Lines.notUnderstood.startsWith(words);
}

/** Presses the keys on the caller's phone, then checks what follows. */
async function pressKeys(run: CallRun, step: Extract<Step, { press: string }>): Promise<boolean> {
  const line = run.media as Partial<Pick<VoiceConnectorMedia, 'pressKeys'>>;
  if (!line.pressKeys) return run.check(`presses ${step.press}`, false, 'this line has no keypad');
  const at = performance.now();
  run.note('caller', `presses ${step.press}`, at);
  const pressed = await line.pressKeys(step.press).then(
    () => '',
    (e: unknown) => (e as Error).message,
  );
  if (pressed) return run.check(`presses ${step.press}`, false, pressed);
  if (!step.then) return true;
  const [held, detail] = await expectation(run, step.then, at);
  return run.check(`after pressing ${step.press}: ${describe(step.then)}`, held, detail);
}

async function hangUp(run: CallRun, afterMs: number): Promise<void> {
  await sleep(afterMs);
  if (run.call.ended) return;
  run.note('caller', 'hangs up');
  await run.media.callerHangsUp();
}

/** Polls every 50 ms until `e` holds or its time is up: whether it held, and what was found. */
async function expectation(
  run: CallRun,
  e: Expectation,
  since: number,
): Promise<[boolean, string]> {
  const heardFrom = (who: Who) => run.media.audibleMsSince(since, VOICES[who]);
  const held = () =>
    'hears' in e
      ? heardFrom(e.hears) >= e.atLeastMs
      : 'transferred' in e
        ? heardFrom('person') >= PERSON_WORDS_MS
        : run.call.ended;
  const end = since + e.withinMs;
  while (!held() && performance.now() < end) await sleep(50);
  const ok = held();
  if ('hears' in e) return [ok, `${heardFrom(e.hears)} ms of ${e.hears}`];
  if ('transferred' in e) return [ok, ok ? 'the person is heard' : 'no person heard'];
  return [ok, ok ? 'ended' : 'still up'];
}

/** Waits until nothing audible has reached the caller for `ms`; false after QUIET_WAIT_MS. */
async function quiet(line: CallRun['media'], ms: number): Promise<boolean> {
  const end = performance.now() + QUIET_WAIT_MS;
  for (;;) {
    const since = performance.now() - (line.lastAudibleAt() ?? 0);
    if (since >= ms) return true;
    if (performance.now() > end) return false;
    await sleep(Math.min(100, ms - since + 5));
  }
}

/** Long enough for every step to use all its time (and a repeated line), plus the answer. */
function scriptBudgetMs(scenario: Scenario): number {
  let ms = 90_000; // the SMA's AI ring timeout and a queue's, at their defaults
  for (const step of scenario.steps) {
    if ('greeting' in step) ms += step.greeting.withinMs + 10_000;
    else if ('say' in step) ms += 2 * (QUIET_WAIT_MS + 30_000 + (step.then?.withinMs ?? 0));
    else if ('press' in step) ms += 5000 + (step.then?.withinMs ?? 0);
    else if ('listen' in step) ms += step.listen.withinMs;
    else if ('pause' in step) ms += step.pause;
    else ms += step.hangUp.afterMs + 20_000;
  }
  return ms;
}

/** The agent's answer → its first audible frame, at the caller's ear. */
export function ttfaOf(line: CallRun['media']): number | null {
  if (line.answeredAt === undefined || line.firstAudioAt === undefined) return null;
  return Math.round(line.firstAudioAt - line.answeredAt);
}

export function describe(e: Expectation): string {
  if ('hears' in e) return `hears the ${e.hears} for ${e.atLeastMs} ms within ${e.withinMs} ms`;
  if ('transferred' in e) return `is transferred: the person is heard within ${e.withinMs} ms`;
  return `the call ends within ${e.withinMs} ms`;
}

function describeScenarioStep(step: Step): string {
  if ('greeting' in step) return 'the greeting';
  if ('say' in step) return `saying "${step.say}"`;
  if ('press' in step) return `pressing ${step.press}`;
  if ('listen' in step) return describe(step.listen);
  if ('pause' in step) return `a pause of ${step.pause} ms`;
  return 'hanging up';
}

const fmt = (ms: number | null) => (ms === null ? 'not heard' : `${ms} ms`);
