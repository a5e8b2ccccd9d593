// The call guard's HTTP side and its assembly: livekit-server's signed webhooks in (POST
// /livekit/webhook, bodies of at most 64 KiB), the health of its sweep out (GET /healthz), the
// sweep running every interval. guard/main.ts runs it as a service; the lab runs it in-process.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createNoopMeter } from '@opentelemetry/api';
import { WebhookReceiver, type WebhookEvent } from 'livekit-server-sdk';
import { pino } from 'pino';
import { ROOM_PREFIX } from '../sip/livekit/definitions.js';
import { createGuardInstruments, type GuardInstruments } from '../otel/instruments.js';
import { type CallRecovery, GuardActions, type GuardLogger } from './actions.js';
import { LiveKitRooms, roomServiceClient, type RoomService } from './livekit-rooms.js';
import type { CallStore } from './open-calls.js';
import type { PresenceWatch } from './presence.js';
import { PRESENCE_PATH, presenceEndpoint, type PresenceOptions } from './presence-server.js';
import { Sweeper } from './sweep.js';
import { AgentLeftWatch } from './webhook.js';

export const WEBHOOK_PATH = '/livekit/webhook';
export const HEALTH_PATH = '/healthz';
/** livekit-server's events are a few KiB; anything this big is not one. */
export const MAX_WEBHOOK_BYTES = 64 * 1024;

export interface CallGuardServerOptions {
  /** http(s) URL of the LiveKit server API (unless `rooms` is given). */
  httpUrl?: string;
  /** The key and secret livekit-server signs its webhooks with (and the API's, unless `rooms`). */
  apiKey: string;
  apiSecret: string;
  /** The room service (default: a RoomServiceClient of `httpUrl`). */
  rooms?: RoomService;
  /** The SMA's calls; without them the sweep sees only LiveKit. */
  calls?: CallStore;
  /**
   * Chime's Voice API (and the calls table's records): fail over callers whose AI leg died without
   * a BYE, close the records of calls Chime no longer has. Without it the guard only deletes rooms.
   */
  recovery?: CallRecovery;
  /** Rooms of calls start with this (default: the dispatch rule's prefix and `_`). */
  roomPrefix?: string;
  /** How long a call room may be without an agent before the call is ended (default 3 s). */
  graceMs?: number;
  /** How often the sweep runs, ±20 % (default 10 s). */
  sweepIntervalMs?: number;
  /** Deadline of each LiveKit API request (default 2 s). */
  livekitTimeoutMs?: number;
  /** Worker presence (GUARD_PRESENCE_SECRET): workers connect to `presenceUrl`; off without. */
  presence?: PresenceOptions;
  instruments?: GuardInstruments;
  logger?: GuardLogger;
  host?: string;
  port?: number;
  /** Tests: the sweep's clock and jitter. */
  now?: () => number;
  random?: () => number;
}

/** The webhook side, as the lab and its tests see it. */
export interface CallGuard {
  /** Handles one verified webhook event. */
  handle(event: WebhookEvent): void;
  /** Rooms whose AI leg the guard ended because their agent was gone (logs and tests). */
  readonly ended: string[];
  close(): void;
}

export interface CallGuardServer {
  /** Where livekit-server posts its webhooks. */
  url: string;
  healthUrl: string;
  /** Where agent workers connect (ws://), with `presence`. */
  presenceUrl: string | undefined;
  /** The workers connected and the rooms they serve, with `presence`. */
  presence: PresenceWatch | undefined;
  guard: CallGuard;
  sweeper: Sweeper;
  stop(): Promise<void>;
}

class TooLarge extends Error {}

/** The body, or TooLarge past `limit` bytes (the rest is drained, not kept). */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > limit) {
      req.resume();
      reject(new TooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new TooLarge());
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown, close = false): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(JSON.stringify(body));
}

