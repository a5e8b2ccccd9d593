// The SMA handler's OpenTelemetry set-up, put together by hand from the SDK's providers: NodeSDK
// would add to a Lambda cold start for nothing the handler uses (docs/decisions/telemetry-sdk.md).
// Loaded only when something is exported (sma.ts). Its tracer provider is not registered globally:
// the handler's spans come from its own tracer.
import { metrics } from '@opentelemetry/api';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  ParentBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { exportingTelemetry, logDiagnostics, pipelines } from './exporters.js';
import { resourceAttributes } from './resource.js';
import type { StartSdk } from './telemetry.js';

export const startSmaSdk: StartSdk = async (config, opts) => {
  logDiagnostics(opts.logger);
  const resource = resourceFromAttributes(resourceAttributes(config)).merge(
    detectResources({ detectors: [envDetector] }),
  );
  const p = await pipelines(config, opts);
  const meterProvider =
    p.readers.length > 0 ? new MeterProvider({ resource, readers: p.readers }) : undefined;
  const tracerProvider = opts.traces
    ? new BasicTracerProvider({
        resource,
        // Every call's trace is recorded: the SMA starts it, and the agent follows its decision.
        sampler: opts.sampler ?? new ParentBasedSampler({ root: new AlwaysOnSampler() }),
        ...(opts.idGenerator ? { idGenerator: opts.idGenerator } : {}),
        spanProcessors: p.processors,
      })
    : undefined;
  return exportingTelemetry(config, opts, {
    ...p,
    // Traces without metrics leave metrics to the API's no-ops.
    meter: (name) => (meterProvider ?? metrics).getMeter(name),
    tracerProvider,
    stop: async () => {
      await Promise.allSettled([meterProvider?.shutdown(), tracerProvider?.shutdown()]);
    },
  });
};
