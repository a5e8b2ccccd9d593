// Telemetry of the SMA Lambda: its instruments and spans, and the flush after every invocation
// (a Lambda environment is frozen between invocations, so nothing may wait for a timer).
import type { MetricReader } from '@opentelemetry/sdk-metrics';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import type { TelemetryConfig } from './config.js';
import { createSmaInstruments, type SmaInstruments } from './instruments.js';
import { CallIdGenerator, SMA_TRACER, noTracing, type CallTracing } from './sma-tracing.js';
import { flushWithin, startTelemetry, type Telemetry } from './telemetry.js';

export const SMA_METER = 'callbridge.sma';

export interface SmaTelemetry {
  telemetry: Telemetry;
  instruments: SmaInstruments;
  tracing: CallTracing;
  /** `handler`, flushing telemetry before each answer (unchanged when nothing is exported). */
  flushingEach<E, R>(handler: (event: E) => Promise<R>): (event: E) => Promise<R>;
}

export async function startSmaTelemetry(
  config: TelemetryConfig,
  logger: Logger,
  /** Tests: in-memory readers and exporters besides the configured ones. */
  extra: { exportMetricsTo?: MetricReader[]; exportSpansTo?: SpanProcessor[] } = {},
): Promise<SmaTelemetry> {
  const ids = new CallIdGenerator();
  const telemetry = await startTelemetry(config, { logger, idGenerator: ids, ...extra }, () =>
    import('./sma-sdk.js').then((m) => m.startSmaSdk),
  );
  const provider = telemetry.tracerProvider;
  const tracing = provider
    ? new (await import('./sma-spans.js')).SmaTracing(provider.getTracer(SMA_TRACER), ids)
    : noTracing;
  return {
    telemetry,
    instruments: createSmaInstruments(telemetry.meter(SMA_METER)),
    tracing,
    flushingEach: (handler) => {
      if (!telemetry.enabled) return handler;
      return async (event) => {
        try {
          return await handler(event);
        } finally {
          await flushWithin(telemetry, config.flushTimeoutMs);
        }
      };
    },
  };
}
