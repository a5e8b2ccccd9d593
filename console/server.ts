// The operator console's server (node:http): sign-in, the pages, and the few API routes the pages
// call. Every page and every API route needs a session; each LiveKit token is minted here for one
// room, one identity and one action (console/grants.ts), and the API secret never leaves it.
//
//   GET  /                      the console (signed in), else 401 (local) or the provider (OIDC)
//   GET  /app.js                its script (livekit-client inside)
//   GET  /signin[?code=…]       local: spends a one-time link; OIDC: starts the code flow
//   GET  /signin/callback       OIDC: the provider's redirect back
//   POST /signout
//   GET  /api/me                the user, roles, use cases, LiveKit's URL
//   GET  /api/calls             supervisor: the calls in progress
//   POST /api/calls/token       supervisor: {room, action: listen|barge} → a token for that call
//   POST /api/dev-rooms         developer: {useCase} → a dev room with the agent, and a token
//   POST /api/outbound-calls    dialer: {useCase, to} → a call to `to`, bridged to the agent
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChimeSDKVoiceClient } from '@aws-sdk/client-chime-sdk-voice';
import { RoomServiceClient } from 'livekit-server-sdk';
import type { Logger } from 'pino';
import * as z from 'zod';
import { CONSOLE_ROLES, type ConsoleRole } from '../contracts/console.js';
import { useCaseId } from '../contracts/ids.js';
import type { UseCaseCatalog } from '../contracts/use-cases.js';
import { createDevRoom } from '../sip/livekit/dev-room.js';
import {
  SESSION_COOKIE,
  Sessions,
  clearedCookie,
  cookieOf,
  sessionCookie,
  type ConsoleUser,
  type Session,
} from './auth.js';
import type { WebBundle } from './bundle.js';
import {
  type CallRecordReader,
  type RoomsApi,
  CALL_ROOM_PREFIX,
  isLiveCallRoom,
  listLiveCalls,
} from './calls.js';
import type { ConsoleConfig } from './config.js';
import { mintToken } from './grants.js';
import { FLOW_COOKIE, OidcSignIn } from './oidc.js';
import { OutboundRefused, checkOutboundCall, placeOutboundCall } from './outbound.js';
import { pageHtml, signInHtml } from './web/page.js';

export interface LiveKitServer {
  /** ws:// or wss://: what browsers connect to. */
  url: string;
  apiKey: string;
  apiSecret: string;
}

export interface ConsoleDeps {
  config: ConsoleConfig;
  livekit: LiveKitServer;
  useCases: UseCaseCatalog;
  web: WebBundle;
  /** The SMA's call records (phase, use case), when the console has the calls table. */
  records?: CallRecordReader;
  /** Chime SDK Voice: outbound calls ("Call me"), when SMA_APPLICATION_ID is set. */
  voice?: Pick<ChimeSDKVoiceClient, 'send'>;
  /** LiveKit's room service (default: a RoomServiceClient for `livekit`). */
  rooms?: RoomsApi;
  /** The clock of sessions and links (tests). */
  now?: () => number;
  logger: Logger;
}

