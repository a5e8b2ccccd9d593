// The whole agent worker dies mid-call (its main process and job processes killed outright): its
// presence connection to the call guard closes with it, and the guard ends each of its call rooms
// at once, so livekit-sip hangs up the AI legs and the SMA says Chime's notice and bridges the
// callers to a person, within the target (5 s from the death to the notice), not after
// livekit-server's ~15 s (docs/guard.md, "Worker presence").
import { expect, it } from 'vitest';
import type { LabCall } from '../../lab/lab.js';
import { labForSuite } from '../helpers/lab.js';
import { until, waitFor } from '../helpers/wait.js';

/** From the worker's death to Chime's notice at the caller's ear (issue 21's target). */
const NOTICE_WITHIN_MS = 5000;
const CALLS = 2;

const lab = labForSuite({ maxCalls: 3, idleProcesses: 2, prewarmed: 2 });

it("sends a killed worker's callers to a person within seconds", async () => {
  const placed: LabCall[] = [];
  try {
    for (let i = 0; i < CALLS; i++) {
      const c = lab().newCall();
      placed.push(c);
      await c.call.startInbound();
      await c.media.waitFirstAudio(15_000);
    }
    const worker = lab().livekit.worker!;
    const rooms = await waitFor('the calls named by the worker', async () => {
      const calls = worker.calls();
      const all = placed.map((p) => calls.find((x) => x.transactionId === p.tx)?.room);
      return all.every((r) => r !== undefined) ? (all as string[]) : undefined;
    });
    // While the worker is there, the guard leaves the calls alone.
    await new Promise((r) => setTimeout(r, 2500));
    expect(lab().livekit.guard.ended).toEqual([]);

    const killedAt = performance.now();
    await worker.kill();
    for (const { media } of placed) {
      await until(
        "Chime's notice heard",
        () => media.audibleMsSince(killedAt, ['chime']) > 0,
        NOTICE_WITHIN_MS,
        20,
      );
    }
    for (const { media } of placed) {
      const noticeAt = media.firstAudibleAt('chime')!;
      await until('the person heard', () => media.audibleMsSince(noticeAt, ['person']) >= 1000);
    }
    await until('the guard ended the rooms', () => lab().livekit.guard.ended.length === CALLS);
    expect([...lab().livekit.guard.ended].sort()).toEqual([...rooms].sort());

    for (const { media, call, tx } of placed) {
      const state = (await lab().sma.journal(tx)).find((i) => i['sk'] === 'state');
      expect(state).toMatchObject({ TransferReason: 'agent_error', TransferOutcome: 'connected' });
      await media.callerHangsUp();
      expect(call.ended).toBe(true);
    }
    await expect(lab().participantsLeft()).resolves.toBe(0);
  } finally {
    for (const { media } of placed) await media.close();
  }
}, 120_000);
