// A call as the phone network places it in production: SIP over UDP straight at livekit-sip, the
// contract's X- headers on the INVITE, RTP from the answer on. It must reach the agent through the
// production inbound trunk and dispatch rule, carry the mapped attributes, and bring the greeting
// back as RTP; hanging up from either side must leave no one in the call room. Its headers carry a
// call token signed as the lab's SMA signs one (lab/stack/lab-sma.ts): the agent takes no call
// without one (test/e2e/forged-call.test.ts).
import { describe, expect, it } from 'vitest';
import { liveKitLabForSuite } from '../helpers/lab.js';
import { CallAttribute, buildCallHeaders } from '../../contracts/headers.js';
import { RtpPhone, SipCallError } from '../../lab/phone/rtp-phone.js';
import { LAB_SMA, labCallToken } from '../../lab/stack/lab-sma.js';
import { AGENT_NAME } from '../../lab/stack/livekit-lab.js';
import { waitFor } from '../helpers/wait.js';

const lab = liveKitLabForSuite();

/** The call rooms that still have someone in them. */
async function busyCallRooms(): Promise<string[]> {
  const busy = [];
  for (const r of (await lab().rooms.listRooms()).filter((r) => r.name.startsWith('call_'))) {
    if ((await lab().rooms.listParticipants(r.name)).length > 0) busy.push(r.name);
  }
  return busy;
}

/** The call room whose SIP participant carries this transaction id, and that participant. */
const callRoomOf = (transactionId: string) =>
  waitFor(`the call room of ${transactionId}`, async () => {
    for (const r of (await lab().rooms.listRooms()).filter((r) => r.name.startsWith('call_'))) {
      const participants = await lab().rooms.listParticipants(r.name);
      const sip = participants.find(
        (p) => p.attributes[CallAttribute.transactionId] === transactionId,
      );
      if (sip) return { room: r, participants, sip };
    }
    return undefined;
  });

const callRoomsEmpty = () =>
  waitFor(
    'the call rooms to empty',
    async () => ((await busyCallRooms()).length ? undefined : true),
    15_000,
  );

function contractHeaders(transactionId: string) {
  const useCase = lab().useCases.defaultUseCase;
  const values = {
    transactionId,
    applicationId: LAB_SMA.applicationId,
    region: LAB_SMA.region,
    useCase: useCase.id,
    traceparent: `00-${transactionId.replaceAll('-', '')}-9f0d2e5b6c7d8e9f-01`,
    callToken: labCallToken(transactionId),
  };
  return { values, headers: buildCallHeaders(values) };
}

describe('an RTP phone calling livekit-sip directly', () => {
  it('is answered by the agent with the contract attributes, hears the greeting, and hangs up cleanly', async () => {
    const useCase = lab().useCases.defaultUseCase;
    const { values, headers } = contractHeaders('3c1e9a7b-5d2f-4e8a-b6c0-1f2e3d4c5b6a');
    const phone = await RtpPhone.call({
      sipAddress: lab().stack.sipAddress,
      to: useCase.livekitNumber,
      from: '+15550100999',
      headers,
    });
    try {
      const answeredAt = await phone.waitAnswered(20_000);
      expect(phone.statuses.at(-1)).toBe(200);
      expect(phone.media?.codec).toBe('PCMU');
      await phone.waitFirstAudio(5_000);

      const { room, participants, sip: sipParticipant } = await callRoomOf(values.transactionId);
      // The agent's room: one per call, named by the dispatch rule's prefix and the called number.
      expect(room.name.startsWith(`call_${useCase.livekitNumber}_`)).toBe(true);
      expect(sipParticipant.attributes).toMatchObject({
        [CallAttribute.transactionId]: values.transactionId,
        [CallAttribute.applicationId]: values.applicationId,
        [CallAttribute.region]: values.region,
        [CallAttribute.useCase]: values.useCase,
        [CallAttribute.traceparent]: values.traceparent,
        'sip.trunkID': lab().provisioned.ids[`callbridge-in-${useCase.id}`],
        'sip.callStatus': 'active',
      });
      // The dispatch rule hides the caller's number: no number attributes, a hashed identity.
      expect(sipParticipant.attributes['sip.phoneNumber']).toBeUndefined();
      expect(sipParticipant.attributes['sip.trunkPhoneNumber']).toBeUndefined();
      expect(sipParticipant.identity).toMatch(/^sip_[0-9a-f]{16}$/);
      expect(sipParticipant.identity).not.toContain('5550100999');
      const agent = participants.find((p) => p.attributes['lk.agent.name'] !== undefined);
      expect(agent?.attributes['lk.agent.name']).toBe(AGENT_NAME);

      // The greeting, not a click: more than a second of audible audio within 4 s of the answer.
      await waitFor(
        'a second of greeting audio',
        async () => (phone.audibleMsSince(answeredAt) > 1000 ? true : undefined),
        4_000,
      );
    } finally {
      await phone.hangUp();
    }
    // Our BYE was answered (not given up on after the wait) and the call room emptied.
    expect(phone.endedBy).toBe('local');
    await callRoomsEmpty();
    // A call that ended normally is not the call guard's business.
    await new Promise((r) => setTimeout(r, 3500));
    expect(lab().guard.ended).toEqual([]);
  }, 60_000);

  it('ends when the far end hangs up (its BYE answered) and the room empties', async () => {
    const useCase = lab().useCases.defaultUseCase;
    const transactionId = '8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d';
    const phone = await RtpPhone.call({
      sipAddress: lab().stack.sipAddress,
      to: useCase.livekitNumber,
      from: '+15550100998',
      headers: contractHeaders(transactionId).headers,
    });
    try {
      await phone.waitAnswered(20_000);
      const { room } = await callRoomOf(transactionId);
      // What the call guard does when the agent dies: the room goes, livekit-sip sends BYE.
      await lab().rooms.deleteRoom(room.name);
      await phone.waitEnded(10_000);
      expect(phone.endedBy).toBe('remote');
    } finally {
      await phone.hangUp();
    }
    await callRoomsEmpty();
  }, 60_000);

  it('rings unanswered on a number no trunk serves, then gives up with a CANCEL', async () => {
    // livekit-sip answers 100 (and 180), then drops an INVITE that matches no trunk without a
    // final response (its "flood" protection) and ignores the CANCEL: the caller hears ringing
    // until it gives up.
    const phone = await RtpPhone.call({
      sipAddress: lab().stack.sipAddress,
      to: '+19995550100',
      from: '+15550100999',
      answerTimeoutMs: 2_000,
    });
    try {
      const failed = await phone.waitAnswered(10_000).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(SipCallError);
      expect((failed as Error).message).toMatch(/not answered in time/);
      await phone.waitEnded(5_000);
      expect(phone.statuses[0]).toBe(100);
      expect(phone.statuses.every((status) => status < 200)).toBe(true);
      expect(phone.endedBy).toBe('local');
    } finally {
      await phone.hangUp();
    }
  }, 30_000);
});
