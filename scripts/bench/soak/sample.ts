// One look at the running lab: each component's processes (memory and open file descriptors), the
// rooms and participants LiveKit holds, the call records still in the open-calls index (read as
// the call guard reads it) and the leases in `limit#all`. A record or a lease whose call is not in
// progress at the callers' end is what a leak leaves.
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ALL_CALLS_PK, LEASES_SK } from '../../../contracts/callers.js';
import { DynamoCallStore } from '../../../guard/open-calls.js';
import { LOCAL_SMA_ENV } from '../../../lab/chime/local-sma-env.js';
import type { Lab } from '../../../lab/lab.js';
import { commandLine, processGroup, readUsage } from './proc.js';
import type { ComponentUsage, LabState, Sample } from './report.js';

/** The components, in the order of the report's rows, and their process ids now. */
function componentPids(lab: Lab): { name: string; group: boolean; pids: number[] }[] {
  const stack = lab.livekit.stack.pids;
  const worker = lab.livekit.worker?.pid;
  // The worker leads a process group of its own (lab/stack/agent-worker.ts): the rest of the group
  // are the processes it forked, job processes (the framework's job_proc_lazy_main) and any other.
  const forked = worker === undefined ? [] : processGroup(worker).filter((p) => p !== worker);
  const isJob = (pid: number) => commandLine(pid).includes('job_proc');
  const one = (name: string, pid: number | undefined) => ({
    name,
    group: false,
    pids: pid === undefined ? [] : [pid],
  });
  return [
    one('lab (this process)', process.pid),
    one('livekit-server', stack['livekit-server']),
    one('livekit-sip', stack['livekit-sip']),
    one('redis', stack['redis']),
    one('dynalite', lab.sma.db.pid),
    one('agent worker (main)', worker),
    { name: 'agent job processes', group: true, pids: forked.filter(isJob) },
    { name: 'agent other processes', group: true, pids: forked.filter((p) => !isJob(p)) },
  ];
}

export function usageOf(lab: Lab): ComponentUsage[] {
  return componentPids(lab).map(({ name, group, pids }) => {
    const read = pids.map(readUsage).filter((u) => u !== null);
    const sum = (get: (u: (typeof read)[number]) => number) =>
      read.length === 0 && !group ? null : read.reduce((s, u) => s + get(u), 0);
    return {
      name,
      group,
      pids: read.length,
      rssBytes: sum((u) => u.rssBytes),
      fds: sum((u) => u.fds),
    };
  });
}

const DAY_MS = 24 * 3600_000;

export async function labState(lab: Lab): Promise<LabState> {
  const inProgress = new Set(lab.calls.keys());
  const [livekit, open, leases] = await Promise.all([
    roomsAndParticipants(lab).catch(() => null),
    new DynamoCallStore(lab.sma.db.client, LOCAL_SMA_ENV.CALLS_TABLE, {
      timeoutMs: 5000,
      // Every open record, however old: an old one is the leak.
      openWindowMs: DAY_MS,
    })
      .openCalls(Date.now())
      .catch(() => null),
    allCallsLeases(lab).catch(() => null),
  ]);
  const notInProgress = (txs: string[] | null) =>
    txs === null ? null : txs.filter((tx) => !inProgress.has(tx)).length;
  return {
    rooms: livekit?.rooms ?? null,
    participants: livekit?.participants ?? null,
    openCalls: open?.length ?? null,
    openNotInProgress: notInProgress(open?.map((c) => c.transactionId) ?? null),
    leases: leases?.length ?? null,
    leasesNotInProgress: notInProgress(leases),
    inProgress: inProgress.size,
  };
}

export async function takeSample(lab: Lab, atMs: number): Promise<Sample> {
  const state = await labState(lab);
  return { atMs, components: usageOf(lab), lab: state };
}

async function roomsAndParticipants(lab: Lab) {
  const rooms = await lab.livekit.rooms.listRooms();
  let participants = 0;
  for (const room of rooms) {
    participants += (await lab.livekit.rooms.listParticipants(room.name).catch(() => [])).length;
  }
  return { rooms: rooms.length, participants };
}

/** The TransactionIds of the leases in `limit#all` (contracts/callers.ts, leaseOf). */
async function allCallsLeases(lab: Lab): Promise<string[]> {
  const res = await lab.sma.db.client.send(
    new GetItemCommand({
      TableName: LOCAL_SMA_ENV.CALLS_TABLE,
      Key: { pk: { S: ALL_CALLS_PK }, sk: { S: LEASES_SK } },
      ConsistentRead: true,
    }),
  );
  return (res.Item?.['Leases']?.SS ?? []).map((lease) => lease.slice(lease.indexOf('#') + 1));
}
