// A TCP proxy for the fault benchmark, in front of a server on loopback (the lab's dynalite, which
// the SMA handler then reaches through it): it passes bytes through, holds each chunk a client
// sends for `delayMs` (a slow network or a slow service: every request answers that much later),
// or goes down (its port refuses connections and the open ones are reset, as when the server
// stops) and comes back on the same port, the server behind it and its data untouched.
import { type Server, type Socket, connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface SlowProxy {
  /** http://127.0.0.1:<port>: the proxy, for an HTTP client of the server behind it. */
  endpoint: string;
  /** Every chunk a client sends from now on reaches the server this much later (0: none). */
  setDelay(ms: number): void;
  /** Refuses new connections and resets the open ones until `up()`. */
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the proxy on a free loopback port in front of `target` (an http:// URL or host:port). */
export async function startSlowProxy(target: string): Promise<SlowProxy> {
  const { hostname, port: targetPort } = new URL(
    target.includes('//') ? target : `tcp://${target}`,
  );
  const sockets = new Set<Socket>();
  let delayMs = 0;
  const server = createServer((client) => {
    const upstream = connect(Number(targetPort), hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {}); // either end going away closes both below
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    upstream.pipe(client);
    relayLate(client, upstream, () => delayMs);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const { port } = server.address() as AddressInfo;
  const down = () => closeAll(server, sockets);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    setDelay: (ms) => void (delayMs = ms),
    down,
    up: () => (server.listening ? Promise.resolve() : listen(port)),
    stop: down,
  };
}

/** Writes what `from` sends to `to`, each chunk `delay()` after it arrived, in order. */
function relayLate(from: Socket, to: Socket, delay: () => number): void {
  let queue = Promise.resolve();
  from.on('data', (chunk) => {
    const due = performance.now() + delay();
    queue = queue.then(async () => {
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (!to.destroyed) to.write(chunk);
    });
  });
  from.on('end', () => void queue.then(() => to.end()));
}

async function closeAll(server: Server, sockets: Set<Socket>): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((r) => server.close(() => r()));
  for (const s of sockets) s.resetAndDestroy();
  await closed;
}
