// A whole call on real parts: the real SMA handler (DynamoDB API on dynalite) driven as Chime
// drives it, its CallAndBridge to the agent carried out as a SIP call through LiveKit, the agent
// greeting the caller, a transfer (the SMA hangs up the AI leg and bridges to the queue), the
// Connect stand-in's person speaking to the caller, and the caller hanging up.
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { RoomServiceClient } from 'livekit-server-sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LOCAL_SMA_ENV } from '../../lambdas/sma/config.js';
import {
  LOCAL_AWS_ENV,
  type LocalDynamo,
  startLocalDynamo,
} from '../../scripts/lib/local-dynamodb.js';
import { type LiveKitLab, startLiveKitLab } from '../../scripts/lib/livekit-lab.js';
import { SimulatedChimeCall } from '../../sip/chime/simulated-call.js';
import { LAB_OUTBOUND_TRUNK } from '../../sip/livekit/definitions.js';
import { LiveKitChimeMedia } from '../../sip/lab/livekit-media.js';
import { SIP_IDENTITY, type SipLeg } from '../../sip/lab/sip-leg.js';
import { synthesizeToPcm } from '../../agent/providers/flite-tts.js';
import { type VoiceApiServer, startVoiceApiServer } from '../../sip/chime/voice-api-server.js';

let lab: LiveKitLab;
let db: LocalDynamo;
let handler: (event: unknown) => Promise<unknown>;
let voiceApi: VoiceApiServer;
/** Calls in progress by TransactionId: where the agent's UpdateSipMediaApplicationCall lands. */
const calls = new Map<string, SimulatedChimeCall>();

beforeAll(async () => {
  db = await startLocalDynamo({ table: LOCAL_SMA_ENV.CALLS_TABLE });
  Object.assign(process.env, LOCAL_AWS_ENV, LOCAL_SMA_ENV, {
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    LOG_LEVEL: 'warn',
  });
  ({ handler } = await import('../../lambdas/sma/index.js'));
  voiceApi = await startVoiceApiServer({
    onUpdate: (_sma, tx, args) => {
      const call = calls.get(tx);
      if (!call || call.ended) return false;
      void call.update(args); // Chime invokes the handler asynchronously after the 202
      return true;
    },
  });
  lab = await startLiveKitLab({
    worker: true,
    workerEnv: { AWS_ENDPOINT_URL_CHIME_SDK_VOICE: voiceApi.endpoint },
  });
}, 120_000);

afterAll(async () => {
  await lab?.stop();
  await voiceApi?.stop();
  await db?.stop();
});

function newCall(queueAnswers = true): {
  call: SimulatedChimeCall;
  media: LiveKitChimeMedia;
  tx: string;
} {
  const tx = crypto.randomUUID();
  const media = new LiveKitChimeMedia({
    lk: { url: lab.stack.url, apiKey: lab.stack.apiKey, apiSecret: lab.stack.apiSecret },
    outboundTrunkId: lab.provisioned.ids[LAB_OUTBOUND_TRUNK]!,
    queueAnswers: () => queueAnswers,
    queueRingMs: 300,
  });
  const call = new SimulatedChimeCall({
    handler,
    call: { transactionId: tx, smaId: 'local-sma', region: 'us-east-1', accountId: '000000000000' },
    caller: '+12065550100',
    dialed: lab.useCases.defaultUseCase.dialedNumbers[0]!,
    media,
  });
  media.attach(call);
  calls.set(tx, call);
  return { call, media, tx };
}

