// Telemetry of the agent worker. The agents framework runs each call in a job process of its own,
// forked from the worker's main process and gone after the call, so the two halves differ:
// - the main process owns the metrics: the MeterProvider, the Prometheus scrape endpoint and/or
//   the OTLP metric stream, and the relay the job processes record through (metrics-relay.ts);
// - a job process owns the call's spans: a tracer provider registered with the framework's
//   telemetry hook, so the framework's session spans, started under X-Traceparent, and the agent's
//   transfer decision span are exported into the call's trace.
// Both start through NodeSDK (agent-sdk.ts); what that costs a job process is in
// docs/decisions/telemetry-sdk.md.
import { telemetry as lkTelemetry } from '@livekit/agents';
import { trace, type Attributes, type Context, type Link, type SpanKind } from '@opentelemetry/api';
import {
  AlwaysOnSampler,
  ParentBasedSampler,
  SamplingDecision,
  type Sampler,
  type SamplingResult,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { MetricReader } from '@opentelemetry/sdk-metrics';
import type { Logger } from 'pino';
import type { TelemetryConfig } from './config.js';
import { createAgentInstruments, type AgentInstruments } from './instruments.js';
import {
  METRICS_RELAY_ENV,
  RelayClient,
  capturingMeter,
  relayMeter,
  startMetricsRelay,
} from './metrics-relay.js';
import {
  flushWithin,
  startTelemetry,
  within,
  type StartSdk,
  type Telemetry,
  type TelemetryOptions,
} from './telemetry.js';

export const AGENT_METER = 'callbridge.agent';

/** Telemetry through NodeSDK (either half), which is loaded only when something is exported. */
export function startAgentTelemetry(
  config: TelemetryConfig,
  opts: TelemetryOptions,
): Promise<Telemetry> {
  const load = (): Promise<StartSdk> => import('./agent-sdk.js').then((m) => m.startAgentSdk);
  return startTelemetry(config, opts, load);
}

export interface AgentWorkerTelemetry {
  telemetry: Telemetry;
  /** The socket job processes relay their measurements to. */
  relayPath: string;
  /** Flushes and stops everything (the relay last: job processes may still be reporting). */
  shutdown(): Promise<void>;
}

/**
 * The worker's main process. Sets {@link METRICS_RELAY_ENV} for the job processes it will fork.
 * On SIGTERM/SIGINT the framework drains its calls and then exits the process itself, with no
 * hook for us: metrics are flushed at once and then every second while it drains.
 */
export async function startAgentWorkerTelemetry(
  config: TelemetryConfig,
  logger: Logger,
  opts: { env?: Record<string, string | undefined>; exportMetricsTo?: MetricReader[] } = {},
): Promise<AgentWorkerTelemetry> {
  const env = opts.env ?? process.env;
  const telemetry = await startAgentTelemetry(config, {
    logger,
    traces: false,
    exportMetricsTo: opts.exportMetricsTo,
  });
  const { meter, sinks } = capturingMeter(telemetry.meter(AGENT_METER));
  createAgentInstruments(meter);
  const relay = await startMetricsRelay(sinks, logger);
  env[METRICS_RELAY_ENV] = relay.path;
  let draining: NodeJS.Timeout | undefined;
  const onSignal = () => {
    if (draining || !telemetry.enabled) return;
    void telemetry.flush();
    draining = setInterval(() => void telemetry.flush(), 1000).unref();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return {
    telemetry,
    relayPath: relay.path,
    shutdown: async () => {
      clearInterval(draining);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      await telemetry.shutdown();
      await relay.close();
    },
  };
}

/**
 * Drops the framework's `job_entrypoint` span, which it starts as a root before the call's trace
 * context is known (the participant's attributes come later): kept, every call would leave a
 * one-span trace of its own beside the call's. Everything else samples as its parent did (the SMA
 * marks call traces sampled).
 */
export class CallSampler implements Sampler {
  private readonly inner = new ParentBasedSampler({ root: new AlwaysOnSampler() });

  shouldSample(
    ctx: Context,
    traceId: string,
    name: string,
    kind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    if (name === 'job_entrypoint' && trace.getSpanContext(ctx) === undefined) {
      return { decision: SamplingDecision.NOT_RECORD };
    }
    return this.inner.shouldSample(ctx, traceId, name, kind, attributes, links);
  }

  toString(): string {
    return 'CallSampler';
  }
}

export interface AgentJobTelemetry {
  telemetry: Telemetry;
  instruments: AgentInstruments;
  /** Exports the call's spans and hands the last measurements over (the job is ending). */
  flush(timeoutMs?: number): Promise<void>;
}

/** A job process (one call). */
export async function startAgentJobTelemetry(
  config: TelemetryConfig,
  logger: Logger,
  opts: { env?: Record<string, string | undefined>; exportSpansTo?: SpanProcessor[] } = {},
): Promise<AgentJobTelemetry> {
  const env = opts.env ?? process.env;
  const fanout = new lkTelemetry.FanoutSpanProcessor();
  const telemetry = await startAgentTelemetry(config, {
    logger,
    metrics: false,
    sampler: new CallSampler(),
    spanProcessors: [fanout],
    exportSpansTo: opts.exportSpansTo,
  });
  if (telemetry.tracerProvider) {
    // allowPii false: the framework drops its lk.pii.* attributes (participant identity, room
    // name, transcripts, tool arguments) before any exporter sees a span.
    lkTelemetry.setTracerProvider(telemetry.tracerProvider, {
      registerSpanProcessor: (p) => fanout.add(p),
      allowPii: false,
    });
  }
  const relayPath = env[METRICS_RELAY_ENV];
  const relay = relayPath ? new RelayClient(relayPath) : undefined;
  if (!relay) logger.warn({ reason: 'no_metrics_relay' }, 'agent metrics not recorded');
  const instruments = createAgentInstruments(
    relay ? relayMeter(relay) : telemetry.meter(AGENT_METER),
  );
  return {
    telemetry,
    instruments,
    flush: async (timeoutMs = 5000) => {
      await Promise.all([flushWithin(telemetry, timeoutMs), within(relay?.close(), timeoutMs)]);
    },
  };
}
