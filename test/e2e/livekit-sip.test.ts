// The product's audio path on real servers: a SIP call through the lab's outbound trunk arrives at
// livekit-sip as an inbound call on the production inbound trunk, carries the contract's headers
// as attributes (a call token signed as the lab's SMA signs one among them), is dispatched to the
// agent by name, and the calling side hears the greeting.
// Also: provisioning is idempotent and updates in place; dev rooms get the agent.
import { AudioStream, Room, RoomEvent, TrackKind } from '@livekit/rtc-node';
import { describe, expect, it } from 'vitest';
import { liveKitLabForSuite } from '../helpers/lab.js';
import { frameRms } from '../../agent/audio.js';
import { createDevRoom } from '../../sip/livekit/dev-room.js';
import { CallAttribute, buildCallHeaders } from '../../contracts/headers.js';
import type { SipDefinitions } from '../../sip/livekit/definitions.js';
import { provision } from '../../sip/livekit/provision.js';
import { SipLeg } from '../../lab/phone/sip-leg.js';
import { LAB_OUTBOUND_TRUNK } from '../../lab/stack/lab-sip.js';
import { LAB_SMA, labCallToken } from '../../lab/stack/lab-sma.js';
import { AGENT_NAME } from '../../lab/stack/livekit-lab.js';
import { waitFor } from '../helpers/wait.js';

const lab = liveKitLabForSuite();

describe('provisioning against livekit-server', () => {
  it('creates everything on the first run, then a second run changes nothing', async () => {
    // beforeAll provisioned an empty server.
    const { inboundTrunks, outboundTrunks, dispatchRules } = lab().defs;
    const defined = inboundTrunks.length + outboundTrunks.length + dispatchRules.length;
    expect(lab().provisioned.changes.map((c) => c.action)).toEqual(Array(defined).fill('create'));
    const again = await provision(lab().sip, lab().defs);
    expect(again.changes.every((c) => c.action === 'unchanged')).toBe(true);
    expect(again.ids).toEqual(lab().provisioned.ids);
  });

  it('updates a changed definition in place, keeping its id; --dry-run changes nothing', async () => {
    const trunk = lab().defs.inboundTrunks[0]!;
    const changed: SipDefinitions = {
      ...lab().defs,
      inboundTrunks: lab().defs.inboundTrunks.map((t) =>
        t === trunk ? { ...t, allowedAddresses: [...t.allowedAddresses, '10.1.2.0/24'] } : t,
      ),
    };
    const dry = await provision(lab().sip, changed, { dryRun: true });
    expect(dry.applied).toBe(false);
    const planned = dry.changes.find((c) => c.name === trunk.name)!;
    expect(planned.action).toBe('update');
    expect(planned.differences?.join()).toContain('10.1.2.0/24');
    const id = lab().provisioned.ids[trunk.name];
    const byId = async () =>
      (await lab().sip.listSipInboundTrunk()).find((t) => t.sipTrunkId === id);
    expect((await byId())!.allowedAddresses).not.toContain('10.1.2.0/24');

    const applied = await provision(lab().sip, changed);
    expect(applied.changes.filter((c) => c.action !== 'unchanged')).toHaveLength(1);
    const trunks = await lab().sip.listSipInboundTrunk();
    expect(trunks).toHaveLength(lab().defs.inboundTrunks.length);
    expect((await byId())!.allowedAddresses).toContain('10.1.2.0/24');

    // Back to the committed definitions, again in place.
    const restored = await provision(lab().sip, lab().defs);
    expect(restored.changes.find((c) => c.name === trunk.name)?.action).toBe('update');
    expect((await byId())!.allowedAddresses).toEqual(trunk.allowedAddresses);
    const last = await provision(lab().sip, lab().defs);
    expect(last.changes.every((c) => c.action === 'unchanged')).toBe(true);
  });

  it('deletes what it created and no longer defines, and leaves foreign objects alone', async () => {
    const foreign = await lab().sip.createSipOutboundTrunk(
      'someone-else',
      'sip.example.net',
      ['*'],
      {
        transport: 1 as never,
      },
    );
    const extra: SipDefinitions = {
      ...lab().defs,
      outboundTrunks: [
        ...lab().defs.outboundTrunks,
        { name: 'callbridge-extra', address: '127.0.0.1:5999', transport: 'udp', numbers: ['*'] },
      ],
    };
    await provision(lab().sip, extra);
    expect((await lab().sip.listSipOutboundTrunk()).map((t) => t.name).sort()).toEqual([
      'callbridge-extra',
      LAB_OUTBOUND_TRUNK,
      'someone-else',
    ]);
    const back = await provision(lab().sip, lab().defs);
    expect(back.changes.find((c) => c.name === 'callbridge-extra')?.action).toBe('delete');
    expect((await lab().sip.listSipOutboundTrunk()).map((t) => t.name).sort()).toEqual([
      LAB_OUTBOUND_TRUNK,
      'someone-else',
    ]);
    await lab().sip.deleteSipTrunk(foreign.sipTrunkId);
  });
});

