// What a row's calls left behind once they ended and the lab had time to settle: call rooms and
// their participants in LiveKit, call records still open in the calls table, and call slots
// (leases) still held in the deployment's and the use cases' caps (contracts/callers.ts).
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ALL_CALLS_PK, LEASES_SK, useCaseLimitPk } from '../../../contracts/callers.js';
import { LOCAL_SMA_ENV } from '../../../lab/chime/local-sma-env.js';
import type { Lab } from '../../../lab/lab.js';
import { OPEN_CALL_ATTRIBUTE } from '../../../lambdas/sma/table.js';

export interface LeftBehind {
  /** Rooms that appeared during the row and were still there. */
  rooms: number;
  participants: number;
  /** The row's calls whose state item is not closed (Phase not `ended`, or still `OpenCall`). */
  openCalls: number;
  /** Lease elements of the row's calls in `limit#all` and `limit#usecase#*`. */
  leases: number;
}

/** LiveKit removes a room 10 s after its last participant leaves (livekit.yaml): a little more. */
const ROOMS_SETTLE_MS = 20_000;

export async function roomNames(lab: Lab): Promise<Set<string>> {
  return new Set((await lab.livekit.rooms.listRooms().catch(() => [])).map((r) => r.name));
}

/**
 * Waits up to 20 s in all for the rooms that were not there before the row to go, and for the
 * row's call records to close and their leases to be given back (the call guard reconciles what
 * a lost write left, within about two of its sweeps), then counts.
 */
export async function leftBehind(
  lab: Lab,
  txs: readonly string[],
  roomsBefore: ReadonlySet<string>,
): Promise<LeftBehind> {
  const newRooms = async () => [...(await roomNames(lab))].filter((r) => !roomsBefore.has(r));
  const end = Date.now() + ROOMS_SETTLE_MS;
  const settle = async <T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> => {
    let value = await read();
    while (!done(value) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 500));
      value = await read();
    }
    return value;
  };
  const rooms = await settle(newRooms, (r) => r.length === 0);
  let participants = 0;
  for (const room of rooms)
    participants += (await lab.livekit.rooms.listParticipants(room).catch(() => [])).length;
  const records = await settle(
    async () => [await openCalls(lab, txs), await leasesHeld(lab, new Set(txs))] as const,
    ([open, leases]) => open === 0 && leases === 0,
  );
  return { rooms: rooms.length, participants, openCalls: records[0], leases: records[1] };
}

async function openCalls(lab: Lab, txs: readonly string[]): Promise<number> {
  let open = 0;
  for (const tx of txs) {
    const state = (await lab.sma.journal(tx)).find((i) => i['sk'] === 'state');
    if (state && (state['Phase'] !== 'ended' || state[OPEN_CALL_ATTRIBUTE] !== undefined))
      open += 1;
  }
  return open;
}

async function leasesHeld(lab: Lab, txs: ReadonlySet<string>): Promise<number> {
  const pks = [ALL_CALLS_PK, ...lab.livekit.useCases.all.map((u) => useCaseLimitPk(u.id))];
  let held = 0;
  for (const pk of pks) {
    const res = await lab.sma.db.client.send(
      new GetItemCommand({
        TableName: LOCAL_SMA_ENV.CALLS_TABLE,
        Key: { pk: { S: pk }, sk: { S: LEASES_SK } },
        ConsistentRead: true,
      }),
    );
    // `<expires ms>#<TransactionId>` (contracts/callers.ts, leaseOf)
    for (const lease of res.Item?.['Leases']?.SS ?? [])
      if (txs.has(lease.slice(lease.indexOf('#') + 1))) held += 1;
  }
  return held;
}
