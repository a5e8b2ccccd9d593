// The agent worker's OpenTelemetry set-up, through NodeSDK (@opentelemetry/sdk-node). NodeSDK
// builds the resource (OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME, the process and host detectors
// or those OTEL_NODE_RESOURCE_DETECTORS names), the propagator (OTEL_PROPAGATORS), span limits
// (OTEL_SPAN_*_LIMIT), the providers, their global registration with Node's async context (the
// agents framework finds the active span through it) and their shutdown.
// The readers and span processors stay the project's (exporters.ts): NodeSDK reads
// OTEL_METRICS_EXPORTER and OTEL_TRACES_EXPORTER only when given none, and the worker always has
// one of its own (the Prometheus endpoint, the framework's PII filter, tests' in-memory ones).
// Loaded only when something is exported (agent-worker.ts); see docs/decisions/telemetry-sdk.md.
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationType } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { exportingTelemetry, logDiagnostics, pipelines } from './exporters.js';
import { resourceAttributes } from './resource.js';
import type { StartSdk } from './telemetry.js';

/** The agents framework's own meter (its event loop monitor), not part of the metric contract. */
const FRAMEWORK_METER = 'livekit-agents';

export const startAgentSdk: StartSdk = async (config, opts) => {
  // Before NodeSDK, which replaces it with a console logger when OTEL_LOG_LEVEL asks for one.
  logDiagnostics(opts.logger);
  const p = await pipelines(config, opts);
  const sdk = new NodeSDK({
    resource: defaultResource().merge(resourceFromAttributes(resourceAttributes(config))),
    metricReaders: p.readers,
    // The provider is global, where the framework records too: only the metrics of
    // docs/architecture.md are exported.
    views: [{ meterName: FRAMEWORK_METER, aggregation: { type: AggregationType.DROP } }],
    spanProcessors: p.processors,
    // Logs go to stdout through pino: none over OTLP (NodeSDK's default without this).
    logRecordProcessors: [],
    ...(opts.sampler ? { sampler: opts.sampler } : {}),
    ...(opts.idGenerator ? { idGenerator: opts.idGenerator } : {}),
  });
  sdk.start();
  return exportingTelemetry(config, opts, {
    ...p,
    // Without readers NodeSDK registers no meter provider: the API's no-ops.
    meter: (name) => metrics.getMeter(name),
    tracerProvider: p.processors.length > 0 ? trace.getTracerProvider() : undefined,
    stop: async () => {
      await sdk.shutdown();
      // NodeSDK leaves its providers registered: the API answers with no-ops again, as before
      // start, and a later start in the same process (tests) registers its own.
      metrics.disable();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  });
};
