// The OpenTelemetry SDK, loaded only when something is exported (see telemetry.ts). The OTLP
// exporters are imported only when chosen: they bring protobuf encoding with them. They read the
// rest of their standard variables themselves (endpoints, OTEL_EXPORTER_OTLP_HEADERS, timeouts,
// OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE).
import { DiagLogLevel, diag, metrics, type DiagLogger } from '@opentelemetry/api';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import type { TelemetryConfig } from './config.js';
import type { PrometheusEndpoint } from './prometheus-endpoint.js';
import { resourceAttributes } from './resource.js';
import type { Telemetry, TelemetryOptions } from './telemetry.js';

/** OpenTelemetry's own warnings (an export that failed, say) go to the process's log. */
function diagLogger(log: Logger): DiagLogger {
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
  return { error: at('error'), warn: at('warn'), info: quiet, debug: quiet, verbose: quiet };
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

export async function startSdk(
  config: TelemetryConfig,
  opts: TelemetryOptions,
): Promise<Telemetry> {
  const log = opts.logger;
  diag.setLogger(diagLogger(log), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  const resource = resourceFromAttributes(resourceAttributes(config)).merge(
    detectResources({ detectors: [envDetector] }),
  );

  const { readers, prometheus } = opts.metrics
    ? await metricReaders(config, log)
    : { readers: [], prometheus: undefined };
  if (opts.metrics) readers.push(...(opts.exportMetricsTo ?? []));
  const meterProvider = readers.length > 0 ? new MeterProvider({ resource, readers }) : undefined;

  let tracerProvider: BasicTracerProvider | undefined;
  if (opts.traces) {
    const tracerOptions = {
      resource,
      sampler: opts.sampler ?? new ParentBasedSampler({ root: new AlwaysOnSampler() }),
      ...(opts.idGenerator ? { idGenerator: opts.idGenerator } : {}),
      spanProcessors: [
        ...(await spanProcessors(config)),
        ...(opts.exportSpansTo ?? []),
        ...(opts.spanProcessors ?? []),
      ],
    };
    if (opts.registerGlobal) {
      const { NodeTracerProvider } = await import('@opentelemetry/sdk-trace-node');
      const provider = new NodeTracerProvider(tracerOptions);
      provider.register();
      tracerProvider = provider;
    } else {
      tracerProvider = new BasicTracerProvider(tracerOptions);
    }
  }

  const flush = async () => {
    const results = await Promise.allSettled([
      meterProvider?.forceFlush(),
      tracerProvider?.forceFlush(),
    ]);
    for (const r of results) {
      if (r.status === 'rejected') {
        log.warn({ reason: 'telemetry_flush_failed', err: r.reason }, 'telemetry not flushed');
      }
    }
  };

  log.info(
    {
      service: config.serviceName,
      environment: config.environment,
      metrics: opts.metrics ? config.metricsExporters : [],
      traces: opts.traces ? config.tracesExporters : [],
      prometheus: prometheus?.url,
    },
    'telemetry started',
  );
  return {
    enabled: true,
    // Traces without metrics leave metrics to the API's no-ops.
    meter: (name) => (meterProvider ?? metrics).getMeter(name),
    tracerProvider,
    prometheusUrl: prometheus?.url,
    flush,
    shutdown: async () => {
      await flush();
      await Promise.allSettled([
        prometheus?.close(),
        meterProvider?.shutdown(),
        tracerProvider?.shutdown(),
      ]);
    },
  };
}
