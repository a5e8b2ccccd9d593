// The job process serving a call dies mid-call (SIGKILL: a crash, an OOM kill), its worker left
// running. The worker's main process sees its job's connection close and deletes the call's room
// (agent/job-failover.ts); livekit-sip hangs up LEG-B; the SMA's failure rule says the use case's
// `connecting` notice and bridges the caller to the default queue. Seconds, not the ~18 s of
// livekit-server's ping timeout plus the call guard's grace (test/e2e/agent-crash.test.ts).
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { labForSuite } from '../helpers/lab.js';
import { until } from '../helpers/wait.js';

const lab = labForSuite({ prewarmed: 1 });

/** Well under livekit-server's 15 s ping timeout, which the call guard's path waits for. */
const NOTICE_WITHIN_MS = 10_000;

/** The worker's failover lines (agent/job-failover.ts). */
function failoversLogged(logFile: string): Record<string, unknown>[] {
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes("ending the call's AI leg"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

it('hands the caller to a person within seconds when the job process serving the call dies', async () => {
  const { call, media, tx } = lab().newCall();
  const worker = lab().livekit.worker!;
  try {
    await call.startInbound();
    const leg = media.agent!;
    await leg.waitFirstAudio(5_000);
    // A moment of the conversation: the greeting under way, nothing from Chime yet.
    await new Promise((r) => setTimeout(r, 1500));
    expect(leg.endedAt).toBeUndefined();
    expect(media.audibleMsSince(0, ['chime'])).toBe(0);

    const killed = await worker.killJobProcess();
    expect(killed.room.startsWith('call_')).toBe(true);
    await until(
      "Chime's notice heard",
      () => media.audibleMsSince(killed.killedAt, ['chime']) > 0,
      NOTICE_WITHIN_MS,
    );
    const noticeAt = media.firstAudibleAt('chime')!;
    expect(noticeAt).toBeGreaterThan(killed.killedAt);
    // Chime's notice, then the person the SMA bridged the caller to.
    await until(
      'the person heard',
      () => media.audibleMsSince(noticeAt, ['person']) >= 1000,
      15_000,
    );
    expect(media.firstAudibleAt('person')!).toBeGreaterThan(noticeAt);
    const state = (await lab().sma.journal(tx)).find((i) => i['sk'] === 'state');
    expect(state).toMatchObject({ TransferReason: 'agent_error', TransferOutcome: 'connected' });

    // The worker's main process ended the AI leg, not the call guard; and only that job went.
    expect(failoversLogged(worker.logFile)).toEqual([
      expect.objectContaining({ room: killed.room, pid: killed.pid, reason: 'exited' }),
    ]);
    expect(readFileSync(worker.logFile, 'utf8')).toContain('"msg":"AI leg ended"');
    expect(lab().livekit.guard.ended).toEqual([]);
    await expect(Promise.race([worker.failed, Promise.resolve('running')])).resolves.toBe(
      'running',
    );

    await media.callerHangsUp();
    expect(call.ended).toBe(true);
    await expect(lab().participantsLeft()).resolves.toBe(0);
  } finally {
    await media.close();
  }
}, 90_000);
