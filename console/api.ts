// The console's API routes, behind a session (console/server.ts checks it and the same-origin
// rule). Each route checks its role, parses its body with zod, and mints at most one LiveKit token
// for one room, one identity and one action (console/grants.ts).
//
//   GET  /api/me                the user, roles, use cases, LiveKit's URL
//   GET  /api/calls             supervisor: the calls in progress
//   POST /api/calls/token       supervisor: {room, action: listen|barge} → a token for that call
//   POST /api/dev-rooms         developer: {useCase} → a dev room with the agent, and a token
//   POST /api/outbound-calls    dialer: {useCase, to} → a call to `to`, bridged to the agent
import type { IncomingMessage } from 'node:http';
import type { ChimeSDKVoiceClient } from '@aws-sdk/client-chime-sdk-voice';
import type { Logger } from 'pino';
import * as z from 'zod';
import type { ConsoleRole } from '../contracts/console.js';
import { useCaseId } from '../contracts/ids.js';
import type { UseCaseCatalog } from '../contracts/use-cases.js';
import { createDevRoom } from '../sip/livekit/dev-room.js';
import type { Session } from './auth.js';
import {
  type CallRecordReader,
  type RoomsApi,
  CALL_ROOM_PREFIX,
  isLiveCallRoom,
  listLiveCalls,
} from './calls.js';
import type { ConsoleConfig } from './config.js';
import { mintToken } from './grants.js';
import { HttpError, parse, perUserLimit, readJson } from './http.js';
import { OutboundRefused, checkOutboundCall, placeOutboundCall } from './outbound.js';

export interface LiveKitServer {
  /** ws:// or wss://: what browsers connect to. */
  url: string;
  apiKey: string;
  apiSecret: string;
}

export interface ApiDeps {
  config: ConsoleConfig;
  livekit: LiveKitServer;
  useCases: UseCaseCatalog;
  rooms: RoomsApi;
  /** The SMA's call records (phase, use case), when the console has the calls table. */
  records?: CallRecordReader;
  /** Chime SDK Voice: outbound calls ("Call me"), when SMA_APPLICATION_ID is set. */
  voice?: Pick<ChimeSDKVoiceClient, 'send'>;
  clock: () => number;
  logger: Logger;
}

/** A route's answer: the status and the JSON body. */
export interface ApiAnswer {
  status: number;
  body: unknown;
}

const tokenRequest = z.strictObject({
  room: z.string().startsWith(CALL_ROOM_PREFIX).max(128),
  action: z.enum(['listen', 'barge']),
});
const devRoomRequest = z.strictObject({ useCase: useCaseId });
const outboundRequest = z.strictObject({ useCase: useCaseId, to: z.string().trim().max(32) });

/** Dev rooms one user may start in DEV_ROOM_WINDOW_MS: each holds an agent job until it closes. */
const DEV_ROOMS_PER_WINDOW = 10;
const DEV_ROOM_WINDOW_MS = 10 * 60_000;
/** Outbound calls one user may place in OUTBOUND_WINDOW_MS: each rings a real phone and costs. */
const OUTBOUND_CALLS_PER_WINDOW = 5;
const OUTBOUND_WINDOW_MS = 10 * 60_000;

const needs = (session: Session, role: ConsoleRole): void => {
  if (!session.user.roles.includes(role)) throw new HttpError(403, `needs the ${role} role`);
};

/** The API's handler: the answer to one request under a session, or an HttpError. */
export function consoleApi(
  deps: ApiDeps,
): (req: IncomingMessage, path: string, session: Session | undefined) => Promise<ApiAnswer> {
  const { config, livekit, rooms, clock, logger } = deps;
  const admitDevRoom = perUserLimit(
    clock,
    DEV_ROOMS_PER_WINDOW,
    DEV_ROOM_WINDOW_MS,
    'too many dev rooms in ten minutes; leave one and wait',
  );
  const admitOutboundCall = perUserLimit(
    clock,
    OUTBOUND_CALLS_PER_WINDOW,
    OUTBOUND_WINDOW_MS,
    `at most ${OUTBOUND_CALLS_PER_WINDOW} outbound calls in ten minutes; wait a little`,
  );
  const outboundOn = deps.voice !== undefined && config.smaApplicationId !== undefined;

  /** LiveKit's answer, or a 502 that says LiveKit did not give one (the cause is logged). */
  async function upstream<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (e) {
      logger.warn({ err: (e as Error).message }, 'LiveKit request failed');
      throw new HttpError(502, 'LiveKit did not answer; try again');
    }
  }

  async function callToken(s: Session, body: unknown): Promise<ApiAnswer> {
    needs(s, 'supervisor');
    const r = parse(tokenRequest, body);
    if (!(await isLiveCallRoom(rooms, r.room))) throw new HttpError(404, 'no such live call');
    const minted = await mintToken(
      livekit,
      { action: r.action, room: r.room, userId: s.user.id, userName: s.user.name },
      config.tokenTtlSeconds,
    );
    logger.info({ room: r.room, action: r.action, user: s.user.id }, 'call token minted');
    return { status: 200, body: { ...minted, url: livekit.url } };
  }

  async function devRoom(s: Session, body: unknown): Promise<ApiAnswer> {
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
    logger.info({ room: dev.room, useCase: r.useCase, user: s.user.id }, 'dev room');
    return { status: 200, body: { ...minted, url: livekit.url, useCase: r.useCase } };
  }

  async function outboundCall(s: Session, body: unknown): Promise<ApiAnswer> {
    needs(s, 'dialer');
    const r = parse(outboundRequest, body);
    if (!outboundOn) {
      throw new HttpError(503, 'this console places no outbound calls (SMA_APPLICATION_ID unset)');
    }
    let call;
    try {
      call = checkOutboundCall(deps.useCases, r.useCase, r.to);
    } catch (e) {
      if (!(e instanceof OutboundRefused)) throw e;
      logger.info(
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
      logger.warn(
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
    logger.info(
      { useCase: call.useCase, user: s.user.id, transactionId, pii: { to: call.to } },
      'outbound call placed',
    );
    return { status: 202, body: { transactionId, useCase: call.useCase } };
  }

  const posts: Record<string, (s: Session, body: unknown) => Promise<ApiAnswer>> = {
    '/api/calls/token': callToken,
    '/api/dev-rooms': devRoom,
    '/api/outbound-calls': outboundCall,
  };

  return async (req, path, s) => {
    if (!s) throw new HttpError(401, 'sign in first');
    if (req.method === 'GET' && path === '/api/me') {
      return {
        status: 200,
        body: {
          user: { name: s.user.name, roles: s.user.roles },
          livekitUrl: livekit.url,
          useCases: deps.useCases.all.map((u) => ({
            id: u.id,
            name: u.name,
            outbound: u.outbound?.allowed === true,
          })),
          outboundCalls: outboundOn,
        },
      };
    }
    if (req.method === 'GET' && path === '/api/calls') {
      needs(s, 'supervisor');
      const now = clock();
      const calls = await upstream(listLiveCalls(rooms, deps.records, now));
      return {
        status: 200,
        body: { calls: calls.map((c) => ({ ...c, durationMs: Math.max(0, now - c.startedAt) })) },
      };
    }
    const route = Object.hasOwn(posts, path) ? posts[path] : undefined;
    if (req.method !== 'POST' || !route) throw new HttpError(404, 'no such route');
    return route(s, await readJson(req));
  };
}