export interface ConsoleServer {
  url: string;
  sessions: Sessions;
  /** A one-time sign-in link (local sign-in): opens a session with these roles, once. */
  signInLink(user?: Partial<ConsoleUser>): string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const tokenRequest = z.strictObject({
  room: z.string().startsWith(CALL_ROOM_PREFIX).max(128),
  action: z.enum(['listen', 'barge']),
});
const devRoomRequest = z.strictObject({ useCase: useCaseId });
const outboundRequest = z.strictObject({ useCase: useCaseId, to: z.string().trim().max(32) });

const MAX_BODY = 4096;
/** Dev rooms one user may start in DEV_ROOM_WINDOW_MS: each holds an agent job until it closes. */
const DEV_ROOMS_PER_WINDOW = 10;
const DEV_ROOM_WINDOW_MS = 10 * 60_000;
/** Outbound calls one user may place in OUTBOUND_WINDOW_MS: each rings a real phone and costs. */
const OUTBOUND_CALLS_PER_WINDOW = 5;
const OUTBOUND_WINDOW_MS = 10 * 60_000;

export async function startConsoleServer(deps: ConsoleDeps): Promise<ConsoleServer> {
  const { config, livekit } = deps;
  const sessions = new Sessions(config.sessionSeconds, deps.now);
  const oidc = config.auth.mode === 'oidc' ? new OidcSignIn(config.auth) : undefined;
  const httpUrl = livekit.url.replace(/^ws/, 'http');
  const rooms: RoomsApi =
    deps.rooms ?? new RoomServiceClient(httpUrl, livekit.apiKey, livekit.apiSecret);
  const secure = config.publicUrl?.protocol === 'https:';
  const clock = deps.now ?? Date.now;
  /** Counts an action against the user's window, or refuses it (429 with `refusal`). */
  const perUserLimit = (max: number, windowMs: number, refusal: string) => {
    const started = new Map<string, number[]>();
    return (userId: string) => {
      const since = clock() - windowMs;
      const recent = (started.get(userId) ?? []).filter((t) => t > since);
      if (recent.length >= max) throw new HttpError(429, refusal);
      started.set(userId, [...recent, clock()]);
    };
  };
  const admitDevRoom = perUserLimit(
    DEV_ROOMS_PER_WINDOW,
    DEV_ROOM_WINDOW_MS,
    'too many dev rooms in ten minutes; leave one and wait',
  );
  const admitOutboundCall = perUserLimit(
    OUTBOUND_CALLS_PER_WINDOW,
    OUTBOUND_WINDOW_MS,
    `at most ${OUTBOUND_CALLS_PER_WINDOW} outbound calls in ten minutes; wait a little`,
  );
  const outboundOn = deps.voice !== undefined && config.smaApplicationId !== undefined;
  const csp = [
    "default-src 'self'",
    `connect-src 'self' ${livekit.url} ${httpUrl}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "media-src 'self' blob:",
    "frame-ancestors 'none'",
  ].join('; ');

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer) => {
    res.writeHead(status, {
      'content-type': type,
      'cache-control': 'no-store',
      'content-security-policy': csp,
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
    });
    res.end(body);
  };
  const json = (res: ServerResponse, status: number, body: unknown) =>
    send(res, status, 'application/json', JSON.stringify(body));

  const needs = (session: Session | undefined, role: ConsoleRole): Session => {
    if (!session) throw new HttpError(401, 'sign in first');
    if (!session.user.roles.includes(role)) throw new HttpError(403, `needs the ${role} role`);
    return session;
  };

  /** LiveKit's answer, or a 502 that says LiveKit did not give one (the cause is logged). */
  async function upstream<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (e) {
      deps.logger.warn({ err: (e as Error).message }, 'LiveKit request failed');
      throw new HttpError(502, 'LiveKit did not answer; try again');
    }
  }

  async function api(req: IncomingMessage, res: ServerResponse, path: string, s?: Session) {
    if (!s) throw new HttpError(401, 'sign in first');
    if (req.method === 'GET' && path === '/api/me') {
      return json(res, 200, {
        user: { name: s.user.name, roles: s.user.roles },
        livekitUrl: livekit.url,
        useCases: deps.useCases.all.map((u) => ({
          id: u.id,
          name: u.name,
          outbound: u.outbound?.allowed === true,
        })),
        outboundCalls: outboundOn,
      });
    }
    if (req.method === 'GET' && path === '/api/calls') {
      needs(s, 'supervisor');
      const now = clock();
      const calls = await upstream(listLiveCalls(rooms, deps.records, now));
      return json(res, 200, {
        calls: calls.map((c) => ({ ...c, durationMs: Math.max(0, now - c.startedAt) })),
      });
    }
    if (req.method !== 'POST') throw new HttpError(404, 'no such route');
    const body = await readJson(req);
    if (path === '/api/calls/token') {
      needs(s, 'supervisor');
      const r = parse(tokenRequest, body);
      if (!(await isLiveCallRoom(rooms, r.room))) throw new HttpError(404, 'no such live call');
      const minted = await mintToken(
        livekit,
        { action: r.action, room: r.room, userId: s.user.id, userName: s.user.name },
        config.tokenTtlSeconds,
      );
      deps.logger.info({ room: r.room, action: r.action, user: s.user.id }, 'call token minted');
      return json(res, 200, { ...minted, url: livekit.url });
    }
    if (path === '/api/dev-rooms') {
      needs(s, 'developer');
      const r = parse(devRoomRequest, body);
      if (!deps.useCases.byIdOrUndefined(r.useCase)) throw new HttpError(400, 'unknown use case');
      admitDevRoom(s.user.id);
      const dev = await upstream(
        createDevRoom(livekit, {
          agentName: config.agentName,
          useCase: r.useCase,
          ttlSeconds: config.tokenTtlSeconds,
        }),
      );
      const minted = await mintToken(
        livekit,
        {
          action: 'talk',
          room: dev.room,
          userId: s.user.id,
          userName: s.user.name,
          useCase: r.useCase,
        },
        config.tokenTtlSeconds,
      );
      deps.logger.info({ room: dev.room, useCase: r.useCase, user: s.user.id }, 'dev room');
      return json(res, 200, { ...minted, url: livekit.url, useCase: r.useCase });
    }
    if (path === '/api/outbound-calls') {
      needs(s, 'dialer');
      const r = parse(outboundRequest, body);
      if (!outboundOn) {
        throw new HttpError(
          503,
          'this console places no outbound calls (SMA_APPLICATION_ID unset)',
        );
      }
      let call;
      try {
        call = checkOutboundCall(deps.useCases, r.useCase, r.to);
      } catch (e) {
        if (!(e instanceof OutboundRefused)) throw e;
        deps.logger.info(
          { useCase: r.useCase, user: s.user.id, reason: e.reason, pii: { to: r.to } },
          'outbound call refused',
        );
        throw new HttpError(e.status, e.message);
      }
      admitOutboundCall(s.user.id);
      let transactionId: string;
      try {
        transactionId = await placeOutboundCall(deps.voice!, config.smaApplicationId!, call);
      } catch (e) {
        deps.logger.warn(
          // Chime's message may quote the number: it goes with it, under pii.
          {
            useCase: call.useCase,
            user: s.user.id,
            err: (e as Error).name,
            pii: { to: call.to, detail: (e as Error).message },
          },
          'outbound call not placed',
        );
        throw new HttpError(502, 'Chime did not place the call; try again');
      }
      deps.logger.info(
        { useCase: call.useCase, user: s.user.id, transactionId, pii: { to: call.to } },
        'outbound call placed',
      );
      return json(res, 202, { transactionId, useCase: call.useCase });
    }
    throw new HttpError(404, 'no such route');
  }

  async function signIn(req: IncomingMessage, res: ServerResponse, url: URL) {
    if (url.pathname === '/signin/callback' && oidc) {
      try {
        const user = await oidc.finish(cookieOf(req, FLOW_COOKIE), callbackUrl(url));
        return openSession(res, sessions.open(user));
      } catch (e) {
        deps.logger.warn({ reason: (e as Error).message }, 'console sign-in refused');
        return send(res, 403, 'text/html', signInHtml(`Sign-in refused: ${(e as Error).message}`));
      }
    }
    if (oidc) {
      const flow = await oidc.start();
      res.writeHead(302, {
        location: flow.redirect.href,
        'set-cookie': `${FLOW_COOKIE}=${flow.flowId}; Path=/signin; HttpOnly; SameSite=Lax; Max-Age=${flow.maxAgeSeconds}${secure ? '; Secure' : ''}`,
        'cache-control': 'no-store',
      });
      return res.end();
    }
    const code = url.searchParams.get('code');
    const id = code ? sessions.redeemLink(code) : undefined;
    if (!id) {
      const why = code
        ? 'This sign-in link has been used or has expired.'
        : 'Sign in with the one-time link that `npm run console` printed.';
      return send(res, 401, 'text/html', signInHtml(why));
    }
    return openSession(res, id);
  }

  /** The callback URL as the provider built it (the public address, not the one behind a proxy). */
  const callbackUrl = (url: URL) =>
    config.auth.mode === 'oidc' ? new URL(url.search, config.auth.redirectUri) : url;

  function openSession(res: ServerResponse, id: string) {
    res.writeHead(303, {
      location: '/',
      'set-cookie': sessionCookie(id, config.sessionSeconds, secure),
      'cache-control': 'no-store',
    });
    res.end();
  }

  function unauthenticatedPage(res: ServerResponse) {
    if (oidc) {
      res.writeHead(302, { location: '/signin', 'cache-control': 'no-store' });
      return res.end();
    }
    return send(
      res,
      401,
      'text/html',
      signInHtml('Sign in with the one-time link that `npm run console` printed.'),
    );
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    const path = url.pathname;
    if (path === '/signin' || path === '/signin/callback') return signIn(req, res, url);
    const session = sessions.get(cookieOf(req, SESSION_COOKIE));
    if (path.startsWith('/api/')) {
      if (req.method === 'POST') checkSameOrigin(req);
      return api(req, res, path, session);
    }
    if (path === '/signout' && req.method === 'POST') {
      checkSameOrigin(req);
      sessions.close(cookieOf(req, SESSION_COOKIE));
      res.writeHead(303, { location: '/signin', 'set-cookie': clearedCookie(secure) });
      return res.end();
    }
    if (req.method !== 'GET') throw new HttpError(405, 'method not allowed');
    if (!session) return unauthenticatedPage(res);
    if (path === '/') return send(res, 200, 'text/html; charset=utf-8', pageHtml());
    if (path === '/app.js') {
      const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      res.writeHead(200, {
        'content-type': 'text/javascript; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      });
      return res.end(gzip ? deps.web.gzipped : deps.web.js);
    }
    throw new HttpError(404, 'not found');
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : 500;
      if (status === 500) deps.logger.error({ err: e }, 'console request failed');
      const message = e instanceof HttpError ? e.message : 'internal error';
      if (!res.headersSent) json(res, status, { error: message });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = config.publicUrl?.origin ?? `http://${host}:${port}`;
  return {
    url,
    sessions,
    signInLink(user = {}) {
      const secret = sessions.issueLink({
        id: user.id ?? 'local',
        name: user.name ?? 'local developer',
        roles: user.roles ?? [...CONSOLE_ROLES],
      });
      return `${url}/signin?code=${secret}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A cross-site POST is refused: JSON only, and its Origin, when sent, must be this host's. */
function checkSameOrigin(req: IncomingMessage): void {
  const origin = req.headers.origin;
  if (origin !== undefined && URL.parse(origin)?.host !== req.headers.host) {
    throw new HttpError(403, 'cross-site request refused');
  }
  // A cross-site page cannot send JSON without a CORS preflight, which is never answered.
  if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
    throw new HttpError(415, 'send application/json');
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, 'request too large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new HttpError(400, 'the body is not JSON');
  }
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
    throw new HttpError(400, problems.join('; '));
  }
  return r.data;
}
