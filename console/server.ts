// The operator console's server (node:http): sign-in, the pages, and the API routes the pages
// call (console/api.ts). Every page and every API route needs a session; each LiveKit token is
// minted for one room, one identity and one action (console/grants.ts), and the API secret never
// leaves the server.
//
//   GET  /                      the console (signed in), else 401 (local) or the provider (OIDC)
//   GET  /app.js                its script (livekit-client inside)
//   GET  /signin[?code=…]       local: spends a one-time link; OIDC: starts the code flow
//   GET  /signin/callback       OIDC: the provider's redirect back
//   POST /signout
//   /api/…                      console/api.ts
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChimeSDKVoiceClient } from '@aws-sdk/client-chime-sdk-voice';
import { RoomServiceClient } from 'livekit-server-sdk';
import type { Logger } from 'pino';
import { CONSOLE_ROLES } from '../contracts/console.js';
import type { UseCaseCatalog } from '../contracts/use-cases.js';
import { type LiveKitServer, consoleApi } from './api.js';
import {
  SESSION_COOKIE,
  Sessions,
  clearedCookie,
  cookieOf,
  sessionCookie,
  type ConsoleUser,
} from './auth.js';
import type { WebBundle } from './bundle.js';
import type { CallRecordReader, RoomsApi } from './calls.js';
import type { ConsoleConfig } from './config.js';
import { HttpError, checkSameOrigin } from './http.js';
import { FLOW_COOKIE, OidcSignIn } from './oidc.js';
import { pageHtml, signInHtml } from './web/page.js';

export type { LiveKitServer } from './api.js';

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

export async function startConsoleServer(deps: ConsoleDeps): Promise<ConsoleServer> {
  const { config, livekit } = deps;
  const sessions = new Sessions(config.sessionSeconds, deps.now);
  const oidc = config.auth.mode === 'oidc' ? new OidcSignIn(config.auth) : undefined;
  const httpUrl = livekit.url.replace(/^ws/, 'http');
  const rooms: RoomsApi =
    deps.rooms ?? new RoomServiceClient(httpUrl, livekit.apiKey, livekit.apiSecret);
  const secure = config.publicUrl?.protocol === 'https:';
  const clock = deps.now ?? Date.now;
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

  const api = consoleApi({
    config,
    livekit,
    useCases: deps.useCases,
    rooms,
    records: deps.records,
    voice: deps.voice,
    clock,
    logger: deps.logger,
  });

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
      const answer = await api(req, path, session);
      return json(res, answer.status, answer.body);
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
