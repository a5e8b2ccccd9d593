// Agent metrics travel from the job processes to the worker's main process.
//
// The agents framework runs every call in a job process of its own (forked, exits after the call),
// but a Prometheus endpoint (or a steady OTLP metric stream) belongs to the long-lived worker
// process. So the main process owns the one MeterProvider and listens on a Unix socket in a private
// directory; each job process records through a Meter whose instruments send every measurement
// there as a JSON line, and the main process records it into the real instrument of the same name.
// Aggregation happens once, in the SDK, exactly as if the call had run in the main process.
//
// A job process that dies mid-call cannot send its `-1` for `voice.calls.active`: when a
// connection closes, the main process takes back whatever up-down counter amounts that connection
// left open, so a crashed call does not stay "active" forever.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createNoopMeter,
  type Attributes,
  type Counter,
  type Histogram,
  type Meter,
  type UpDownCounter,
} from '@opentelemetry/api';
import * as z from 'zod';

/** Set by the worker's main process for its job processes (they inherit its environment). */
export const METRICS_RELAY_ENV = 'CALLBRIDGE_METRICS_RELAY';

const Kind = z.enum(['histogram', 'counter', 'updown']);
type Kind = z.infer<typeof Kind>;

const Measurement = z.object({
  n: z.string().min(1).max(128),
  k: Kind,
  v: z.number().finite(),
  a: z.record(z.string().max(64), z.union([z.string().max(256), z.number(), z.boolean()])),
});
type Measurement = z.infer<typeof Measurement>;

const MAX_LINE = 4096;

interface Sink {
  kind: Kind;
  record(value: number, attributes: Attributes): void;
}

/**
 * A Meter that remembers the histograms and counters created through it, by name: the main
 * process creates its real instruments through it, then relays measurements to them by name.
 */
export function capturingMeter(meter: Meter): { meter: Meter; sinks: Map<string, Sink> } {
  const sinks = new Map<string, Sink>();
  const capture: Meter = {
    createHistogram: (name, opts) => {
      const h = meter.createHistogram(name, opts);
      sinks.set(name, { kind: 'histogram', record: (v, a) => h.record(v, a) });
      return h;
    },
    createCounter: (name, opts) => {
      const c = meter.createCounter(name, opts);
      sinks.set(name, { kind: 'counter', record: (v, a) => c.add(v, a) });
      return c;
    },
    createUpDownCounter: (name, opts) => {
      const u = meter.createUpDownCounter(name, opts);
      sinks.set(name, { kind: 'updown', record: (v, a) => u.add(v, a) });
      return u;
    },
    createGauge: (name, opts) => meter.createGauge(name, opts),
    createObservableGauge: (name, opts) => meter.createObservableGauge(name, opts),
    createObservableCounter: (name, opts) => meter.createObservableCounter(name, opts),
    createObservableUpDownCounter: (name, opts) => meter.createObservableUpDownCounter(name, opts),
    addBatchObservableCallback: (cb, obs) => meter.addBatchObservableCallback(cb, obs),
    removeBatchObservableCallback: (cb, obs) => meter.removeBatchObservableCallback(cb, obs),
  };
  return { meter: capture, sinks };
}

export interface MetricsRelay {
  /** The socket path job processes connect to. */
  path: string;
  close(): Promise<void>;
}

export interface RelayLogger {
  warn(obj: object, msg: string): void;
}

const attrKey = (name: string, a: Attributes) =>
  `${name}\u0000${JSON.stringify(Object.entries(a).sort(([x], [y]) => (x < y ? -1 : 1)))}`;

/** What one connection added to up-down counters and has not taken back yet. */
type OpenAmounts = Map<string, { sink: Sink; attributes: Attributes; sum: number }>;

/** Records one JSON line into its sink; false when the line is refused. */
function applyLine(line: string, sinks: Map<string, Sink>, open: OpenAmounts): boolean {
  let m: Measurement;
  try {
    m = Measurement.parse(JSON.parse(line));
  } catch {
    return false;
  }
  const sink = sinks.get(m.n);
  if (!sink || sink.kind !== m.k) return false;
  sink.record(m.v, m.a);
  if (sink.kind === 'updown') {
    const key = attrKey(m.n, m.a);
    const entry = open.get(key) ?? { sink, attributes: m.a, sum: 0 };
    entry.sum += m.v;
    open.set(key, entry);
  }
  return true;
}

