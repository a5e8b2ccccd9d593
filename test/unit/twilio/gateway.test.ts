// The gateway's server: the WebSocket handshake must carry Twilio's signature of the stream URL,
// a `start` without the webhook's call token closes the socket, and one stream's garbage or drop
// never touches another's. The LiveKit leg is a fake; the server and the sockets are real.
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { pino } from 'pino';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import bundled from '../../../contracts/use-cases.json' with { type: 'json' };
import { signCallToken } from '../../../contracts/call-token.js';
import { twilioTokenClaims } from '../../../contracts/twilio-call.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { admitAll } from '../../../lambdas/sma/admission/types.js';
import { fixedUseCases } from '../../../store/use-case-cache.js';
import { startTwilioGateway, type TwilioGateway } from '../../../twilio/gateway.js';
import type { CallerLeg } from '../../../twilio/stream-session.js';
import fixtures from '../../fixtures/twilio/media-stream.json' with { type: 'json' };

const AUTH = 'an-auth-token-of-thirty-two-chars';
const SECRET = 'a-call-token-secret-of-at-least-32-bytes!';
const { accountSid, callSid } = fixtures.start.start;

let gateway: TwilioGateway;
let streamUrl: string;
const legs: { heard: number; closed: boolean }[] = [];

beforeAll(async () => {
  const logger = pino({ level: 'silent' });
  // The stream URL Twilio signs is the configured one: here, the server's own address.
  const deps = {
    accountSid,
    authToken: AUTH,
    publicUrl: 'http://127.0.0.1',
    streamUrl: '',
    useCases: fixedUseCases(parseUseCases(bundled)),
    admission: admitAll,
    callToken: { secret: SECRET, ttlMs: 60_000 },
    logger,
  };
  gateway = await startTwilioGateway({
    host: '127.0.0.1',
    port: 0,
    webhook: deps,
    session: {
      secret: SECRET,
      openLeg: async (): Promise<CallerLeg> => {
        const leg = { heard: 0, closed: false };
        legs.push(leg);
        return {
          sipCallId: 'test@callbridge',
          hear: () => void leg.heard++,
          digit: () => {},
          close: async () => void (leg.closed = true),
        };
      },
      logger,
    },
    logger,
  });
  streamUrl = `${gateway.url.replace('http', 'ws')}/twilio/stream`;
  deps.streamUrl = streamUrl;
});
afterAll(() => gateway.close());

function open(signature: string | undefined): Promise<WebSocket | number> {
  const ws = new WebSocket(streamUrl, {
    headers: signature !== undefined ? { 'x-twilio-signature': signature } : {},
  });
  return new Promise((resolve) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(0));
  });
}

const signed = () => getExpectedTwilioSignature(AUTH, streamUrl, {});
const closed = (ws: WebSocket) => new Promise<number>((r) => ws.once('close', (code) => r(code)));
const start = (token: string) => {
  const s = structuredClone(fixtures.start) as typeof fixtures.start & {
    start: { customParameters: Record<string, string> };
  };
  s.start.customParameters = { ...s.start.customParameters, callToken: token };
  return JSON.stringify(s);
};

describe('the Media Streams endpoint', () => {
  it('refuses a handshake without a valid Twilio signature (403)', async () => {
    expect(await open(undefined)).toBe(403);
    expect(await open('bm9wZQ==')).toBe(403);
    expect(await open(getExpectedTwilioSignature('x'.repeat(32), streamUrl, {}))).toBe(403);
  });

  it('closes a signed stream whose start has no valid call token, opening no leg', async () => {
    const ws = (await open(signed())) as WebSocket;
    const code = closed(ws);
    ws.send(JSON.stringify(fixtures.connected));
    ws.send(start('v1.1.forged'));
    expect(await code).toBe(1008);
    expect(legs).toHaveLength(0);
  });

  it('keeps a stream going while another sends garbage and drops: each ends on its own', async () => {
    const token = signCallToken(
      twilioTokenClaims(callSid, accountSid),
      Date.now() + 60_000,
      SECRET,
    );
    const good = (await open(signed())) as WebSocket;
    const bad = (await open(signed())) as WebSocket;
    good.send(JSON.stringify(fixtures.connected));
    good.send(start(token));
    bad.send(JSON.stringify(fixtures.connected));
    bad.send(start(token));
    await until(() => legs.length === 2);
    bad.send('{"event":"media"');
    bad.send(Buffer.from([1, 2, 3]));
    bad.terminate(); // dropped mid-call, no stop
    await until(() => legs.some((l) => l.closed));
    good.send(JSON.stringify(fixtures.media));
    await until(() => legs.some((l) => l.heard === 1 && !l.closed));
    const code = closed(good);
    good.send(JSON.stringify(fixtures.stop));
    expect(await code).toBe(1000);
    await until(() => legs.every((l) => l.closed));
    await until(() => gateway.sessions.size === 0);
  });
});

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
