// Worker presence on the guard's own HTTP server: agent workers connect with a WebSocket upgrade
// of `GET /workers/presence`, authorized by the shared secret (GUARD_PRESENCE_SECRET, as a bearer
// token), frames of at most 16 KiB. What the messages mean and when a worker is lost: presence.ts.
// A lost worker's rooms are ended as for any lost agent (actions.ts endRoom), which is safe to race
// with other replicas, the webhook path and the sweep.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { GuardActions } from './actions.js';
import {
  PresenceMessage,
  PresenceWatch,
  type LossCause,
  type PresenceSession,
  type PresenceWatchOptions,
} from './presence.js';

export const PRESENCE_PATH = '/workers/presence';
/** A hello with every room of a full worker fits; nothing a worker says is bigger. */
export const MAX_PRESENCE_FRAME_BYTES = 16 * 1024;
/** Connections at once: far more workers than one deployment runs. */
const MAX_CONNECTIONS = 1000;
const CHECK_EVERY_MS = 250;
/** A room whose deletion failed is tried once more this much later. */
const RETRY_MS = 500;

export interface PresenceOptions {
  /** The shared secret workers present (GUARD_PRESENCE_SECRET). */
  secret: string;
  silentAfterMs?: number;
  reconnectGraceMs?: number;
}

export interface PresenceEndpoint {
  watch: PresenceWatch;
  /** Handles an upgrade on the presence path; false for any other path. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  close(): void;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** True when the request carries the secret (compared in constant time; never logged). */
export function authorized(header: string | undefined, secretDigest: Buffer): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  return m !== null && timingSafeEqual(digest(m[1]!), secretDigest);
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}

/** Ends a lost worker's rooms, each retried once; logs what it did. */
function endRoomsOf(actions: GuardActions): PresenceWatchOptions['onLost'] {
  return (worker, rooms, cause) => {
    const fields = { reason: 'guard_worker_lost', worker, cause, rooms: rooms.length };
    if (rooms.length === 0) {
      actions.logger.info(fields, 'agent worker gone without a goodbye; it served no call');
      return;
    }
    actions.logger.warn(fields, "agent worker lost: ending its calls' AI legs");
    for (const room of rooms) {
      void actions.endRoom(room, 'worker_lost').then(async (done) => {
        if (done) return;
        await new Promise((r) => setTimeout(r, RETRY_MS));
        await actions.endRoom(room, 'worker_lost');
      });
    }
  };
}

function parse(data: unknown): PresenceMessage | undefined {
  try {
    const r = PresenceMessage.safeParse(JSON.parse(String(data)));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** Follows one authorized connection. */
function follow(ws: WebSocket, watch: PresenceWatch, sockets: Map<PresenceSession, WebSocket>) {
  const session = watch.open();
  sockets.set(session, ws);
  ws.on('message', (data) => {
    const m = parse(data);
    // A frame the guard does not understand is ignored: never a reason to end calls.
    if (!m) return;
    const replaced = watch.message(session, m);
    if (replaced) sockets.get(replaced)?.close(1000, 'replaced');
  });
  ws.on('error', () => ws.terminate());
  ws.on('close', () => {
    sockets.delete(session);
    watch.closed(session);
  });
}

export function presenceEndpoint(
  actions: GuardActions,
  opts: PresenceOptions & { roomPrefix: string },
): PresenceEndpoint {
  const secretDigest = digest(opts.secret);
  const watch = new PresenceWatch({
    onLost: endRoomsOf(actions),
    roomPrefix: opts.roomPrefix,
    silentAfterMs: opts.silentAfterMs,
    reconnectGraceMs: opts.reconnectGraceMs,
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PRESENCE_FRAME_BYTES });
  const sockets = new Map<PresenceSession, WebSocket>();
  const checker = setInterval(() => {
    for (const s of watch.silent()) sockets.get(s)?.terminate();
  }, CHECK_EVERY_MS);
  checker.unref();
  return {
    watch,
    upgrade(req, socket, head) {
      if (new URL(req.url ?? '/', 'http://guard').pathname !== PRESENCE_PATH) return false;
      if (!authorized(req.headers.authorization, secretDigest)) {
        actions.logger.warn({ reason: 'presence_refused' }, 'worker presence refused');
        refuse(socket, 401, 'Unauthorized');
      } else if (sockets.size >= MAX_CONNECTIONS) {
        refuse(socket, 503, 'Service Unavailable');
      } else {
        wss.handleUpgrade(req, socket, head, (ws) => follow(ws, watch, sockets));
      }
      return true;
    },
    close() {
      clearInterval(checker);
      // The guard is the one leaving: nothing is acted on, and the workers connect elsewhere. Cut,
      // not closed with a handshake: a stalled worker cannot hold the guard's stop.
      watch.close();
      for (const ws of sockets.values()) ws.terminate();
      sockets.clear();
      wss.close();
    },
  };
}

export type { LossCause };
