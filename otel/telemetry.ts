// The one OpenTelemetry set-up of every callbridge process (the SMA Lambda, the agent worker and
// its job processes): a MeterProvider and a TracerProvider with the exporters the configuration
// names. With nothing to export, nothing of the SDK is even loaded: instruments and tracers are
// the API's no-ops, and flushing costs nothing. That keeps the Lambda's cold start as it was.
import { metrics, type Meter, type TracerProvider } from '@opentelemetry/api';
import type { MetricReader } from '@opentelemetry/sdk-metrics';
import type { IdGenerator, Sampler, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import type { TelemetryConfig } from './config.js';

export interface TelemetryOptions {
  logger: Logger;
  /** Record and export metrics in this process (default true). */
  metrics?: boolean;
  /** Record and export spans in this process (default true). */
  traces?: boolean;
  /**
   * Register the tracer provider globally, with Node's async context manager: the agents
   * framework and tools deep in it find the active span through it (the agent's job processes).
   */
  registerGlobal?: boolean;
  /** More span processors (the agents framework's fan-out for its PII filter). */
  spanProcessors?: SpanProcessor[];
  /** Exporting span processors besides the configured exporters (tests: in-memory ones). */
  exportSpansTo?: SpanProcessor[];
  /** Metric readers besides the configured exporters (tests: in-memory ones). */
  exportMetricsTo?: MetricReader[];
  sampler?: Sampler;
  idGenerator?: IdGenerator;
}

export interface Telemetry {
  /** False when nothing is exported (everything below is then a no-op). */
  readonly enabled: boolean;
  meter(name: string): Meter;
  /** The SDK tracer provider, when spans are recorded. */
  readonly tracerProvider: TracerProvider | undefined;
  /** The Prometheus scrape endpoint, when one is served. */
  readonly prometheusUrl: string | undefined;
  /** Exports what is pending (metrics and spans); never rejects. */
  flush(): Promise<void>;
  /** Flushes, then stops exporters and the scrape endpoint; never rejects. */
  shutdown(): Promise<void>;
}

export const noTelemetry: Telemetry = {
  enabled: false,
  meter: (name) => metrics.getMeter(name),
  tracerProvider: undefined,
  prometheusUrl: undefined,
  flush: async () => {},
  shutdown: async () => {},
};

export async function startTelemetry(
  config: TelemetryConfig,
  opts: TelemetryOptions,
): Promise<Telemetry> {
  const wantMetrics =
    (opts.metrics ?? true) &&
    (config.metricsExporters.length > 0 || (opts.exportMetricsTo?.length ?? 0) > 0);
  const wantTraces =
    (opts.traces ?? true) &&
    (config.tracesExporters.length > 0 || (opts.exportSpansTo?.length ?? 0) > 0);
  if (!wantMetrics && !wantTraces) return noTelemetry;
  // Loaded only when something is exported (the Lambda bundle keeps it in a separate chunk).
  const { startSdk } = await import('./sdk.js');
  return startSdk(config, { ...opts, metrics: wantMetrics, traces: wantTraces });
}

/** Waits for `work` at most `timeoutMs` (it goes on in the background past that). */
export async function within(work: Promise<unknown> | undefined, timeoutMs: number): Promise<void> {
  if (!work) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}

/**
 * Flushes within a time budget. What misses it is still exported in the background (spans stay
 * queued; metrics go out again with the next export), so a slow collector never holds up Chime's
 * answer for long. Costs nothing when telemetry is off.
 */
export async function flushWithin(t: Telemetry, timeoutMs: number): Promise<void> {
  if (t.enabled) await within(t.flush(), timeoutMs);
}
