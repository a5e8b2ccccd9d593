// Nobody is left on a silent line when the agent dies. If the agent of a call room leaves (its
// job process crashed, its worker was killed, its machine went away) while the caller's SIP
// participant is still there, and no agent comes back within a grace period (LiveKit may hand
// the job to another worker), the guard deletes the room: livekit-sip hangs up the AI leg, Chime
// reports LEG-B's HANGUP, and the SMA sends the caller to a person (docs/architecture.md, failure
// rules: "the AI leg fails").
//
// It consumes livekit-server's webhooks (livekit.yaml `webhook:`), verifying their signature.
// livekit-server reports an agent that vanished (no goodbye) as left only after its fixed 15 s
// ping timeout, so a crash costs the caller about 15 s + the grace period of silence.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RoomServiceClient, WebhookReceiver, type WebhookEvent } from 'livekit-server-sdk';

// ParticipantInfo.Kind of the LiveKit protocol.
const KIND_SIP = 3;
const KIND_AGENT = 4;

export interface CallGuardOptions {
  /** http(s) URL of the LiveKit server API. */
  httpUrl: string;
  apiKey: string;
  apiSecret: string;
  /** Rooms of calls (the dispatch rule's prefix). */
  roomPrefix?: string;
  /** How long a call room may be without an agent before the call is ended (default 3 s). */
  graceMs?: number;
  log?: (msg: string, fields: Record<string, unknown>) => void;
}

export interface CallGuard {
  /** Handles one verified webhook event. */
  handle(event: WebhookEvent): void;
  /** Rooms ended by the guard (for logs and tests). */
  readonly ended: string[];
  close(): void;
}

export function createCallGuard(opts: CallGuardOptions): CallGuard {
  const rooms = new RoomServiceClient(opts.httpUrl, opts.apiKey, opts.apiSecret);
  const prefix = opts.roomPrefix ?? 'call_';
  const graceMs = opts.graceMs ?? 3000;
  const log = opts.log ?? (() => {});
  const timers = new Map<string, NodeJS.Timeout>();
  const ended: string[] = [];

  const check = async (room: string) => {
    timers.delete(room);
    const participants = await rooms.listParticipants(room).catch(() => []);
    const caller = participants.some((p) => p.kind === KIND_SIP);
    const agent = participants.some((p) => p.kind === KIND_AGENT);
    if (!caller || agent) return;
    log('agent gone, ending the AI leg so the caller is sent to a person', { room, graceMs });
    ended.push(room);
    await rooms.deleteRoom(room).catch((e: unknown) => {
      log('could not end the AI leg', { room, error: (e as Error).message });
    });
  };

  return {
    ended,
    handle(event) {
      const room = event.room?.name;
      const kind = event.participant?.kind as number | undefined;
      if (!room?.startsWith(prefix) || kind !== KIND_AGENT) return;
      if (event.event === 'participant_left') {
        clearTimeout(timers.get(room));
        timers.set(
          room,
          setTimeout(() => void check(room), graceMs),
        );
      } else if (event.event === 'participant_joined') {
        clearTimeout(timers.get(room));
        timers.delete(room);
      }
    },
    close() {
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The guard behind an HTTP endpoint for livekit-server's webhooks, on loopback by default. */
export async function startCallGuardServer(
  opts: CallGuardOptions & { host?: string; port?: number },
): Promise<{ url: string; guard: CallGuard; stop(): Promise<void> }> {
  const guard = createCallGuard(opts);
  const receiver = new WebhookReceiver(opts.apiKey, opts.apiSecret);
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const event = await receiver.receive(await body(req), req.headers.authorization);
        guard.handle(event);
        res.writeHead(200).end();
      } catch {
        // Unsigned or malformed: refused, nothing done.
        res.writeHead(401).end();
      }
    })();
  });
  await new Promise<void>((resolve) =>
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/livekit/webhook`,
    guard,
    async stop() {
      guard.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
