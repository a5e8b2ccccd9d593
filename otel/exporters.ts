// What both SDK set-ups share: the metric readers and span processors the configuration names,
// OpenTelemetry's own warnings in the process's log, and the Telemetry they hand back. The OTLP
// exporters are imported only when chosen (they bring protobuf encoding with them) and read the
// rest of their standard variables themselves (endpoints, OTEL_EXPORTER_OTLP_HEADERS, timeouts,
// OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE).
import { DiagLogLevel, diag, type Meter, type TracerProvider } from '@opentelemetry/api';
import {
  ConsoleMetricExporter,
  PeriodicExportingMetricReader,
  type MetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import type { TelemetryConfig } from './config.js';
import type { PrometheusEndpoint } from './prometheus-endpoint.js';
import type { SdkOptions, Telemetry } from './telemetry.js';

/** OpenTelemetry's own warnings (an export that failed, say) go to the process's log. */
export function logDiagnostics(log: Logger): void {
  const at =
    (level: 'warn' | 'error') =>
    (message: string, ...args: unknown[]) =>
      log[level](
        {
          reason: 'telemetry_diag',
          detail: [message, ...args.map(String)].join(' ').slice(0, 500),
        },
        'telemetry problem',
      );
  const quiet = () => {};
  diag.setLogger(
    { error: at('error'), warn: at('warn'), info: quiet, debug: quiet, verbose: quiet },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
}

async function metricReaders(
  config: TelemetryConfig,
  log: Logger,
): Promise<{ readers: MetricReader[]; prometheus?: PrometheusEndpoint }> {
  const readers: MetricReader[] = [];
  let prometheus: PrometheusEndpoint | undefined;
  const periodic = (exporter: PushMetricExporter) =>
    new PeriodicExportingMetricReader({
      exporter,
      exportIntervalMillis: config.exportIntervalMs,
      exportTimeoutMillis: config.exportTimeoutMs,
    });
  for (const name of config.metricsExporters) {
    if (name === 'otlp') {
      const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-proto');
      readers.push(periodic(new OTLPMetricExporter()));
    } else if (name === 'console') {
      readers.push(periodic(new ConsoleMetricExporter()));
    } else if (name === 'prometheus') {
      const { prometheusReader, servePrometheus } = await import('./prometheus-endpoint.js');
      const reader = prometheusReader();
      try {
        prometheus = await servePrometheus(reader, config.prometheus);
        readers.push(reader);
      } catch (err) {
        // Calls matter more than their metrics: the worker runs on without the endpoint.
        log.error(
          {
            reason: 'prometheus_endpoint_failed',
            code: (err as NodeJS.ErrnoException).code,
            host: config.prometheus.host,
            port: config.prometheus.port,
          },
          'metrics endpoint not started; set OTEL_EXPORTER_PROMETHEUS_PORT',
        );
      }
    }
  }
  return { readers, prometheus };
}

async function spanProcessors(config: TelemetryConfig): Promise<SpanProcessor[]> {
  const out: SpanProcessor[] = [];
  for (const name of config.tracesExporters) {
    if (name === 'otlp') {
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
      out.push(new BatchSpanProcessor(new OTLPTraceExporter()));
    } else if (name === 'console') {
      out.push(new SimpleSpanProcessor(new ConsoleSpanExporter()));
    }
  }
  return out;
}

export interface Pipelines {
  readers: MetricReader[];
  processors: SpanProcessor[];
  prometheus: PrometheusEndpoint | undefined;
}

/** The readers and span processors of the signals asked for: configured ones, then the caller's. */
export async function pipelines(config: TelemetryConfig, opts: SdkOptions): Promise<Pipelines> {
  const { readers, prometheus } = opts.metrics
    ? await metricReaders(config, opts.logger)
    : { readers: [], prometheus: undefined };
  if (opts.metrics) readers.push(...(opts.exportMetricsTo ?? []));
  const processors = opts.traces
    ? [
        ...(await spanProcessors(config)),
        ...(opts.exportSpansTo ?? []),
        ...(opts.spanProcessors ?? []),
      ]
    : [];
  return { readers, processors, prometheus };
}

/** Flushes every reader and processor; a failure is logged, never thrown. */
async function flushAll(pipes: Pipelines, log: Logger): Promise<void> {
  const results = await Promise.allSettled([
    ...pipes.readers.map((r) => r.forceFlush()),
    ...pipes.processors.map((p) => p.forceFlush()),
  ]);
  for (const r of results) {
    if (r.status === 'rejected') {
      log.warn({ reason: 'telemetry_flush_failed', err: r.reason }, 'telemetry not flushed');
    }
  }
}

function logStarted(config: TelemetryConfig, opts: SdkOptions, prometheusUrl?: string): void {
  opts.logger.info(
    {
      service: config.serviceName,
      environment: config.environment,
      metrics: opts.metrics ? config.metricsExporters : [],
      traces: opts.traces ? config.tracesExporters : [],
      prometheus: prometheusUrl,
    },
    'telemetry started',
  );
}

/** The Telemetry of started providers; `stop` shuts them down. */
export function exportingTelemetry(
  config: TelemetryConfig,
  opts: SdkOptions,
  started: Pipelines & {
    meter: (name: string) => Meter;
    tracerProvider: TracerProvider | undefined;
    stop: () => Promise<void>;
  },
): Telemetry {
  const { prometheus } = started;
  const flush = () => flushAll(started, opts.logger);
  logStarted(config, opts, prometheus?.url);
  return {
    enabled: true,
    meter: started.meter,
    tracerProvider: started.tracerProvider,
    prometheusUrl: prometheus?.url,
    flush,
    shutdown: async () => {
      await flush();
      await Promise.allSettled([prometheus?.close(), started.stop().catch(() => undefined)]);
    },
  };
}
