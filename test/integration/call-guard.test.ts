// The call guard's HTTP side as livekit-server and an orchestrator see it: webhooks signed as
// livekit-server signs them (a JWT of the API key whose sha256 claim is the body's hash, checked by
// the SDK's real WebhookReceiver), bounded bodies, the health endpoint; no LiveKit server (the room
// service is a fake). Then the open-calls index the guard reads, on the real DynamoDB API
// (dynalite), written by the SMA's real journal.
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { AccessToken } from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCallStore } from '../../guard/open-calls.js';
import {
  MAX_WEBHOOK_BYTES,
  startCallGuardServer,
  type CallGuardServer,
} from '../../guard/server.js';
import { DynamoCallJournal, type JournalEntry } from '../../lambdas/sma/journal.js';
import { ensureCallsTable } from '../../lambdas/sma/table.js';
import { startLocalDynamo, type LocalDynamo } from '../../lab/stack/local-dynamodb.js';
import { FakeRooms, agent, sip } from '../unit/guard/fakes.js';
import { until } from '../helpers/wait.js';

const KEY = 'devkey';
const SECRET = 'callbridge-local-development-secret-0001';
const ROOM = 'call_+12025550131_abc';

async function signed(body: string, secret = SECRET): Promise<string> {
  const at = new AccessToken(KEY, secret);
  at.sha256 = createHash('sha256').update(body).digest('base64');
  return at.toJwt();
}

function post(url: string, body: string, auth?: string) {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/webhook+json',
      ...(auth ? { authorization: auth } : {}),
    },
    body,
  });
}

/** A POST whose body is sent in chunks, with no content-length. */
function postChunked(url: string, chunks: number, chunkBytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    for (let i = 0; i < chunks; i++) req.write('x'.repeat(chunkBytes));
    req.end();
  });
}

describe('call guard server', () => {
  const rooms = new FakeRooms();
  const clock = { now: 1_000_000 };
  let server: CallGuardServer;

  beforeAll(async () => {
    server = await startCallGuardServer({
      apiKey: KEY,
      apiSecret: SECRET,
      rooms,
      graceMs: 50,
      sweepIntervalMs: 60_000,
      now: () => clock.now,
    });
    await until('the first sweep', () => server.sweeper.count > 0);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('refuses webhooks that are unsigned, signed with another secret, or for another body', async () => {
    const body = JSON.stringify({ event: 'participant_left', room: { name: ROOM } });
    expect((await post(server.url, body)).status).toBe(401);
    expect((await post(server.url, body, await signed(body, 'x'.repeat(40)))).status).toBe(401);
    expect((await post(server.url, body, await signed(`${body} `))).status).toBe(401);
  });

  it('ends the AI leg after the grace period when a signed event says the agent left', async () => {
    rooms.rooms.set(ROOM, [sip('tx-1')]);
    const body = JSON.stringify({
      event: 'participant_left',
      id: 'EV_1',
      room: { name: ROOM },
      participant: { identity: 'agent-AJ_1', kind: 'AGENT' },
    });
    const res = await post(server.url, body, await signed(body));
    expect(res.status).toBe(200);
    await until('the room deleted', () => rooms.deleted.includes(ROOM), 2000);
    expect(server.guard.ended).toEqual([ROOM]);
  });

  it('leaves calls alone when a signed event is about a participant other than the agent', async () => {
    rooms.rooms.set('call_other', [sip('tx-2'), agent()]);
    const body = JSON.stringify({
      event: 'participant_left',
      room: { name: 'call_other' },
      participant: { identity: 'sip_0142', kind: 'SIP' },
    });
    expect((await post(server.url, body, await signed(body))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 150));
    expect(rooms.deleted).not.toContain('call_other');
  });

  it('refuses a body over 64 KiB with 413 when it declares its length', async () => {
    const body = 'x'.repeat(MAX_WEBHOOK_BYTES + 1);
    const res = await post(server.url, body, await signed(body));
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'body_too_large', limitBytes: MAX_WEBHOOK_BYTES });
  });

  it('refuses a body over 64 KiB with 413 when it is sent in chunks', async () => {
    expect(await postChunked(server.url, 20, 4096)).toBe(413);
    // Exactly at the limit is read (and refused only for its missing signature).
    expect(await postChunked(server.url, 16, 4096)).toBe(401);
  });

  it('answers 404 on other paths and 405 on other methods', async () => {
    expect((await fetch(server.url.replace('/livekit/webhook', '/x'))).status).toBe(404);
    expect((await fetch(server.url)).status).toBe(405);
    expect((await fetch(server.healthUrl, { method: 'POST' })).status).toBe(405);
  });

  it('reports healthy while the last sweep succeeded within three intervals, 503 after', async () => {
    let res = await fetch(server.healthUrl);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', healthy: true });
    clock.now += 3 * 60_000 + 1;
    res = await fetch(server.healthUrl);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'unhealthy', healthy: false });
  });
});

