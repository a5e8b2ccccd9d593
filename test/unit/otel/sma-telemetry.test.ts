import { describe, expect, it } from 'vitest';
import { startSmaTelemetry } from '../../../otel/sma.js';
import { flushWithin, noTelemetry, type Telemetry } from '../../../otel/telemetry.js';
import { fixture, testConfig } from '../../helpers/sma.js';
import { createHandler } from '../../../lambdas/sma/handler.js';
import { noJournal } from '../../../lambdas/sma/journal.js';
import { silent, telemetryConfig } from '../../helpers/otel.js';

describe('SMA telemetry with nothing to export', () => {
  it('loads no SDK and leaves the handler as it is: nothing to flush per invocation', async () => {
    const otel = await startSmaTelemetry(telemetryConfig(), silent);
    expect(otel.telemetry).toBe(noTelemetry);
    const handler = createHandler({
      config: testConfig(),
      journal: noJournal,
      instruments: otel.instruments,
      tracing: otel.tracing,
      logger: silent,
      now: Date.now,
    });
    expect(otel.flushingEach(handler)).toBe(handler);
    const response = await otel.flushingEach(handler)(fixture('new-inbound-call'));
    expect(response.Actions.map((a) => a.Type)).toEqual(['CallAndBridge']);
  });
});

describe('flushWithin', () => {
  it('gives up on a flush that does not finish within its budget', async () => {
    const stuck: Telemetry = { ...noTelemetry, enabled: true, flush: () => new Promise(() => {}) };
    await expect(flushWithin(stuck, 20)).resolves.toBeUndefined();
  });

  it('waits for a flush that does', async () => {
    let flushed = false;
    const quick: Telemetry = {
      ...noTelemetry,
      enabled: true,
      flush: async () => {
        flushed = true;
      },
    };
    await flushWithin(quick, 5_000);
    expect(flushed).toBe(true);
  });
});