function webhookHandler(receiver: WebhookReceiver, watch: AgentLeftWatch, logger: GuardLogger) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    let body: string;
    try {
      body = await readBody(req, MAX_WEBHOOK_BYTES);
    } catch (err) {
      if (!(err instanceof TooLarge)) throw err;
      logger.warn(
        { reason: 'webhook_too_large', limitBytes: MAX_WEBHOOK_BYTES },
        'webhook refused',
      );
      json(res, 413, { error: 'body_too_large', limitBytes: MAX_WEBHOOK_BYTES }, true);
      return;
    }
    let event: WebhookEvent;
    try {
      event = await receiver.receive(body, req.headers.authorization);
    } catch (err) {
      // Unsigned, signed with another key, for another body, or malformed: nothing is done.
      const detail = (err as Error).message.slice(0, 200);
      logger.warn({ reason: 'webhook_refused', detail }, 'webhook refused');
      json(res, 401, { error: 'unauthorized' });
      return;
    }
    watch.handle(event);
    json(res, 200, { ok: true });
  };
}

function router(webhook: ReturnType<typeof webhookHandler>, sweeper: Sweeper, log: GuardLogger) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://guard').pathname;
    if (path === HEALTH_PATH && req.method === 'GET') {
      const h = sweeper.health();
      json(res, h.healthy ? 200 : 503, { status: h.healthy ? 'ok' : 'unhealthy', ...h });
    } else if (path === WEBHOOK_PATH && req.method === 'POST') {
      webhook(req, res).catch((err: unknown) => {
        log.error({ reason: 'webhook_error', detail: String(err).slice(0, 200) }, 'webhook failed');
        if (!res.headersSent) json(res, 400, { error: 'bad_request' }, true);
      });
    } else {
      const known = path === HEALTH_PATH || path === WEBHOOK_PATH;
      json(res, known ? 405 : 404, { error: known ? 'method_not_allowed' : 'not_found' });
    }
  };
}

const loopback = (host: string) => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
const hostInUrl = (host: string) => (host.includes(':') ? `[${host}]` : host);

/** The guard's parts: what it does, its webhook path and its sweep. */
function assemble(opts: CallGuardServerOptions) {
  const timeoutMs = opts.livekitTimeoutMs ?? 2000;
  if (!opts.rooms && !opts.httpUrl) throw new Error('the call guard needs httpUrl or rooms');
  const service =
    opts.rooms ?? roomServiceClient(opts.httpUrl!, opts.apiKey, opts.apiSecret, timeoutMs);
  const instruments = opts.instruments ?? createGuardInstruments(createNoopMeter());
  const logger = opts.logger ?? pino({ level: 'silent' });
  const rooms = new LiveKitRooms(service, timeoutMs);
  const actions = new GuardActions(rooms, instruments, logger, opts.recovery);
  const roomPrefix = opts.roomPrefix ?? `${ROOM_PREFIX}_`;
  const graceMs = opts.graceMs ?? 3000;
  const watch = new AgentLeftWatch(actions, { roomPrefix, graceMs });
  const sweeper = new Sweeper(actions, opts.calls, instruments, {
    roomPrefix,
    graceMs,
    intervalMs: opts.sweepIntervalMs ?? 10_000,
    now: opts.now,
    random: opts.random,
  });
  return { actions, logger, watch, sweeper, roomPrefix };
}

/** The guard behind its HTTP endpoint, on loopback by default, its sweep started. */
export async function startCallGuardServer(opts: CallGuardServerOptions): Promise<CallGuardServer> {
  const { actions, logger, watch, sweeper, roomPrefix } = assemble(opts);
  const receiver = new WebhookReceiver(opts.apiKey, opts.apiSecret);
  const server = createServer(router(webhookHandler(receiver, watch, logger), sweeper, logger));
  // On the same port: the load balancer, the network policy and the health probe are the guard's.
  const presence = opts.presence && presenceEndpoint(actions, { ...opts.presence, roomPrefix });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!presence?.upgrade(req, socket, head)) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    }
  });
  // A slow or stalled client cannot hold a connection open for long.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const base = `http://${hostInUrl(loopback(host))}:${port}`;
  sweeper.start();
  return {
    url: `${base}${WEBHOOK_PATH}`,
    healthUrl: `${base}${HEALTH_PATH}`,
    presenceUrl: presence ? `${base.replace(/^http/, 'ws')}${PRESENCE_PATH}` : undefined,
    presence: presence?.watch,
    guard: { handle: (e) => watch.handle(e), ended: actions.ended, close: () => watch.close() },
    sweeper,
    async stop() {
      presence?.close();
      watch.close();
      await sweeper.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
