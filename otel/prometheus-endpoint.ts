// The agent worker's Prometheus scrape endpoint (GET /metrics).
//
// Names follow the OpenTelemetry → Prometheus conversion that an OpenTelemetry Collector's
// Prometheus exporter (and Prometheus's own OTLP receiver) apply: dots become underscores, the unit
// becomes a suffix (`s` → `_seconds`; annotations such as `{call}` add nothing) and monotonic sums
// end in `_total` (https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/).
// @opentelemetry/exporter-prometheus 0.223 adds `_total` but no unit suffix
// (`voice_call_time_to_first_audio_bucket`), so the units are added here: a series has the same
// name whether Prometheus scrapes the worker or reads it through a collector, and one set of
// dashboards and alert rules serves both.
//
// The exporter's own server is not used: it cannot listen on port 0 (it reads 0 as "unset"), and
// it reports a port already in use only to the OpenTelemetry diag logger.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';

const UNIT_SUFFIX: Record<string, string> = {
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  min: 'minutes',
  h: 'hours',
  d: 'days',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  '%': 'percent',
};

/** The Prometheus name of an OpenTelemetry metric, before the serializer's `_total`. */
export function prometheusBaseName(name: string, unit: string): string {
  const base = name.replace(/[^a-zA-Z0-9_:]/g, '_');
  // Annotations ({call}) and the dimensionless `1` carry no suffix (the spec's `_ratio` applies
  // to gauges only, and none of ours is one).
  const suffix = UNIT_SUFFIX[unit.replace(/\{[^}]*\}/g, '').trim()];
  return suffix && !base.endsWith(`_${suffix}`) ? `${base}_${suffix}` : base;
}

function withUnitSuffixes(rm: ResourceMetrics): ResourceMetrics {
  return {
    ...rm,
    scopeMetrics: rm.scopeMetrics.map((sm) => ({
      ...sm,
      metrics: sm.metrics.map((m): MetricData => ({
        ...m,
        descriptor: {
          ...m.descriptor,
          name: prometheusBaseName(m.descriptor.name, m.descriptor.unit),
        },
      })),
    })),
  };
}

export interface PrometheusEndpoint {
  /** e.g. http://127.0.0.1:9464/metrics */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** A metric reader for the meter provider; serve it with {@link servePrometheus}. */
export function prometheusReader(): PrometheusExporter {
  return new PrometheusExporter({ preventServerStart: true });
}

/** Answers GET /metrics with what `reader` collects now; anything else is not found. */
function scrapeHandler(reader: PrometheusExporter): RequestListener {
  const serializer = new PrometheusSerializer();
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    const collected = reader.collect().then(async (c) => {
      // The resource's detectors (host, process) settle shortly after start: a scrape that comes
      // first waits for them rather than reading attributes that are not there yet.
      await c.resourceMetrics.resource.waitForAsyncAttributes?.();
      return c;
    });
    collected.then(
      ({ resourceMetrics }) => {
        res
          .writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
          .end(serializer.serialize(withUnitSuffixes(resourceMetrics)));
      },
      (err: unknown) => {
        res.writeHead(500).end(`# collection failed: ${(err as Error).name}\n`);
      },
    );
  };
}

/** Resolves once `server` listens on host:port; rejects when the address cannot be bound. */
function listen(server: Server, opts: { host: string; port: number }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Serves `reader` on host:port (port 0: any free port). Rejects when the address cannot be bound
 * (EADDRINUSE, say): the caller decides whether that is fatal.
 */
export async function servePrometheus(
  reader: PrometheusExporter,
  opts: { host: string; port: number },
): Promise<PrometheusEndpoint> {
  const server = createServer(scrapeHandler(reader));
  await listen(server, opts);
  // Never keep a process alive for scrapes alone.
  server.unref();
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}/metrics`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
