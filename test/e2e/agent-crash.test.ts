// The agent dies mid-call (its worker and job processes killed outright): the caller must not be
// left on a silent line. The call guard, fed by livekit-server's webhooks, ends the AI leg once the
// room has been without an agent for the grace period, so the phone side sees the hang-up (in
// production, Chime's LEG-B HANGUP, and the SMA sends the caller to a person).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildCallHeaders } from '../../sip/headers.js';
import { LAB_OUTBOUND_TRUNK } from '../../sip/livekit/definitions.js';
import { SipLeg } from '../../sip/lab/sip-leg.js';
import { type LiveKitLab, startLiveKitLab } from '../../scripts/lib/livekit-lab.js';

let lab: LiveKitLab;

beforeAll(async () => {
  lab = await startLiveKitLab({ worker: true, guardGraceMs: 2000 });
}, 120_000);

afterAll(async () => {
  await lab?.stop();
});

it('ends the AI leg when the agent is killed mid-call, and only then', async () => {
  const useCase = lab.useCases.defaultUseCase;
  const tx = '5b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d';
  const leg = await SipLeg.dial(
    { url: lab.stack.url, apiKey: lab.stack.apiKey, apiSecret: lab.stack.apiSecret },
    {
      outboundTrunkId: lab.provisioned.ids[LAB_OUTBOUND_TRUNK]!,
      to: useCase.livekitNumber,
      from: '+15550100999',
      headers: buildCallHeaders({
        transactionId: tx,
        applicationId: 'sma-app-e2e',
        region: 'us-east-1',
        useCase: useCase.id,
        traceparent: `00-${tx.replaceAll('-', '')}-1111111111111111-01`,
      }),
    },
  );
  try {
    await leg.waitAnswered(20_000);
    await leg.waitFirstAudio(5_000);
    // While the agent is there, the guard leaves the call alone.
    await new Promise((r) => setTimeout(r, 2500));
    expect(leg.endedAt).toBeUndefined();
    expect(lab.guard.ended).toEqual([]);

    const killedAt = performance.now();
    await lab.worker!.kill();
    // livekit-server notices a vanished participant after its 15 s ping timeout.
    const endedAt = await leg.waitEnded(30_000);
    // Not before the grace period: LiveKit may hand the job to another worker meanwhile.
    expect(endedAt - killedAt).toBeGreaterThanOrEqual(2000);
    expect(lab.guard.ended).toHaveLength(1);
    expect(lab.guard.ended[0]).toMatch(new RegExp(`^call_\\${useCase.livekitNumber}_`));
  } finally {
    await leg.hangUp();
  }
}, 60_000);
