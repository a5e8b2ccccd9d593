// What every callbridge process knows of its telemetry, whichever set-up exports it: the SMA
// handler's lean one (sma-sdk.ts) or the agent worker's NodeSDK (agent-sdk.ts); why each is what
// it is: docs/decisions/telemetry-sdk.md. With nothing to export, no SDK is even loaded:
// instruments and tracers are the API's no-ops, and flushing costs nothing.
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
  /** More span processors (the agents framework's fan-out for its PII filter). */
  spanProcessors?: SpanProcessor[];
  /** Exporting span processors besides the configured exporters (tests: in-memory ones). */
  exportSpansTo?: SpanProcessor[];
  /** Metric readers besides the configured exporters (tests: in-memory ones). */
  exportMetricsTo?: MetricReader[];
  sampler?: Sampler;
  idGenerator?: IdGenerator;
}

/** What a set-up is asked to start: at least one of the signals is exported. */
export type SdkOptions = TelemetryOptions & { metrics: boolean; traces: boolean };

/** An SDK set-up (sma-sdk.ts, agent-sdk.ts). */
export type StartSdk = (config: TelemetryConfig, opts: SdkOptions) => Promise<Telemetry>;

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

/** Starts the set-up `load` gives for what is exported; `load` is called only then. */
export async function startTelemetry(
  config: TelemetryConfig,
  opts: TelemetryOptions,
  load: () => Promise<StartSdk>,
): Promise<Telemetry> {
  const wantMetrics =
    (opts.metrics ?? true) &&
    (config.metricsExporters.length > 0 || (opts.exportMetricsTo?.length ?? 0) > 0);
  const wantTraces =
    (opts.traces ?? true) &&
    (config.tracesExporters.length > 0 || (opts.exportSpansTo?.length ?? 0) > 0);
  if (!wantMetrics && !wantTraces) return noTelemetry;
  const start = await load();
  return start(config, { ...opts, metrics: wantMetrics, traces: wantTraces });
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
