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
import { createConnection, type Socket } from 'node:net';
import {
  createNoopMeter,
  type Attributes,
  type Counter,
  type Histogram,
  type Meter,
  type UpDownCounter,
} from '@opentelemetry/api';
import * as z from 'zod';
import { listenPrivateSocket, removeStaleSocketDirs } from './private-socket.js';

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

/** Removes the relay directories of workers that were killed (SIGKILL leaves them behind). */
export const removeStaleRelays = (parent?: string, minAgeMs?: number) =>
  removeStaleSocketDirs(DIR_PREFIX, 'relay.sock', parent, minAgeMs);

/** Starts the relay in the worker's main process; measurements go to `sinks` by name. */
export async function startMetricsRelay(
  sinks: Map<string, Sink>,
  log: RelayLogger,
): Promise<MetricsRelay> {
  return listenPrivateSocket(DIR_PREFIX, 'relay.sock', (socket) =>
    serveConnection(socket, sinks, log),
  );
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
