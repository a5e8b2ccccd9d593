// The console's OpenID Connect sign-in, through openid-client unchanged, against a stand-in
// provider on loopback that speaks the protocol's code flow: discovery, the authorization
// redirect, the token endpoint (PKCE checked) and an RS256-signed ID token with a groups claim.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadUseCases } from '../../contracts/use-cases.js';
import bundledUseCases from '../../contracts/use-cases.json' with { type: 'json' };
import { loadConsoleConfig } from '../../console/config.js';
import { type ConsoleServer, startConsoleServer } from '../../console/server.js';
import { freePort } from '../../lab/stack/net.js';

const CLIENT_ID = 'callbridge-console';
const CLIENT_SECRET = 'console-client-secret';
const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** The next sign-in's user: its groups claim, or a tampering of the callback. */
let nextUser: { sub: string; name: string; groups?: string[] } = { sub: 'u1', name: 'Ann' };

function standInProvider(): Promise<{ server: Server; issuer: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };
  const codes = new Map<string, { nonce: string; challenge: string }>();
  let issuer = '';
  const idToken = (nonce: string) => {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: 'RS256', kid: 'k1', typ: 'JWT' }));
    const claims = { iss: issuer, aud: CLIENT_ID, iat: now, exp: now + 300, nonce, ...nextUser };
    const body = `${header}.${b64url(JSON.stringify(claims))}`;
    return `${body}.${b64url(sign('sha256', Buffer.from(body), privateKey))}`;
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url!, issuer);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      });
    }
    if (url.pathname === '/jwks') return json(200, { keys: [jwk] });
    if (url.pathname === '/authorize') {
      // A user who is signed in at the provider already: straight back with a code.
      const q = url.searchParams;
      expect(q.get('client_id')).toBe(CLIENT_ID);
      expect(q.get('code_challenge_method')).toBe('S256');
      const code = randomBytes(16).toString('hex');
      codes.set(code, { nonce: q.get('nonce')!, challenge: q.get('code_challenge')! });
      const back = new URL(q.get('redirect_uri')!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.get('state')!);
      res.writeHead(302, { location: back.href });
      return res.end();
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const form = new URLSearchParams(raw);
        const basic = Buffer.from(
          (req.headers.authorization ?? '').replace(/^Basic /, ''),
          'base64',
        ).toString();
        const secretOk =
          form.get('client_secret') === CLIENT_SECRET || basic === `${CLIENT_ID}:${CLIENT_SECRET}`;
        const grant = codes.get(form.get('code') ?? '');
        codes.delete(form.get('code') ?? '');
        const verifier = form.get('code_verifier') ?? '';
        if (
          !secretOk ||
          !grant ||
          b64url(createHash('sha256').update(verifier).digest()) !== grant.challenge
        ) {
          return json(400, { error: 'invalid_grant' });
        }
        json(200, {
          access_token: 'at',
          token_type: 'Bearer',
          expires_in: 300,
          id_token: idToken(grant.nonce),
        });
      });
      return;
    }
    json(404, { error: 'not_found' });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve({ server, issuer });
    }),
  );
}

let provider: Server;
let console_: ConsoleServer;

beforeAll(async () => {
  const p = await standInProvider();
  provider = p.server;
  const port = await freePort('tcp');
  console_ = await startConsoleServer({
    config: loadConsoleConfig({
      CONSOLE_AUTH: 'oidc',
      CONSOLE_PORT: String(port),
      CONSOLE_PUBLIC_URL: `http://127.0.0.1:${port}`,
      OIDC_ISSUER_URL: p.issuer,
      OIDC_CLIENT_ID: CLIENT_ID,
      OIDC_CLIENT_SECRET: CLIENT_SECRET,
    }),
    livekit: { url: 'ws://127.0.0.1:7880', apiKey: 'k', apiSecret: 's'.repeat(32) },
    useCases: loadUseCases(undefined, bundledUseCases),
    web: { js: Buffer.from(''), gzipped: Buffer.from('') },
    rooms: { listRooms: async () => [], listParticipants: async () => [] } as never,
    logger: pino({ level: 'silent' }),
  });
});
afterAll(async () => {
  await console_?.close();
  provider?.close();
});

const get = (url: string, cookie?: string) =>
  fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
const cookieOf = (res: Response) => res.headers.get('set-cookie')?.split(';')[0];

/** The browser's way through the flow: console → provider → console; the last response. */
async function signIn(tamper?: (callback: URL) => void): Promise<Response> {
  const start = await get(`${console_.url}/signin`);
  expect(start.status).toBe(302);
  const flow = cookieOf(start)!;
  expect(start.headers.get('set-cookie')).toMatch(/HttpOnly/);
  const atProvider = await get(start.headers.get('location')!);
  expect(atProvider.status).toBe(302);
  const callback = new URL(atProvider.headers.get('location')!);
  expect(callback.pathname).toBe('/signin/callback');
  tamper?.(callback);
  return get(callback.href, flow);
}

describe('OpenID Connect sign-in', () => {
  it('sends a browser without a session to the provider', async () => {
    const res = await get(`${console_.url}/`);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/signin');
  });

  it('signs in a member of the supervisors group as a supervisor', async () => {
    nextUser = { sub: 'u-sup', name: 'Sam', groups: ['callbridge-supervisors', 'staff'] };
    const done = await signIn();
    expect(done.status).toBe(303);
    const session = cookieOf(done)!;
    const me = (await (await get(`${console_.url}/api/me`, session)).json()) as {
      user: { name: string; roles: string[] };
    };
    expect(me.user).toEqual({ name: 'Sam', roles: ['supervisor'] });
    expect((await get(`${console_.url}/api/calls`, session)).status).toBe(200);
  });

  it('refuses a user in neither group', async () => {
    nextUser = { sub: 'u-x', name: 'Xavier', groups: ['staff'] };
    const done = await signIn();
    expect(done.status).toBe(403);
    expect(done.headers.get('set-cookie')).toBeNull();
  });

  it('refuses a callback whose state was changed, or replayed', async () => {
    nextUser = { sub: 'u-dev', name: 'Dee', groups: ['callbridge-developers'] };
    const forged = await signIn((cb) => cb.searchParams.set('state', 'forged'));
    expect(forged.status).toBe(403);
    const noFlow = await get(`${console_.url}/signin/callback?code=x&state=y`);
    expect(noFlow.status).toBe(403);
  });
});
