// Two agent workers under the one agent name, as production runs several: LiveKit sends each call
// to a worker with room left, so calls spread across them. One worker dies with calls in progress
// (its whole process group killed outright): its callers reach a person (the call guard ends their
// AI legs once the worker's presence connection has been gone for its grace; the SMA says the
// notice and bridges them to the queue), the other worker's callers stay with their agent, and a
// new call reaches the surviving worker. Used by test/e2e/two-workers.test.ts and two-nodes.test.ts.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import {
  renderPhoneLine,
  type VoiceConnectorMedia,
} from '../../lab/chime/voice-connector-media.js';
import type { Lab, LabCall, LabOptions } from '../../lab/lab.js';
import type { AgentWorker } from '../../lab/stack/agent-worker.js';
import { labForSuite } from './lab.js';
import { until, waitFor } from './wait.js';

const CALLS = 4;
// Three calls a worker at most: four calls cannot all go to one worker, and the worker left when
// the busier one dies still has room for a new call.
const MAX_CALLS = 3;
/**
 * The presence grace, Chime's notice and the bridge: a bound, not a target. It also holds without
 * presence (livekit-server's 15 s ping timeout instead of the grace).
 */
const PERSON_WITHIN_MS = 45_000;
/** A line the local dialogue engine answers from the use case's questions (goodbye.yaml says it). */
const CALLER_LINE = 'My trash was not picked up this week.';
/** How often a caller with its agent says it: the agent ends a call after 30 s of silence. */
const TALK_EVERY_MS = 15_000;

interface Placed extends LabCall {
  worker: AgentWorker;
  room: string;
  stopTalking: () => Promise<void>;
}

/** The suite's lab and its test (in a file of its own per lab: the lab's SMA is one per process). */
export function oneOfTwoWorkersDies(opts: Pick<LabOptions, 'nodes'>): void {
  const lab = labForSuite(
    {
      ...opts,
      workers: 2,
      maxCalls: MAX_CALLS,
      idleProcesses: 2,
      prewarmed: 2,
      guardGraceMs: 2000,
    },
    240_000,
  );

  it("sends a dead worker's callers to a person and new calls to the other when one of two dies", async () => {
    const placed: Placed[] = [];
    try {
      for (let i = 0; i < CALLS; i++) placed.push(await placeCall(lab()));
      const { gone, kept, survivor } = await killBusier(lab(), placed);

      // A new call reaches the surviving worker, whose agent greets the caller.
      const next = await placeCall(lab());
      placed.push(next);
      expect(next.worker).toBe(survivor);
      await until('the greeting heard', () => next.media.audibleMsSince(0, ['agent']) >= 2000);

      for (const p of placed) await hangUp(p);
      for (const p of gone) {
        await expect(stateOf(lab(), p)).resolves.toMatchObject({
          TransferReason: 'agent_error',
          TransferOutcome: 'connected',
        });
      }
      for (const p of [...kept, next]) {
        await expect(stateOf(lab(), p)).resolves.toMatchObject({ Disposition: 'ai_completed' });
      }
      await expect(lab().participantsLeft()).resolves.toBe(0);
    } finally {
      for (const p of placed) await p.stopTalking();
      for (const p of placed) await p.media.close();
    }
  }, 300_000);
}

/**
 * Kills the worker with more calls (both took some): its callers hear Chime's notice, then a
 * person; the guard ended their rooms, and only theirs; the other worker's callers are still with
 * their agent, who still answers them.
 */
async function killBusier(lab: Lab, placed: Placed[]) {
  const [busier, survivor] = byCalls(lab.livekit.workers, placed);
  const gone = placed.filter((p) => p.worker === busier);
  const kept = placed.filter((p) => p.worker === survivor);
  expect(kept.length).toBeGreaterThan(0);

  const killedAt = performance.now();
  await busier.kill();
  await Promise.all(gone.map((p) => reachesPerson(p.media, killedAt)));
  const guard = lab.livekit.guard;
  await until(
    "the guard ended the dead worker's rooms",
    () => gone.every((p) => guard.ended.includes(p.room)),
    10_000,
  );
  expect([...guard.ended].sort()).toEqual(gone.map((p) => p.room).sort());
  for (const p of kept) {
    expect(p.media.agent!.endedAt).toBeUndefined();
    expect(p.media.audibleMsSince(0, ['chime', 'person'])).toBe(0);
    await until(
      'the surviving agent answering',
      () => p.media.audibleMsSince(killedAt, ['agent']) >= 1000,
      TALK_EVERY_MS + 15_000,
    );
  }
  await expect(Promise.race([survivor.failed, Promise.resolve('running')])).resolves.toBe(
    'running',
  );
  return { gone, kept, survivor };
}

