// The call guard as deployed (the calls table, the Voice API), on the whole lab: what it does when
// nobody else would. livekit-sip killed mid-call: nobody sends the AI leg a BYE, so Chime would
// keep the caller on a dead line; the agent sees the caller's packets stop and has the SMA send
// them to a person (`line_lost`, agent/media-watch.ts), long before livekit-server drops the SIP
// participant and the guard would (its backstop, left to act on a call the agent no longer
// serves: the SMA refuses it as the call is already with the queue). The SMA handler failing until Chime ends the call: the call's last
// events were never journaled, so its record stays open and its slots held; the guard finds the
// record, Chime says the call is gone, and the guard closes it and gives the slots back.
// livekit-server crashed under a call: the agent's own connection is out, and when it is not back
// within LINE_OUTAGE_AFTER_MS the agent has the SMA send the caller to a person (`line_lost`).
import { readFileSync } from 'node:fs';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { expect, it } from 'vitest';
import { ALL_CALLS_PK, LEASES_SK } from '../../contracts/callers.js';
import { DynamoCallStore } from '../../guard/open-calls.js';
import { LOCAL_SMA_ENV } from '../../lab/chime/local-sma-env.js';
import { labForSuite } from '../helpers/lab.js';
import { until, waitFor } from '../helpers/wait.js';

const lab = labForSuite({ guardAws: true });

async function leasesOf(tx: string): Promise<string[]> {
  const doc = DynamoDBDocumentClient.from(lab().sma.db.client);
  const res = await doc.send(
    new GetCommand({
      TableName: LOCAL_SMA_ENV.CALLS_TABLE,
      Key: { pk: ALL_CALLS_PK, sk: LEASES_SK },
      ConsistentRead: true,
    }),
  );
  return [...((res.Item?.['Leases'] as Set<string> | undefined) ?? [])].filter((l) =>
    l.endsWith(`#${tx}`),
  );
}

async function isOpen(tx: string): Promise<boolean> {
  const store = new DynamoCallStore(lab().sma.db.client, LOCAL_SMA_ENV.CALLS_TABLE, {
    timeoutMs: 2000,
    openWindowMs: 3_600_000,
  });
  return (await store.openCalls(Date.now())).some((c) => c.transactionId === tx);
}

/** The call's UpdateSipMediaApplicationCall Arguments the Voice API stand-in accepted, in order. */
const updatesOf = (tx: string) =>
  lab()
    .voiceApi.requests.filter((r) => r.path.endsWith(`/calls/${tx}`) && r.status === 202)
    .map((r) => (r.body as { Arguments: Record<string, string> }).Arguments);

/** The agent worker's log lines about this call's lost line. */
const lineLostLogged = (tx: string) =>
  readFileSync(lab().livekit.worker!.logFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"reason":"line_lost"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l['transactionId'] === tx);

it('sends the caller to a person when livekit-sip dies mid-call without a BYE', async () => {
  const { call, media, tx } = lab().newCall();
  try {
    await call.startInbound();
    await media.agent!.waitFirstAudio(5_000);
    // Nobody speaks for longer than the watch's threshold (the greeting over, the caller silent):
    // livekit-sip's packets go on all the same, and the agent keeps the call.
    await until(
      'the line quiet for 3 s',
      () => media.agent!.audibleMsSince(performance.now() - 3000) === 0,
      30_000,
    );
    expect(updatesOf(tx)).toEqual([]);
    await lab().livekit.stack.restart('livekit-sip', { signal: 'SIGKILL' });
    const killedAt = performance.now();
    // The agent's media watch sees the caller's packets stop and asks the SMA for a person: LEG-B
    // hung up (Chime's BYE to the dead host answered or not), the queue bridged.
    await until(
      'the person heard',
      () => media.audibleMsSince(killedAt, ['person']) >= 1000,
      40_000,
    );
    // The agent asked, before the guard's backstop could (it would send agent_error).
    expect(updatesOf(tx)[0]).toMatchObject({
      action: 'transfer',
      reason: 'line_lost',
      queue: 'general',
    });
    expect(lineLostLogged(tx)).toHaveLength(1);
    const updates = call.timeline.filter((s) => s.type === 'CALL_UPDATE_REQUESTED');
    expect(updates.length).toBeGreaterThanOrEqual(1);
    await media.callerHangsUp();
    expect(call.ended).toBe(true);
  } finally {
    await media.close();
  }
}, 120_000);

it('closes the record of a call Chime ended after the SMA failed, and frees its slot', async () => {
  const real = lab().sma.handler;
  let failing = false;
  // A call invokes the handler it was placed with: wrapped before the call, armed later.
  lab().sma.handler = async (event) => {
    const type = (event as { InvocationEventType?: string }).InvocationEventType;
    if (failing && type === 'CALL_UPDATE_REQUESTED') throw new Error('the handler failed (test)');
    return real(event);
  };
  const { call, media, tx } = lab().newCall();
  lab().sma.handler = real;
  try {
    await call.startInbound();
    await media.agent!.waitFirstAudio(5_000);
    expect(await leasesOf(tx)).toHaveLength(1);
    // Every attempt at the transfer fails: Chime retries once, then ends the call (480).
    failing = true;
    await call.requestTransfer('general', Date.now());
    await until('Chime ended the call', () => call.ended, 15_000);
    expect(await isOpen(tx)).toBe(true);
    // Two sweeps (10 s apart) at most after the room went, then Chime's NotFound, then the close.
    await waitFor('the record closed', async () => ((await isOpen(tx)) ? undefined : true), 40_000);
    // The guard closes the record first, then gives its slots back: a moment later, not at once.
    await waitFor(
      'the slot freed',
      async () => ((await leasesOf(tx)).length === 0 ? true : undefined),
      5_000,
    );
  } finally {
    await media.close();
  }
}, 120_000);

it('sends the caller to a person when livekit-server crashes mid-call and stays out', async () => {
  const { call, media, tx } = lab().newCall();
  try {
    await call.startInbound();
    await media.agent!.waitFirstAudio(5_000);
    await until(
      'the greeting over',
      () => media.agent!.audibleMsSince(performance.now() - 1500) === 0,
      30_000,
    );
    // Killed and started again at once: the agent's and livekit-sip's connections drop, and the
    // new server routes the room to the dead node for seconds (its Redis record not yet stale).
    await lab().livekit.stack.restart('livekit-server', { signal: 'SIGKILL' });
    const killedAt = performance.now();
    // The agent, whose own connection is out, has the SMA send the caller on: that needs no LiveKit.
    await until(
      'the person heard',
      () => media.audibleMsSince(killedAt, ['person']) >= 1000,
      40_000,
    );
    expect(updatesOf(tx)[0]).toMatchObject({ action: 'transfer', reason: 'line_lost' });
    const [lost] = lineLostLogged(tx);
    expect(lost?.['outageMs']).toBeGreaterThanOrEqual(2000);
    await media.callerHangsUp();
    expect(call.ended).toBe(true);
  } finally {
    await media.close();
  }
}, 120_000);
