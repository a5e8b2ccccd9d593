// Worker presence: each agent worker's main process holds a WebSocket to one guard replica, names
// the call rooms its job processes serve, and pings every second (agent/worker-presence.ts). A
// worker that dies whole (SIGKILL, OOM, a lost machine) takes its job processes and this
// connection with it: the kernel closes the socket at once, or the pings stop. livekit-server
// notices the agent's participant gone only after about 15 s (docs/guard.md), so the guard acts on
// the connection instead: each room the worker still named is ended as for any lost agent (the
// room is deleted, livekit-sip hangs up the AI leg, the SMA sends the caller to a person).
//
// What is pure here is the bookkeeping (PresenceWatch): which worker named which rooms, and when a
// worker counts as lost. The WebSocket glue and the authorization are in presence-server.ts.
import * as z from 'zod';

/** A worker's messages, one JSON object a frame. */
export const PresenceMessage = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('hello'),
    worker: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/),
    rooms: z.array(z.string().min(1).max(256)).max(256),
  }),
  z.object({ t: z.literal('add'), room: z.string().min(1).max(256) }),
  z.object({ t: z.literal('remove'), room: z.string().min(1).max(256) }),
  z.object({ t: z.literal('ping') }),
  z.object({ t: z.literal('bye') }),
]);
export type PresenceMessage = z.infer<typeof PresenceMessage>;

/** A worker's rooms at most: more than any worker serves at once. */
export const MAX_ROOMS = 256;

/** How a worker's connection ended without a goodbye. */
export type LossCause = 'closed' | 'silent';

/** One connection, as the watch knows it. */
export interface PresenceSession {
  worker?: string;
  rooms: Set<string>;
  lastSeenMs: number;
  /** `left`: said goodbye; `replaced`: the same worker connected again; `lost`: acted on. */
  state: 'open' | 'left' | 'replaced' | 'lost';
}

export interface PresenceWatchOptions {
  /** The worker's rooms are ended (those of the call prefix only). */
  onLost(worker: string, rooms: string[], cause: LossCause): void;
  roomPrefix: string;
  /** Pings missed this long: the worker is lost (default 3 s; it pings every second). */
  silentAfterMs?: number;
  /**
   * A worker whose connection closed may connect again this soon (a network blip, a load balancer
   * that dropped the connection) before its rooms are ended (default 1 s).
   */
  reconnectGraceMs?: number;
  now?: () => number;
}

export const SILENT_AFTER_MS = 3000;
export const RECONNECT_GRACE_MS = 1000;

/** Which worker serves which rooms, and when a worker is lost. Timers only for the reconnect grace. */
export class PresenceWatch {
  private readonly sessions = new Set<PresenceSession>();
  private readonly byWorker = new Map<string, PresenceSession>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly now: () => number;
  readonly silentAfterMs: number;
  private readonly graceMs: number;
  private stopped = false;

  constructor(private readonly opts: PresenceWatchOptions) {
    this.now = opts.now ?? Date.now;
    this.silentAfterMs = opts.silentAfterMs ?? SILENT_AFTER_MS;
    this.graceMs = opts.reconnectGraceMs ?? RECONNECT_GRACE_MS;
  }

  /** A new authorized connection. */
  open(): PresenceSession {
    const s: PresenceSession = { rooms: new Set(), lastSeenMs: this.now(), state: 'open' };
    this.sessions.add(s);
    return s;
  }

  /** One message; returns the session the same worker had before, now replaced (to be closed). */
  message(s: PresenceSession, m: PresenceMessage): PresenceSession | undefined {
    if (s.state !== 'open') return undefined;
    s.lastSeenMs = this.now();
    if (m.t === 'hello') return this.hello(s, m.worker, m.rooms);
    if (m.t === 'add' && s.rooms.size < MAX_ROOMS) s.rooms.add(m.room);
    else if (m.t === 'remove') s.rooms.delete(m.room);
    else if (m.t === 'bye') s.state = 'left';
    return undefined;
  }

  private hello(s: PresenceSession, worker: string, rooms: string[]) {
    // The worker says all its rooms at each (re)connection: what it said before is replaced.
    s.worker = worker;
    s.rooms = new Set(rooms);
    clearTimeout(this.pending.get(worker));
    this.pending.delete(worker);
    const before = this.byWorker.get(worker);
    this.byWorker.set(worker, s);
    if (!before || before === s || before.state !== 'open') return undefined;
    before.state = 'replaced';
    return before;
  }

  /** The connection closed: without a goodbye, the worker's rooms are ended after the grace. */
  closed(s: PresenceSession): void {
    this.sessions.delete(s);
    if (this.stopped || s.state !== 'open') return this.forget(s);
    const worker = s.worker;
    if (!worker || s.rooms.size === 0) return this.forget(s);
    s.state = 'lost';
    clearTimeout(this.pending.get(worker));
    this.pending.set(
      worker,
      setTimeout(() => this.lose(s, 'closed'), this.graceMs),
    );
  }

  /** Sessions silent past the limit: each is lost now (its socket is then closed by the caller). */
  silent(): PresenceSession[] {
    const cutoff = this.now() - this.silentAfterMs;
    const gone = [...this.sessions].filter((s) => s.state === 'open' && s.lastSeenMs < cutoff);
    for (const s of gone) {
      this.sessions.delete(s);
      s.state = 'lost';
      if (s.worker) this.lose(s, 'silent');
    }
    return gone;
  }

  private lose(s: PresenceSession, cause: LossCause): void {
    const worker = s.worker!;
    this.pending.delete(worker);
    // Connected again meanwhile: the new connection named the rooms it still serves.
    if (this.byWorker.get(worker) !== s) return;
    this.byWorker.delete(worker);
    const rooms = [...s.rooms].filter((r) => r.startsWith(this.opts.roomPrefix));
    this.opts.onLost(worker, rooms, cause);
  }

  private forget(s: PresenceSession): void {
    if (s.worker && this.byWorker.get(s.worker) === s) this.byWorker.delete(s.worker);
  }

  /** Workers connected now (logs, tests). */
  get workers(): number {
    return [...this.sessions].filter((s) => s.state === 'open' && s.worker).length;
  }

  /** The rooms the connected workers serve (tests). */
  get rooms(): string[] {
    return [...this.byWorker.values()].flatMap((s) => (s.state === 'open' ? [...s.rooms] : []));
  }

  /** The guard is stopping: nothing more is acted on (other replicas' sweeps remain). */
  close(): void {
    this.stopped = true;
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
    this.sessions.clear();
    this.byWorker.clear();
  }
}
