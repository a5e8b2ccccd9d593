import { createHash } from 'node:crypto';
import { AccessToken } from 'livekit-server-sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCallGuardServer } from '../../../sip/livekit/call-guard.js';

const KEY = 'devkey';
const SECRET = 'callbridge-local-development-secret-0001';
let server: Awaited<ReturnType<typeof startCallGuardServer>>;

beforeAll(async () => {
  // No LiveKit server behind it: these events never reach the point of calling one.
  server = await startCallGuardServer({
    httpUrl: 'http://127.0.0.1:9',
    apiKey: KEY,
    apiSecret: SECRET,
  });
});
afterAll(async () => {
  await server.stop();
});

async function post(body: string, auth?: string): Promise<number> {
  const res = await fetch(server.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/webhook+json',
      ...(auth ? { authorization: auth } : {}),
    },
    body,
  });
  return res.status;
}

async function signed(body: string, secret = SECRET): Promise<string> {
  const at = new AccessToken(KEY, secret);
  at.sha256 = createHash('sha256').update(body).digest('base64');
  return at.toJwt();
}

it('refuses webhooks that are unsigned, signed with another secret, or for another body', async () => {
  const body = JSON.stringify({ event: 'participant_left', room: { name: 'call_x' } });
  expect(await post(body)).toBe(401);
  expect(await post(body, await signed(body, 'x'.repeat(40)))).toBe(401);
  expect(await post(body, await signed(`${body} `))).toBe(401);
});

it('accepts a signed event and leaves calls alone when a participant other than the agent leaves', async () => {
  const body = JSON.stringify({
    event: 'participant_left',
    id: 'EV_1',
    room: { name: 'call_+12025550132_abc' },
    participant: { identity: 'sip_+15550100999', kind: 'SIP' },
  });
  expect(await post(body, await signed(body))).toBe(200);
  await new Promise((r) => setTimeout(r, 50));
  expect(server.guard.ended).toEqual([]);
});
