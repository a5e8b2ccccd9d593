// The console's server on a loopback port, LiveKit's room service faked: every page and API route
// needs a session; one-time links work once; roles gate the routes; tokens are minted only for a
// live call's room; cross-site and malformed requests are refused.
import { gzipSync } from 'node:zlib';
import { TokenVerifier } from 'livekit-server-sdk';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadUseCases } from '../../../contracts/use-cases.js';
import bundledUseCases from '../../../contracts/use-cases.json' with { type: 'json' };
import { loadConsoleConfig } from '../../../console/config.js';
import type { RoomsApi } from '../../../console/calls.js';
import { type ConsoleServer, startConsoleServer } from '../../../console/server.js';

const livekit = {
  url: 'ws://127.0.0.1:7880',
  apiKey: 'APIconsoletest',
  apiSecret: 'a-secret-of-at-least-thirty-two-characters',
};
const LIVE = 'call_+15550100311_live';
let livekitDown = false;
const rooms = {
  listRooms: async () => {
    if (livekitDown) throw new Error('connect ECONNREFUSED 127.0.0.1:7880');
    return [{ name: LIVE, creationTime: BigInt(Math.floor(Date.now() / 1000)) }];
  },
  listParticipants: async (room: string) =>
    room === LIVE
      ? [
          {
            kind: 3,
            state: 2,
            identity: 'sip_x',
            attributes: { 'sma.transactionId': 'tx-1', 'call.useCase': 'city-311' },
          },
          {
            kind: 4,
            state: 2,
            identity: 'agent',
            attributes: {
              'callbridge.ttfaMs': '812',
              'callbridge.turns': '3',
              'callbridge.lastTurnMs': '901',
              'callbridge.medianTurnMs': '870',
            },
          },
        ]
      : [],
} as unknown as RoomsApi;

let now = Date.now();
let server: ConsoleServer;
beforeAll(async () => {
  server = await startConsoleServer({
    config: loadConsoleConfig({ CONSOLE_PORT: '0', CONSOLE_SESSION_SECONDS: '600' }),
    livekit,
    useCases: loadUseCases(undefined, bundledUseCases),
    web: { js: Buffer.from('/* app */'), gzipped: gzipSync('/* app */') },
    rooms,
    records: {
      read: async () => ({ UseCase: 'city-311', Phase: 'ai_connected', AnsweredAt: now - 5000 }),
    },
    logger: pino({ level: 'silent' }),
    now: () => now,
  });
});
afterAll(() => server.close());

