// The call guard's sweep, against the real LiveKit stack with livekit-server's webhooks dropped
// (none configured): a call whose agent dies must still lose its room, so livekit-sip hangs up
// the AI leg (in production the SMA then sends the caller to a person). The sweep sees the room
// without its agent once livekit-server has noticed (its 15 s ping timeout), and ends it after
// the grace period, on a later sweep.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CallAttribute, buildCallHeaders } from '../../contracts/headers.js';
import { RtpPhone } from '../../lab/phone/rtp-phone.js';
import { LAB_SMA, labCallToken } from '../../lab/stack/lab-sma.js';
import { type LiveKitLab, startLiveKitLab } from '../../lab/stack/livekit-lab.js';
import { until, waitFor } from '../helpers/wait.js';

let lab: LiveKitLab;

beforeAll(async () => {
  lab = await startLiveKitLab({
    worker: true,
    guardWebhooks: false,
    // Nor worker presence: only the sweep can find the room.
    guardPresence: false,
    guardGraceMs: 2000,
    guardSweepIntervalMs: 2000,
  });
}, 120_000);
afterAll(async () => {
  await lab?.stop();
});

const callRoomOf = (transactionId: string) =>
  waitFor(`the call room of ${transactionId}`, async () => {
    for (const r of (await lab.rooms.listRooms()).filter((r) => r.name.startsWith('call_'))) {
      const participants = await lab.rooms.listParticipants(r.name);
      if (participants.some((p) => p.attributes[CallAttribute.transactionId] === transactionId)) {
        return r.name;
      }
    }
    return undefined;
  });

it('ends the AI leg of a call whose agent died when no webhook says so', async () => {
  const useCase = lab.useCases.defaultUseCase;
  const transactionId = '5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716';
  const headers = buildCallHeaders({
    transactionId,
    applicationId: LAB_SMA.applicationId,
    region: LAB_SMA.region,
    useCase: useCase.id,
    traceparent: `00-${transactionId.replaceAll('-', '')}-9f0d2e5b6c7d8e9f-01`,
    callToken: labCallToken(transactionId),
  });
  const phone = await RtpPhone.call({
    sipAddress: lab.stack.sipAddress,
    to: useCase.livekitNumber,
    from: '+15550100997',
    headers,
  });
  try {
    await phone.waitAnswered(20_000);
    const room = await callRoomOf(transactionId);
    // Several sweeps with the agent there: the call is left alone.
    await new Promise((r) => setTimeout(r, 5000));
    expect(phone.endedAt).toBeUndefined();
    expect(lab.guard.ended).toEqual([]);

    await lab.worker!.kill();
    // livekit-server's ping timeout (15 s), then two sweeps the grace period apart.
    await phone.waitEnded(45_000);
    expect(phone.endedBy).toBe('remote');
    // The guard records the room once its deletion returns, which may be after the BYE.
    await until('the guard ended the room', () => lab.guard.ended.length > 0, 5000);
    expect(lab.guard.ended).toEqual([room]);
  } finally {
    await phone.hangUp();
  }
}, 120_000);
