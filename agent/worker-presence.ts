// The worker's presence at the call guard: the main process holds a WebSocket to the guard
// (GUARD_PRESENCE_URL), names the call rooms its job processes serve (from agent/job-watch.ts:
// added when a job reports its room, removed when its call is over or its process is gone) and
// pings every second. If the whole worker dies, the kernel closes the connection (or the pings
// stop), and the guard ends those rooms' AI legs at once, so the callers reach a person within a
// few seconds instead of livekit-server's ~15 s (guard/presence.ts, docs/guard.md).
//
// A WebSocket rather than a long HTTP request: both directions and its close frame (the goodbye)
// on one connection, through the guard's own port and any load balancer that passes upgrades; the
// `ws` package is the agents framework's own. The connection is never worth failing a call for:
// every error is logged and the client connects again.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import WebSocket from 'ws';

export const PING_MS = 1000;
/** Pauses before each new attempt to connect, the last repeated. */
const BACKOFF_MS = [0, 100, 250, 500, 1000, 2000];
const HANDSHAKE_TIMEOUT_MS = 2000;

export interface WorkerPresenceOptions {
  /** ws:// or wss:// URL of the guard's presence endpoint. */
  url: string;
  /** GUARD_PRESENCE_SECRET: sent as a bearer token; never logged. */
  secret: string;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** This worker, the same across its reconnections (default: host, pid and a random part). */
  workerId?: string;
  pingMs?: number;
}

export function newWorkerId(): string {
  const host = hostname()
    .replace(/[^A-Za-z0-9.-]/g, '-')
    .slice(0, 64);
  return `${host}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

export class WorkerPresence {
  readonly workerId: string;
  /** Each room with the number of this worker's jobs serving it (two, briefly, after a restart). */
  private readonly rooms = new Map<string, number>();
  private ws: WebSocket | undefined;
  private attempt = 0;
  private ping: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  private outage = false;

  constructor(private readonly opts: WorkerPresenceOptions) {
    this.workerId = opts.workerId ?? newWorkerId();
  }

  start(): void {
    this.connect();
    this.ping = setInterval(() => this.send({ t: 'ping' }), this.opts.pingMs ?? PING_MS).unref();
  }

  /** A job process serves `room` now. */
  add(room: string): void {
    const n = this.rooms.get(room) ?? 0;
    this.rooms.set(room, n + 1);
    if (n === 0) this.send({ t: 'add', room });
  }

  /** The job of `room` is over or gone. */
  remove(room: string): void {
    const n = this.rooms.get(room);
    if (n === undefined) return;
    if (n > 1) return void this.rooms.set(room, n - 1);
    this.rooms.delete(room);
    this.send({ t: 'remove', room });
  }

  /**
   * The process is exiting: a goodbye if no call is left (a drained worker), so the guard does
   * nothing. A call still named means its job is being cut off: then no goodbye, and the guard
   * sends its caller to a person. Synchronous, for process 'exit'.
   */
  leave(): void {
    if (this.closed) return;
    if (this.rooms.size === 0) this.send({ t: 'bye' });
    this.close();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.ping);
    clearTimeout(this.retry);
    this.ws?.close(1000);
  }

  private send(m: Record<string, unknown>): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m));
  }

  private connect(): void {
    const ws = new WebSocket(this.opts.url, {
      headers: { authorization: `Bearer ${this.opts.secret}` },
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      maxPayload: 4096,
    });
    this.ws = ws;
    ws.on('open', () => {
      this.attempt = 0;
      // Everything the worker serves now: the guard replaces what it knew.
      ws.send(JSON.stringify({ t: 'hello', worker: this.workerId, rooms: [...this.rooms.keys()] }));
      const fields = { workerId: this.workerId, rooms: this.rooms.size };
      this.opts.logger.info(fields, 'worker presence connected to the call guard');
      this.outage = false;
    });
    ws.on('unexpected-response', (_req, res) => {
      this.lost(`the guard answered ${res.statusCode}`);
      ws.terminate();
    });
    ws.on('error', (err) => this.lost(err.message));
    ws.on('close', () => {
      if (this.ws === ws) this.ws = undefined;
      if (this.closed) return;
      this.lost('connection closed');
      this.retry = setTimeout(() => this.connect(), this.nextPauseMs()).unref();
    });
  }

  /** Logs the first failure of an outage only. */
  private lost(detail: string): void {
    if (this.outage || this.closed) return;
    this.outage = true;
    this.opts.logger.warn(
      { reason: 'presence_lost', detail: detail.slice(0, 200) },
      'worker presence: not connected to the call guard; connecting again',
    );
  }

  private nextPauseMs(): number {
    return BACKOFF_MS[Math.min(this.attempt++, BACKOFF_MS.length - 1)]!;
  }
}
