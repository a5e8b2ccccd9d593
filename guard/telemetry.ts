// The call guard's metrics (otel/instruments.ts createGuardInstruments), exported as the
// configuration says. It starts the lean set-up the SMA handler uses (otel/sma-sdk.ts): a meter
// provider of its own, nothing registered globally, no spans (the guard records none).
import type { MetricReader } from '@opentelemetry/sdk-metrics';
import type { Logger } from 'pino';
import type { TelemetryConfig } from '../otel/config.js';
import { createGuardInstruments, type GuardInstruments } from '../otel/instruments.js';
import { startTelemetry, type Telemetry } from '../otel/telemetry.js';

export const GUARD_METER = 'callbridge.guard';

export interface GuardTelemetry {
  telemetry: Telemetry;
  instruments: GuardInstruments;
}

export async function startGuardTelemetry(
  config: TelemetryConfig,
  logger: Logger,
  /** Tests: in-memory readers besides the configured ones. */
  extra: { exportMetricsTo?: MetricReader[] } = {},
): Promise<GuardTelemetry> {
  const telemetry = await startTelemetry(config, { logger, traces: false, ...extra }, () =>
    import('../otel/sma-sdk.js').then((m) => m.startSmaSdk),
  );
  const instruments = createGuardInstruments(telemetry.meter(GUARD_METER));
  // Every reason starts at 0, so dashboards show 0 rather than no data.
  for (const reason of ['webhook', 'worker_lost', 'sweep_no_agent', 'sweep_call_ended'] as const) {
    instruments.roomsEnded.add(0, { reason });
  }
  instruments.orphanedCalls.add(0);
  return { telemetry, instruments };
}
