// What the cloud stand-ins share: an HTTP server on loopback, on a port the system picks, that
// stops cleanly (open connections and WebSockets included), and a JSON body reader.
import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebSocketServer } from 'ws';

export interface StandIn {
  /** http://127.0.0.1:<port> */
  url: string;
  traffic: Traffic;
  stop(): Promise<void>;
}

/** What a stand-in served, and the routes it is told to fail (the lab's fault switch). */
export class Traffic {
  /** Requests and streams accepted, by route (`/v1/listen`, `/v1/chat/completions`, …). */
  readonly served: Record<string, number> = {};
  /** Routes answered with the vendor's server error (500) instead. */
  readonly failing = new Set<string>();

  /** Counts a request on `route`, or says it must fail. */
  admit(route: string): boolean {
    if (this.failing.has(route)) return false;
    this.served[route] = (this.served[route] ?? 0) + 1;
    return true;
  }
}

export async function listenOnLoopback(
  server: Server,
  traffic: Traffic,
  wss?: WebSocketServer,
): Promise<StandIn> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    traffic,
    stop: async () => {
      for (const ws of wss?.clients ?? []) ws.terminate();
      wss?.close();
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    },
  };
}

export { createServer };

/** The request's body as JSON: undefined when it is empty, an Error when it is not JSON. */
export async function jsonBody(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  const text = Buffer.concat(parts).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}
