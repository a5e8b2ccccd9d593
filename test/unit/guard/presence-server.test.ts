// Worker presence end to end in one process (and one worker process killed outright): the guard's
// real HTTP server with a fake room service, the worker's real client.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WorkerPresence } from '../../../agent/worker-presence.js';
import { startCallGuardServer, type CallGuardServer } from '../../../guard/server.js';
import { Instrument } from '../../../otel/instruments.js';
import { until } from '../../helpers/wait.js';
import { FakeRooms, agent, recordingInstruments, sip, total } from './fakes.js';

const SECRET = 'presence-secret-for-tests';
const A = 'call_+12025550131_a';
const B = 'call_+12025550131_b';
const ROOT = join(import.meta.dirname, '..', '..', '..');

let guard: CallGuardServer | undefined;
const clients: WorkerPresence[] = [];

async function setUp({ silentAfterMs = 60_000, reconnectGraceMs = 50 } = {}) {
  const rooms = new FakeRooms();
  rooms.rooms.set(A, [sip('tx-a'), agent()]);
  rooms.rooms.set(B, [sip('tx-b'), agent()]);
  const { instruments, recorded } = recordingInstruments();
  guard = await startCallGuardServer({
    apiKey: 'key',
    apiSecret: 'secret',
    rooms,
    instruments,
    sweepIntervalMs: 300_000,
    presence: { secret: SECRET, silentAfterMs, reconnectGraceMs },
  });
  return { rooms, recorded, url: guard.presenceUrl! };
}

function worker(url: string, secret = SECRET) {
  const p = new WorkerPresence({ url, secret, logger: pino({ level: 'silent' }) });
  clients.push(p);
  p.start();
  return p;
}

const connected = (n: number) =>
  until(`${n} workers connected`, () => guard!.presence!.workers === n);
const named = () => guard!.presence!.rooms;
/** The worker's socket closed under it, as the kernel closes a dead process's sockets. */
const drop = (w: WorkerPresence) => (w as unknown as { ws: WebSocket }).ws.terminate();

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await guard?.stop();
  guard = undefined;
});

describe('worker presence', () => {
  it("ends a worker's rooms when its connection drops without a goodbye", async () => {
    const t = await setUp();
    const w = worker(t.url);
    w.add(A);
    w.add(B);
    w.remove(B);
    await connected(1);
    await until('the rooms named', () => named().includes(A) && !named().includes(B));
    drop(w);
    w.close(); // and it does not come back
    await until('the room ended', () => t.rooms.deleted.includes(A));
    expect(t.rooms.deleted).toEqual([A]);
    expect(guard!.guard.ended).toEqual([A]);
    expect(total(t.recorded, Instrument.guardRoomsEnded, { reason: 'worker_lost' })).toBe(1);
  });

  it('keeps naming a room while a second job of the worker in it ends', async () => {
    const t = await setUp();
    const w = worker(t.url);
    await connected(1);
    w.add(A);
    w.add(A);
    w.remove(A);
    w.add(B);
    await until('B named', () => named().includes(B));
    expect(named()).toContain(A);
    w.remove(A);
    await until('A no longer named', () => !named().includes(A));
  });

  it('does nothing when a drained worker leaves with its goodbye', async () => {
    const t = await setUp();
    const w = worker(t.url);
    w.add(A);
    await connected(1);
    w.remove(A);
    w.leave();
    await connected(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(t.rooms.deleted).toEqual([]);
  });

  it('says no goodbye when it exits with a call still named, so the guard ends it', async () => {
    const t = await setUp();
    const w = worker(t.url);
    w.add(A);
    await connected(1);
    w.leave();
    await until('the room ended', () => t.rooms.deleted.includes(A));
  });

  it('names its rooms again when it connects again, and nothing is ended', async () => {
    const t = await setUp({ reconnectGraceMs: 2000 });
    const w = worker(t.url);
    w.add(A);
    await connected(1);
    // The connection is dropped under a live worker (a network blip): it is back at once.
    const before = (w as unknown as { ws: WebSocket }).ws;
    drop(w);
    await until('connected again', () => (w as unknown as { ws?: WebSocket }).ws !== before);
    await connected(1);
    await until('the room named again', () => named().includes(A));
    await new Promise((r) => setTimeout(r, 200));
    expect(t.rooms.deleted).toEqual([]);
  });

  it('ends the rooms of a worker whose pings stop', async () => {
    const t = await setUp({ silentAfterMs: 400 });
    const w = worker(t.url);
    w.add(A);
    await connected(1);
    // A stalled main process (or a lost machine): the socket stays open, nothing more is said.
    clearInterval((w as unknown as { ping: NodeJS.Timeout }).ping);
    await until('the room ended', () => t.rooms.deleted.includes(A), 5000);
  });

  it('refuses a worker without the secret', async () => {
    const t = await setUp();
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(t.url, { headers: { authorization: 'Bearer wrong-secret-123456' } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => {});
    });
    expect(status).toBe(401);
    expect(guard!.presence!.workers).toBe(0);
  });

  it('closes a connection that sends a frame over the limit', async () => {
    const t = await setUp();
    const ws = new WebSocket(t.url, { headers: { authorization: `Bearer ${SECRET}` } });
    await new Promise((r) => ws.once('open', r));
    const code = new Promise<number>((r) => ws.once('close', r));
    ws.send('x'.repeat(17 * 1024));
    await expect(code).resolves.toBe(1009);
  });

  it("ends a killed worker process's rooms when its connection closes", async () => {
    const t = await setUp();
    const script = [
      `import { WorkerPresence } from ${JSON.stringify(join(ROOT, 'agent/worker-presence.ts'))};`,
      `const p = new WorkerPresence({ url: process.env.URL, secret: process.env.SECRET,`,
      `  logger: { info() {}, warn() {}, error() {} } });`,
      `p.start(); p.add(${JSON.stringify(A)}); setInterval(() => {}, 1000);`,
    ].join('\n');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: ROOT, env: { ...process.env, URL: t.url, SECRET }, stdio: 'ignore' },
    );
    try {
      await connected(1);
      await until('the room named', () => named().includes(A));
      child.kill('SIGKILL');
      // The pings' limit is a minute here: only the closed connection can have told the guard.
      await until('the room ended', () => t.rooms.deleted.includes(A), 10_000);
    } finally {
      child.kill('SIGKILL');
    }
  }, 20_000);
});
