// What the end-to-end lab suites share: the real SMA handler on dynalite, calls driven through it
// with their legs on the real LiveKit stack, and the checks on what is left behind.
import { RoomServiceClient } from 'livekit-server-sdk';
import { LOCAL_SMA_ENV } from '../../lambdas/sma/config.js';
import type { LiveKitLab } from '../../scripts/lib/livekit-lab.js';
import {
  LOCAL_AWS_ENV,
  type LocalDynamo,
  callItems,
  startLocalDynamo,
} from '../../scripts/lib/local-dynamodb.js';
import { SimulatedChimeCall } from '../../sip/chime/simulated-call.js';
import { LAB_OUTBOUND_TRUNK } from '../../sip/livekit/definitions.js';
import { LiveKitChimeMedia } from '../../sip/lab/livekit-media.js';

export interface LocalSma {
  db: LocalDynamo;
  handler: (event: unknown) => Promise<unknown>;
  /** The call's DynamoDB items (state and journal). */
  journal(tx: string): Promise<Record<string, unknown>[]>;
}

/** The Lambda entry point of the SMA, configured for the lab, against dynalite in this process. */
export async function startLocalSma(): Promise<LocalSma> {
  const db = await startLocalDynamo({ table: LOCAL_SMA_ENV.CALLS_TABLE });
  Object.assign(process.env, LOCAL_AWS_ENV, LOCAL_SMA_ENV, {
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    LOG_LEVEL: 'warn',
  });
  const { handler } = await import('../../lambdas/sma/index.js');
  return {
    db,
    handler,
    journal: (tx) => callItems(db.client, LOCAL_SMA_ENV.CALLS_TABLE, tx),
  };
}

/** A call to the use case's number, its legs carried out on the lab's LiveKit stack. */
export function newLabCall(
  lab: LiveKitLab,
  sma: LocalSma,
  opts: { queueAnswers?: boolean; calls?: Map<string, SimulatedChimeCall> } = {},
): { call: SimulatedChimeCall; media: LiveKitChimeMedia; tx: string } {
  const tx = crypto.randomUUID();
  const media = new LiveKitChimeMedia({
    lk: { url: lab.stack.url, apiKey: lab.stack.apiKey, apiSecret: lab.stack.apiSecret },
    outboundTrunkId: lab.provisioned.ids[LAB_OUTBOUND_TRUNK]!,
    queueAnswers: () => opts.queueAnswers ?? true,
    queueRingMs: 300,
  });
  const call = new SimulatedChimeCall({
    handler: sma.handler,
    call: { transactionId: tx, smaId: 'local-sma', region: 'us-east-1', accountId: '000000000000' },
    caller: '+12065550100',
    dialed: lab.useCases.defaultUseCase.dialedNumbers[0]!,
    media,
  });
  media.attach(call);
  opts.calls?.set(tx, call);
  return { call, media, tx };
}

/** Participants left in any room, once things have had up to 15 s to settle. */
export async function roomsInUse(lab: LiveKitLab): Promise<number> {
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

export const until = async (what: string, ok: () => boolean, ms: number): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};