function takeBack(open: OpenAmounts): void {
  for (const { sink, attributes, sum } of open.values()) {
    if (sum !== 0) sink.record(-sum, attributes);
  }
}

function serveConnection(socket: Socket, sinks: Map<string, Sink>, log: RelayLogger): void {
  const open: OpenAmounts = new Map();
  let buffered = '';
  let refused = 0;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (!applyLine(line, sinks, open)) refused += 1;
    }
    if (buffered.length > MAX_LINE) socket.destroy();
  });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => {
    takeBack(open);
    if (refused > 0) log.warn({ reason: 'relay_measurement_refused', refused }, 'metrics refused');
  });
}

const DIR_PREFIX = 'callbridge-metrics-';

/** Whether something listens on the Unix socket at `path`. */
function listening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/**
 * Removes the relay directories of workers that were killed (SIGKILL leaves them behind): this
 * user's, older than a minute (a worker starting right now may not listen yet), nobody listening.
 */
export async function removeStaleRelays(parent = tmpdir(), minAgeMs = 60_000): Promise<string[]> {
  const removed: string[] = [];
  const uid = process.getuid?.();
  for (const name of readdirSync(parent)) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const dir = join(parent, name);
    try {
      const st = statSync(dir);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
      if (Date.now() - st.mtimeMs < minAgeMs) continue;
      if (await listening(join(dir, 'relay.sock'))) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // Gone already, or not ours to remove.
    }
  }
  return removed;
}

/** Starts the relay in the worker's main process; measurements go to `sinks` by name. */
export async function startMetricsRelay(
  sinks: Map<string, Sink>,
  log: RelayLogger,
): Promise<MetricsRelay> {
  await removeStaleRelays();
  // A directory only this user can enter: no other local user can send measurements.
  const dir = mkdtempSync(join(tmpdir(), DIR_PREFIX));
  const path = join(dir, 'relay.sock');
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveConnection(socket, sinks, log);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  server.unref();
  // The framework ends the worker with process.exit(): the directory goes with the process.
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  return {
    path,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      process.off('exit', removeDir);
      removeDir();
    },
  };
}

/** The job process's end of the relay: one lazily opened connection, lines queued until then. */
export class RelayClient {
  private socket: Socket | undefined;
  private failed = false;

  constructor(private readonly path: string) {}

  send(m: Measurement): void {
    if (this.failed) return;
    if (!this.socket) {
      this.socket = createConnection(this.path);
      // Metrics are never worth failing a call for: a missing relay drops them quietly.
      this.socket.on('error', () => {
        this.failed = true;
        this.socket?.destroy();
      });
      this.socket.unref();
    }
    this.socket.write(`${JSON.stringify(m)}\n`);
  }

  /** Sends what is queued and closes the connection (the job process is about to exit). */
  close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (!s || s.destroyed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      s.once('close', () => resolve());
      s.end();
    });
  }
}

/** A Meter whose histograms and counters send every measurement through `client`. */
export function relayMeter(client: RelayClient): Meter {
  const noop = createNoopMeter();
  const send = (n: string, k: Kind) => (v: number, a: Attributes | undefined) =>
    client.send({ n, k, v, a: (a ?? {}) as Measurement['a'] });
  return {
    createHistogram: (name) => ({ record: send(name, 'histogram') }) as Histogram,
    createCounter: (name) => ({ add: send(name, 'counter') }) as Counter,
    createUpDownCounter: (name) => ({ add: send(name, 'updown') }) as UpDownCounter,
    createGauge: (name, opts) => noop.createGauge(name, opts),
    createObservableGauge: (name, opts) => noop.createObservableGauge(name, opts),
    createObservableCounter: (name, opts) => noop.createObservableCounter(name, opts),
    createObservableUpDownCounter: (name, opts) => noop.createObservableUpDownCounter(name, opts),
    addBatchObservableCallback: () => undefined,
    removeBatchObservableCallback: () => undefined,
  };
}
