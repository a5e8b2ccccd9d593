// The worker's one poller (./poller.ts) lives in its main process; each call's job process asks it
// over a Unix socket of the main process's own (otel/private-socket.ts, as the job watch does), one
// JSON line per request and per answer. A job process that gets no answer within its budget goes on
// without the status: the caller is then transferred as without the check.
import { createConnection, type Socket } from 'node:net';
import * as z from 'zod';
import { listenPrivateSocket, type PrivateSocket } from '../../otel/private-socket.js';
import type { ConnectQueueRef, QueueStatus } from './status.js';

/** Set by the worker's main process for its job processes (they inherit its environment). */
export const QUEUE_STATUS_ENV = 'CALLBRIDGE_QUEUE_STATUS';

/** What a call needs of the worker's poller. */
export interface QueueStatusLookup {
  /** Keeps these queues' figures fresh for the call (asked at its start). */
  watch(refs: ConnectQueueRef[]): void;
  /** The status, waiting at most `waitMs` for figures that are not fresh; undefined if none. */
  status(ref: ConnectQueueRef, waitMs: number): Promise<QueueStatus | undefined>;
}

const Ref = z.object({
  instanceId: z.string().min(1).max(256),
  queueId: z.string().min(1).max(256),
});
const Request = z.discriminatedUnion('t', [
  z.object({ t: z.literal('watch'), queues: z.array(Ref).max(100) }),
  z.object({
    t: z.literal('status'),
    id: z.number().int(),
    queue: Ref,
    waitMs: z.number().int().min(0).max(10_000),
  }),
]);
type Request = z.infer<typeof Request>;
const Status = z.object({
  agentsAvailable: z.number(),
  contactsInQueue: z.number(),
  oldestContactAgeS: z.number(),
  estimatedWaitS: z.number().optional(),
  open: z.boolean().optional(),
  readAt: z.number(),
});
const Answer = z.object({ id: z.number().int(), status: Status.nullable() });

const MAX_LINE = 4096;

function lines(socket: Socket, onLine: (value: unknown) => void): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        onLine(JSON.parse(line));
      } catch {
        // Not JSON: ignored.
      }
    }
    if (buffered.length > MAX_LINE) socket.destroy();
  });
  socket.on('error', () => socket.destroy());
}

/** In the worker's main process: serves `lookup` to the job processes and sets the env for them. */
export async function serveQueueStatus(
  lookup: QueueStatusLookup,
  env: Record<string, string | undefined> = process.env,
): Promise<PrivateSocket> {
  const served = await listenPrivateSocket('callbridge-queues-', 'queues.sock', (socket) =>
    lines(socket, (value) => {
      const req = Request.safeParse(value);
      if (!req.success) return;
      void answer(lookup, req.data).then((line) => {
        if (line && !socket.destroyed) socket.write(line);
      });
    }),
  );
  env[QUEUE_STATUS_ENV] = served.path;
  return served;
}

async function answer(lookup: QueueStatusLookup, req: Request): Promise<string | undefined> {
  if (req.t === 'watch') {
    lookup.watch(req.queues);
    return undefined;
  }
  const status = await lookup.status(req.queue, req.waitMs).catch(() => undefined);
  return `${JSON.stringify({ id: req.id, status: status ?? null })}\n`;
}

/**
 * In a job process: the worker's poller through its socket, or undefined outside a worker (no
 * {@link QUEUE_STATUS_ENV}): then no call checks a queue.
 */
export function queueStatusClient(
  env: Record<string, string | undefined> = process.env,
): QueueStatusLookup | undefined {
  const path = env[QUEUE_STATUS_ENV];
  return path ? new QueueStatusClient(path) : undefined;
}

/**
 * How often a call renews its watch: the poller drops a queue no call renewed for its `watchMs`
 * (60 s), so a worker without calls stops reading Connect within a minute.
 */
export const WATCH_RENEW_MS = 20_000;

class QueueStatusClient implements QueueStatusLookup {
  private socket: Socket | undefined;
  private renew: NodeJS.Timeout | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, (s: QueueStatus | undefined) => void>();

  constructor(private readonly path: string) {}

  /** Watches the call's queues, renewed while the job process (one call) lives. */
  watch(refs: ConnectQueueRef[]): void {
    if (refs.length === 0) return;
    const req: Request = { t: 'watch', queues: refs.slice(0, 100) };
    this.send(req);
    clearInterval(this.renew);
    this.renew = setInterval(() => this.send(req), WATCH_RENEW_MS).unref();
  }

  status(ref: ConnectQueueRef, waitMs: number): Promise<QueueStatus | undefined> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      // The main process answers within waitMs; a little more covers the hop.
      const timer = setTimeout(() => done(undefined), waitMs + 100);
      const done = (s: QueueStatus | undefined) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(s);
      };
      this.waiting.set(id, done);
      if (!this.send({ t: 'status', id, queue: ref, waitMs })) done(undefined);
    });
  }

  private send(req: Request): boolean {
    const socket = this.connected();
    if (socket.destroyed) return false;
    socket.write(`${JSON.stringify(req)}\n`);
    return true;
  }

  private connected(): Socket {
    if (this.socket && !this.socket.destroyed) return this.socket;
    const socket = createConnection(this.path);
    socket.unref();
    lines(socket, (value) => {
      const a = Answer.safeParse(value);
      if (!a.success) return;
      const s = a.data.status;
      this.waiting.get(a.data.id)?.(s ? { ...s, open: s.open } : undefined);
    });
    socket.on('close', () => {
      for (const done of this.waiting.values()) done(undefined);
    });
    this.socket = socket;
    return socket;
  }
}