const until = async (what: string, ok: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

it('answers with the agent, transfers to a person the caller hears, and ends cleanly', async () => {
  const { call, media, tx } = newCall();
  try {
    await call.startInbound();
    // CallAndBridge AWS went through LiveKit and the agent answered: the caller hears the greeting.
    expect(call.timeline.map((s) => s.type)).toEqual(['NEW_INBOUND_CALL', 'ACTION_SUCCESSFUL']);
    const leg = media.sip!;
    await leg.waitFirstAudio(5000);

    await call.requestTransfer('general', Date.now());
    // The SMA hung up the AI leg and bridged to the queue; the person's words reach the caller.
    await until('the person heard', () => leg.audibleMsSince(0, 'connect-agent') >= 1000, 10_000);
    const bridges = call.timeline
      .flatMap((s) => s.actions)
      .filter((a) => a.Type === 'CallAndBridge')
      .map((a) => (a.Parameters!['Endpoints'] as { BridgeEndpointType: string }[])[0]!);
    expect(bridges.map((b) => b.BridgeEndpointType)).toEqual(['AWS', 'PSTN']);

    await media.callerHangsUp();
    expect(call.ended).toBe(true);

    // The journal holds every event; the state item says how the call ended.
    const items = await journal(tx);
    expect(items.filter((i) => String(i['sk']).startsWith('event#'))).toHaveLength(
      call.timeline.length,
    );
    expect(items.find((i) => i['sk'] === 'state')).toMatchObject({
      Disposition: 'transferred',
      TransferOutcome: 'connected',
    });
    // Nothing is left in a room.
    await expect(roomsInUse()).resolves.toBe(0);
  } finally {
    await media.close();
  }
}, 90_000);

it('the caller asks the agent for a person: the agent requests the transfer and the person answers', async () => {
  const { call, media } = newCall();
  try {
    await call.startInbound();
    const leg = media.sip!;
    await leg.waitFirstAudio(5000);
    // Let the greeting finish, then ask, in a voice other than the agent's.
    await until('the greeting to end', () => quietFor(leg, 800), 15_000);
    const ask = await synthesizeToPcm('I would like to talk to a person please.', { voice: 'rms' });
    const askedAt = performance.now();
    await leg.say(ask.samples, ask.sampleRate);
    // The agent's transfer_to_human reached the Voice API stand-in and the SMA bridged the queue.
    await until(
      'the person heard',
      () => leg.audibleMsSince(askedAt, 'connect-agent') >= 1000,
      20_000,
    );
    const update = voiceApi.requests.find((r) => r.operation === 'update' && r.status === 202);
    expect((update?.body as { Arguments: Record<string, string> }).Arguments).toMatchObject({
      action: 'transfer',
      queue: 'general',
      reason: 'caller_asked',
    });
    await media.callerHangsUp();
    expect(call.ended).toBe(true);
  } finally {
    await media.close();
  }
}, 90_000);

it('no one in the queue answers: the caller hears the apology and the call ends cleanly', async () => {
  const { call, media, tx } = newCall(false);
  try {
    await call.startInbound();
    const leg = media.sip!;
    await leg.waitFirstAudio(5000);
    await call.requestTransfer('general', Date.now());
    // The queue and its fallback did not answer: Chime's own voice says the apology, then LEG-A
    // is hung up (the caller's room goes with it).
    expect(call.ended).toBe(true);
    expect(leg.audibleMsSince(0, 'chime-speak')).toBeGreaterThanOrEqual(1000);
    const state = (await journal(tx)).find((i) => i['sk'] === 'state');
    expect(state).toMatchObject({ Disposition: 'failed' });
    await expect(roomsInUse()).resolves.toBe(0);
  } finally {
    await media.close();
  }
}, 90_000);

it('the caller hangs up while the agent is speaking: everything is torn down', async () => {
  const { call, media, tx } = newCall();
  try {
    await call.startInbound();
    await media.sip!.waitFirstAudio(5000); // mid-greeting
    await media.callerHangsUp();
    expect(call.ended).toBe(true);
    const state = (await journal(tx)).find((i) => i['sk'] === 'state');
    expect(state).toMatchObject({ Phase: 'ended' });
    await expect(roomsInUse()).resolves.toBe(0);
  } finally {
    await media.close();
  }
}, 90_000);

async function journal(tx: string): Promise<Record<string, unknown>[]> {
  const res = await db.client.send(
    new QueryCommand({
      TableName: LOCAL_SMA_ENV.CALLS_TABLE,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: `call#${tx}` } },
      ConsistentRead: true,
    }),
  );
  return (res.Items ?? []).map((i) => unmarshall(i));
}

/** Participants left in any room, once things have had up to 15 s to settle. */
async function roomsInUse(): Promise<number> {
  const rooms = new RoomServiceClient(lab.stack.httpUrl, lab.stack.apiKey, lab.stack.apiSecret);
  const count = async () => {
    let n = 0;
    for (const r of await rooms.listRooms()) n += (await rooms.listParticipants(r.name)).length;
    return n;
  };
  const end = Date.now() + 15_000;
  let n = await count();
  while (n > 0 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 200));
    n = await count();
  }
  return n;
}

/** The agent has been silent for `ms` (nothing audible from the SIP leg). */
function quietFor(leg: SipLeg, ms: number): boolean {
  const last = leg.heard.filter((h) => h.from === SIP_IDENTITY && h.rms >= 64).at(-1);
  return last !== undefined && performance.now() - last.at >= ms;
}
