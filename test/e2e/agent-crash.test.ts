// The agent dies mid-call (its worker and job processes killed outright): the caller must reach a
// person, not sit on a silent line. The call guard, fed by livekit-server's webhooks, ends the AI
// leg once the room has been without an agent for the grace period; Chime reports LEG-B's
// HANGUP; the SMA bridges the caller to the default queue.
import { expect, it } from 'vitest';
import { labForSuite } from '../helpers/lab.js';
import { until } from '../helpers/wait.js';

// Without worker presence: this is the path of a guard that learns of the death from livekit-server
// alone (worker-killed.test.ts has the presence path).
const lab = labForSuite({ guardGraceMs: 2000, guardPresence: false });

it('sends the caller to a person when the agent is killed mid-call, and only then', async () => {
  const { call, media, tx } = lab().newCall();
  try {
    await call.startInbound();
    const leg = media.agent!;
    await leg.waitFirstAudio(5_000);
    // While the agent is there, the guard leaves the call alone.
    await new Promise((r) => setTimeout(r, 2500));
    expect(leg.endedAt).toBeUndefined();
    expect(lab().livekit.guard.ended).toEqual([]);

    const killedAt = performance.now();
    await lab().livekit.worker!.kill();
    // livekit-server notices a vanished participant after its 15 s ping timeout; then the grace.
    const endedAt = await leg.waitEnded(30_000);
    expect(endedAt - killedAt).toBeGreaterThanOrEqual(2000);
    // The guard records the room once its deletion returns, which may be after the BYE.
    await until('the guard ended the room', () => lab().livekit.guard.ended.length === 1, 5000);
    // The SMA took LEG-B's hang-up as the AI leg failing and bridged the caller to the queue.
    await until(
      'the person heard',
      () => media.audibleMsSince(endedAt, ['person']) >= 1000,
      15_000,
    );
    const state = (await lab().sma.journal(tx)).find((i) => i['sk'] === 'state');
    expect(state).toMatchObject({ TransferReason: 'agent_error', TransferOutcome: 'connected' });

    await media.callerHangsUp();
    expect(call.ended).toBe(true);
    await expect(lab().participantsLeft()).resolves.toBe(0);
  } finally {
    await media.close();
  }
}, 90_000);