describe('call guard server whose sweeps fail', () => {
  it('reports 503 when it cannot list the rooms', async () => {
    const rooms = new FakeRooms();
    rooms.fail.listRooms = () =>
      Object.assign(new Error('unauthenticated'), { code: 'unauthenticated' });
    const server = await startCallGuardServer({ apiKey: KEY, apiSecret: SECRET, rooms });
    try {
      await until('the first sweep', () => server.sweeper.count > 0);
      const res = await fetch(server.healthUrl);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ healthy: false, sweeps: 1 });
    } finally {
      await server.stop();
    }
  });
});

describe('open-calls index (dynalite)', () => {
  const TABLE = 'callbridge-calls-guard-it';
  let db: LocalDynamo;
  let journal: DynamoCallJournal;
  let store: DynamoCallStore;
  const NOW = Date.now();

  beforeAll(async () => {
    db = await startLocalDynamo({});
    await ensureCallsTable(db.client, TABLE);
    journal = new DynamoCallJournal(db.client, TABLE, { timeoutMs: 2000, ttlSeconds: 86_400 });
    store = new DynamoCallStore(db.client, TABLE, { timeoutMs: 2000, openWindowMs: 3_600_000 });
  });
  afterAll(async () => {
    await db?.stop();
  });

  const entry = (
    tx: string,
    sequence: number,
    phase: string | undefined,
    at = NOW,
  ): JournalEntry => ({
    transactionId: tx,
    sequence,
    eventType: 'ACTION_SUCCESSFUL',
    actionDataType: undefined,
    errorType: undefined,
    actionTypes: [],
    phase,
    receivedAtMs: at,
    record: phase ? { Phase: phase } : {},
  });

  it('lists a call while it is open and not once it has ended', async () => {
    await journal.record(entry('tx-a', 1, 'bridging_ai'));
    await journal.record(entry('tx-a', 2, 'ai_connected'));
    await journal.record(entry('tx-b', 1, 'bridging_ai'));
    await journal.record(entry('tx-b', 2, undefined));
    await journal.record(entry('tx-c', 1, 'bridging_ai'));
    await journal.record(entry('tx-c', 2, 'ended'));
    const open = await store.openCalls(NOW);
    expect(open.sort((a, b) => a.transactionId.localeCompare(b.transactionId))).toEqual([
      { transactionId: 'tx-a', phase: 'ai_connected' },
      { transactionId: 'tx-b', phase: 'bridging_ai' },
    ]);
  });

  it('leaves out records older than the window: left open by a lost write', async () => {
    await journal.record(entry('tx-old', 1, 'ai_connected', NOW - 2 * 3_600_000));
    const open = await store.openCalls(NOW);
    expect(open.map((c) => c.transactionId)).not.toContain('tx-old');
  });

  it('reads the phase of the calls asked for, leaving out those it does not find', async () => {
    expect(await store.phases(['tx-a', 'tx-c', 'tx-missing'])).toEqual({
      'tx-a': 'ai_connected',
      'tx-c': 'ended',
    });
  });

  it('reads every page when the open calls are many', async () => {
    const many = Array.from({ length: 120 }, (_, i) => `tx-many-${String(i).padStart(3, '0')}`);
    await Promise.all(many.map((tx) => journal.record(entry(tx, 1, 'ai_connected'))));
    const paged = new DynamoCallStore(db.client, TABLE, {
      timeoutMs: 5000,
      openWindowMs: 3_600_000,
      pageSize: 40,
    });
    const open = new Set((await paged.openCalls(NOW)).map((c) => c.transactionId));
    expect(many.every((tx) => open.has(tx))).toBe(true);
  });
});