const get = (path: string, cookie?: string) =>
  fetch(`${server.url}${path}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
const post = (path: string, body: unknown, cookie?: string, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}), ...headers },
    body: JSON.stringify(body),
  });

async function signIn(roles?: ('developer' | 'supervisor')[]): Promise<string> {
  const link = new URL(server.signInLink({ roles }));
  const res = await get(link.pathname + link.search);
  expect(res.status).toBe(303);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

describe('console server', () => {
  it('refuses every page and API route without a session', async () => {
    for (const path of ['/', '/app.js', '/api/me', '/api/calls']) {
      expect((await get(path)).status, path).toBe(401);
    }
    expect((await post('/api/calls/token', { room: LIVE, action: 'listen' })).status).toBe(401);
    expect((await post('/api/dev-rooms', { useCase: 'city-311' })).status).toBe(401);
  });

  it('a one-time link signs in once, and the session opens the pages', async () => {
    const link = new URL(server.signInLink());
    const first = await get(link.pathname + link.search);
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/');
    const cookie = first.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect((await get(link.pathname + link.search)).status).toBe(401);
    const session = cookie.split(';')[0]!;
    expect((await get('/', session)).status).toBe(200);
    expect(await (await get('/app.js', session)).text()).toBe('/* app */');
    const me = (await (await get('/api/me', session)).json()) as { user: { roles: string[] } };
    expect(me.user.roles).toEqual(['developer', 'supervisor', 'dialer']);
    expect(JSON.stringify(me)).not.toContain(livekit.apiSecret);
  });

  it('lists live calls to a supervisor, without numbers or tokens', async () => {
    const session = await signIn(['supervisor']);
    const res = await get('/api/calls', session);
    const { calls } = (await res.json()) as { calls: Record<string, unknown>[] };
    expect(calls).toEqual([
      expect.objectContaining({
        room: LIVE,
        useCase: 'city-311',
        phase: 'ai_connected',
        agentPresent: true,
        durationMs: 5000,
        ttfaMs: 812,
        turns: 3,
        lastTurnMs: 901,
        medianTurnMs: 870,
      }),
    ]);
  });

  it('mints a listen token for a live call only, for that room only', async () => {
    const session = await signIn(['supervisor']);
    const ok = await post('/api/calls/token', { room: LIVE, action: 'listen' }, session);
    expect(ok.status).toBe(200);
    const minted = (await ok.json()) as { token: string; url: string };
    const claims = await new TokenVerifier(livekit.apiKey, livekit.apiSecret).verify(minted.token);
    expect(claims.video).toMatchObject({ room: LIVE, canPublish: false, hidden: true });
    expect(minted.url).toBe(livekit.url);
    const gone = await post(
      '/api/calls/token',
      { room: 'call_+15550100311_gone', action: 'listen' },
      session,
    );
    expect(gone.status).toBe(404);
    const devRoom = await post('/api/calls/token', { room: 'dev-abcd', action: 'barge' }, session);
    expect(devRoom.status).toBe(400);
    const admin = await post('/api/calls/token', { room: LIVE, action: 'admin' }, session);
    expect(admin.status).toBe(400);
  });

  it('gates routes by role', async () => {
    const developer = await signIn(['developer']);
    expect((await get('/api/calls', developer)).status).toBe(403);
    expect(
      (await post('/api/calls/token', { room: LIVE, action: 'listen' }, developer)).status,
    ).toBe(403);
    const supervisor = await signIn(['supervisor']);
    expect((await post('/api/dev-rooms', { useCase: 'city-311' }, supervisor)).status).toBe(403);
  });

  it('refuses cross-site and non-JSON requests', async () => {
    const session = await signIn(['supervisor']);
    const cross = await post('/api/calls/token', { room: LIVE, action: 'listen' }, session, {
      origin: 'https://evil.example',
    });
    expect(cross.status).toBe(403);
    const form = await fetch(`${server.url}/api/calls/token`, {
      method: 'POST',
      headers: { cookie: session, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'room=x&action=listen',
    });
    expect(form.status).toBe(415);
  });

  it('limits the dev rooms one user starts', async () => {
    const developer = await signIn(['developer']);
    // LiveKit is not running here: each admitted request fails upstream (502) after counting.
    const statuses = [];
    for (let i = 0; i < 11; i++) {
      statuses.push((await post('/api/dev-rooms', { useCase: 'city-311' }, developer)).status);
    }
    expect(statuses.slice(0, 10).every((s) => s === 502)).toBe(true);
    expect(statuses[10]).toBe(429);
    expect((await post('/api/dev-rooms', { useCase: 'nope' }, developer)).status).toBe(400);
  });

  it('says LiveKit did not answer, rather than failing', async () => {
    const session = await signIn(['supervisor']);
    livekitDown = true;
    try {
      const res = await get('/api/calls', session);
      expect(res.status).toBe(502);
      expect(await res.json()).toEqual({ error: 'LiveKit did not answer; try again' });
    } finally {
      livekitDown = false;
    }
  });

  it('refuses an expired session', async () => {
    const session = await signIn(['supervisor']);
    now += 601_000;
    try {
      expect((await get('/api/calls', session)).status).toBe(401);
      expect((await get('/', session)).status).toBe(401);
    } finally {
      now -= 601_000;
    }
  });
});
