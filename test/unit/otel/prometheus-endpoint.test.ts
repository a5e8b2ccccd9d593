// The agent worker's scrape endpoint, started by the real set-up: names as the OpenTelemetry
// Collector's conversion gives them (unit suffix, _total), the resource as target_info, loopback by
// default, and a worker that keeps running when its port is taken.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pkg from '../../../package.json' with { type: 'json' };
import { startAgentTelemetry, type AgentWorkerTelemetry } from '../../../otel/agent-worker.js';
import { createAgentInstruments, createSmaInstruments } from '../../../otel/instruments.js';
import { prometheusBaseName } from '../../../otel/prometheus-endpoint.js';
import { agentWorkerServingPrometheus, silent, telemetryConfig } from '../../helpers/otel.js';

describe('prometheusBaseName', () => {
  it.each([
    ['voice.call.time_to_first_audio', 's', 'voice_call_time_to_first_audio_seconds'],
    ['sma.invocation.duration', 's', 'sma_invocation_duration_seconds'],
    ['voice.calls.active', '{call}', 'voice_calls_active'],
    ['voice.transfers', '{transfer}', 'voice_transfers'],
    ['queue.wait_seconds', 's', 'queue_wait_seconds'],
    ['payload.size', 'By', 'payload_size_bytes'],
    ['ratio', '1', 'ratio'],
  ])('%s (%s) is %s', (name, unit, expected) => {
    expect(prometheusBaseName(name, unit)).toBe(expected);
  });
});

describe('agent worker scrape endpoint', () => {
  let worker: AgentWorkerTelemetry;
  let body = '';

  beforeAll(async () => {
    worker = await agentWorkerServingPrometheus();
    const meter = worker.telemetry.meter('callbridge.test');
    const agent = createAgentInstruments(meter);
    const sma = createSmaInstruments(meter);
    agent.timeToFirstAudio.record(0.3, { component: 'agent', use_case: 'city-311' });
    agent.activeCalls.add(2, { component: 'agent', use_case: 'city-311' });
    sma.transfers.add(1, { outcome: 'connected', reason: 'caller_asked', use_case: 'city-311' });
    sma.journalFailures.add(1, { event_type: 'HANGUP' });
    body = await (await fetch(worker.telemetry.prometheusUrl!)).text();
  });

  afterAll(async () => {
    await worker?.shutdown();
  });

  it('listens on loopback by default, on any free port when asked for port 0', () => {
    expect(worker.telemetry.prometheusUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(worker.telemetry.prometheusUrl).not.toMatch(/:0\//);
  });

  it('names series as the OpenTelemetry conversion does', () => {
    expect(body).toContain('# TYPE voice_call_time_to_first_audio_seconds histogram');
    expect(body).toMatch(
      /^voice_call_time_to_first_audio_seconds_bucket\{component="agent",use_case="city-311",[^}]*le="0\.3"\} 1$/m,
    );
    expect(body).toMatch(/^voice_call_time_to_first_audio_seconds_count\{.*\} 1$/m);
    expect(body).toMatch(/^voice_calls_active\{component="agent",use_case="city-311",.*\} 2$/m);
    expect(body).toMatch(
      /^voice_transfers_total\{outcome="connected",reason="caller_asked",use_case="city-311",.*\} 1$/m,
    );
    expect(body).toMatch(/^sma_journal_failures_total\{event_type="HANGUP",.*\} 1$/m);
  });

  it('describes the process in target_info: service, version, environment', () => {
    const info = body.split('\n').find((l) => l.startsWith('target_info{'));
    expect(info).toContain('service_name="callbridge-agent"');
    expect(info).toContain(`service_version="${pkg.version}"`);
    expect(info).toContain('service_namespace="callbridge"');
    expect(info).toContain('deployment_environment_name="local"');
  });

  it('answers 404 off /metrics', async () => {
    const url = new URL(worker.telemetry.prometheusUrl!);
    expect((await fetch(new URL('/', url))).status).toBe(404);
  });
});

describe('a scrape as the worker starts', () => {
  it("waits for the resource's detectors instead of reporting a telemetry problem", async () => {
    const problems: object[] = [];
    const logger = {
      ...silent,
      error: (obj: object) => problems.push(obj),
      warn: (obj: object) => problems.push(obj),
      info: () => undefined,
    } as unknown as typeof silent;
    const t = await startAgentTelemetry(
      telemetryConfig(
        { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_PORT: '0' },
        'agent',
      ),
      { logger },
    );
    try {
      // At once: the host detector's machine id is read asynchronously.
      const body = await (await fetch(t.prometheusUrl!)).text();
      expect(problems).toEqual([]);
      expect(body.split('\n').find((l) => l.startsWith('target_info{'))).toContain('host_name=');
    } finally {
      await t.shutdown();
    }
  });
});

describe('a taken port', () => {
  it('is logged and the worker runs on without the endpoint', async () => {
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    const port = (squatter.address() as { port: number }).port;
    const logged: { obj: object; msg: string }[] = [];
    const logger = {
      ...silent,
      error: (obj: object, msg: string) => logged.push({ obj, msg }),
      info: () => undefined,
      warn: () => undefined,
    } as unknown as typeof silent;
    const t = await startAgentTelemetry(
      telemetryConfig(
        { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_PORT: String(port) },
        'agent',
      ),
      { logger },
    );
    expect(t.prometheusUrl).toBeUndefined();
    expect(logged).toEqual([
      {
        obj: { reason: 'prometheus_endpoint_failed', code: 'EADDRINUSE', host: '127.0.0.1', port },
        msg: 'metrics endpoint not started; set OTEL_EXPORTER_PROMETHEUS_PORT',
      },
    ]);
    await t.shutdown();
    await new Promise<void>((r) => squatter.close(() => r()));
  });
});