async function stateOf(lab: Lab, p: Placed) {
  return (await lab.sma.journal(p.tx)).find((i) => i['sk'] === 'state');
}

/**
 * Places a call, waits for its agent's first words and learns which worker took it. When that
 * worker is now full, waits until it has told LiveKit so (its load goes out every 2.5 s), so the
 * next call goes to the other.
 */
async function placeCall(lab: Lab): Promise<Placed> {
  const c = lab.newCall();
  const stopTalking = keepTalking(c.media);
  try {
    await c.call.startInbound();
    await c.media.waitFirstAudio(15_000);
    const worker = await waitFor(
      'the worker that took the call',
      async () => lab.livekit.workers.find((w) => w.calls().some((x) => x.transactionId === c.tx)),
      10_000,
    );
    const room = worker.calls().find((x) => x.transactionId === c.tx)!.room;
    if (worker.calls().length >= MAX_CALLS) {
      await until('the full worker marked unavailable', () => reportsFull(worker), 10_000);
    }
    return { ...c, worker, room, stopTalking };
  } catch (e) {
    await stopTalking();
    await c.media.close();
    throw e;
  }
}

/** The workers, the one with more calls first. */
function byCalls(workers: AgentWorker[], placed: Placed[]): [AgentWorker, AgentWorker] {
  expect(workers).toHaveLength(2);
  const n = (w: AgentWorker) => placed.filter((p) => p.worker === w).length;
  const [a, b] = workers as [AgentWorker, AgentWorker];
  return n(a) >= n(b) ? [a, b] : [b, a];
}

/** The framework logs each change of the worker's status; the last one says it is full. */
function reportsFull(worker: AgentWorker): boolean {
  const log = readFileSync(worker.logFile, 'utf8');
  return (
    log.lastIndexOf('worker is at full capacity') > log.lastIndexOf('worker is below capacity')
  );
}

/** Chime's notice, then the person the SMA bridged the caller to. */
async function reachesPerson(media: VoiceConnectorMedia, killedAt: number): Promise<void> {
  await until(
    "Chime's notice heard",
    () => media.audibleMsSince(killedAt, ['chime']) > 0,
    PERSON_WITHIN_MS,
  );
  const noticeAt = media.firstAudibleAt('chime')!;
  await until('the person heard', () => media.audibleMsSince(noticeAt, ['person']) >= 1000, 15_000);
  expect(media.firstAudibleAt('person')!).toBeGreaterThan(noticeAt);
}

/** The caller hangs up (LEG-A first, as Chime reports it); both legs end. */
async function hangUp(p: Placed): Promise<void> {
  await p.stopTalking();
  await p.media.callerHangsUp();
  expect(p.call.ended).toBe(true);
}

/**
 * The caller says its line every `TALK_EVERY_MS` while its AI leg is up, so the agent never ends
 * a call as silent while the test waits on the guard. Said into a dead worker's room, the line
 * reaches nobody; with a person on the line, the caller takes the time to say it.
 */
function keepTalking(media: VoiceConnectorMedia): () => Promise<void> {
  let on = true;
  const loop = (async () => {
    const line = await renderPhoneLine(CALLER_LINE, 'rms');
    while (on) {
      for (let t = 0; on && t < TALK_EVERY_MS; t += 200) await sleep(200);
      if (on && media.agent && media.agent.endedAt === undefined) {
        await media.say(line.samples, line.sampleRate);
      }
    }
  })();
  const done = loop.catch(() => {});
  return () => {
    on = false;
    return done;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