describe('a SIP call through the lab trunk', () => {
  it('arrives on the inbound trunk with the contract attributes, gets the agent, and the caller hears the greeting', async () => {
    const useCase = lab().useCases.defaultUseCase;
    const outbound = lab().provisioned.ids[LAB_OUTBOUND_TRUNK]!;
    const transactionId = '7d2f6a3c-1b4e-4c8a-9f0d-2e5b6c7d8e9f';
    const values = {
      transactionId,
      applicationId: LAB_SMA.applicationId,
      region: LAB_SMA.region,
      useCase: useCase.id,
      traceparent: '00-7d2f6a3c1b4e4c8a9f0d2e5b6c7d8e9f-9f0d2e5b6c7d8e9f-01',
      callToken: labCallToken(transactionId),
    };
    const leg = await SipLeg.dial(
      { url: lab().stack.url, apiKey: lab().stack.apiKey, apiSecret: lab().stack.apiSecret },
      {
        outboundTrunkId: outbound,
        to: useCase.livekitNumber,
        from: '+15550100999',
        headers: buildCallHeaders(values),
      },
    );
    try {
      const answeredAt = await leg.waitAnswered(20_000);
      await leg.waitFirstAudio(5_000);

      // The agent's room: one per call, named by the dispatch rule's prefix and the called number.
      const callRoom = await waitFor('the call room', async () =>
        (await lab().rooms.listRooms()).find((r) =>
          r.name.startsWith(`call_${useCase.livekitNumber}_`),
        ),
      );
      const participants = await lab().rooms.listParticipants(callRoom.name);
      const sipParticipant = participants.find((p) => p.attributes['sip.callID'] !== undefined)!;
      expect(sipParticipant.attributes).toMatchObject({
        [CallAttribute.transactionId]: values.transactionId,
        [CallAttribute.applicationId]: values.applicationId,
        [CallAttribute.region]: values.region,
        [CallAttribute.useCase]: values.useCase,
        [CallAttribute.traceparent]: values.traceparent,
        'sip.trunkID': lab().provisioned.ids[`callbridge-in-${useCase.id}`],
        'sip.ruleID': lab().provisioned.ids['callbridge-agent'],
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
        async () => (leg.audibleMsSince(answeredAt) >= 1000 ? true : undefined),
        4_000,
      );
    } finally {
      await leg.hangUp();
    }
    // Hanging up tears the call room down: no SIP participant or agent is left in it.
    await waitFor(
      'the call room to empty',
      async () => {
        const left = await lab().rooms.listRooms();
        const busy = [];
        for (const r of left.filter((r) => r.name.startsWith('call_'))) {
          if ((await lab().rooms.listParticipants(r.name)).length > 0) busy.push(r.name);
        }
        return busy.length === 0 ? true : undefined;
      },
      15_000,
    );
    // A call that ended normally is not the call guard's business.
    await new Promise((r) => setTimeout(r, 3500));
    expect(lab().guard.ended).toEqual([]);
  }, 60_000);
});

describe('dev rooms', () => {
  it('dispatch the agent into a room where a participant hears its greeting', async () => {
    const dev = await createDevRoom(
      { url: lab().stack.url, apiKey: lab().stack.apiKey, apiSecret: lab().stack.apiSecret },
      { agentName: AGENT_NAME, useCase: lab().useCases.defaultUseCase.id, identity: 'tester' },
    );
    const room = new Room();
    let audible = 0;
    let agentIdentity: string | undefined;
    room.on(RoomEvent.TrackSubscribed, (track, _pub, p) => {
      if (track.kind !== TrackKind.KIND_AUDIO) return;
      agentIdentity = p.identity;
      void (async () => {
        for await (const f of new AudioStream(track, { sampleRate: 16000, numChannels: 1 })) {
          if (frameRms(f) > 200) audible += 10;
        }
      })();
    });
    try {
      await room.connect(lab().stack.url, dev.token, { autoSubscribe: true, dynacast: false });
      await waitFor('a second of greeting in the dev room', async () =>
        audible >= 1000 ? true : undefined,
      );
      const agent = (await lab().rooms.listParticipants(dev.room)).find(
        (p) => p.identity === agentIdentity,
      );
      expect(agent?.attributes['lk.agent.name']).toBe(AGENT_NAME);
    } finally {
      await room.disconnect();
      await lab()
        .rooms.deleteRoom(dev.room)
        .catch(() => {});
    }
  }, 30_000);
});
