import { describe, expect, it } from 'vitest';
import { loadTelemetryConfig, TelemetryConfigError } from '../../../otel/config.js';
import { loadSmaConfig } from '../../../lambdas/sma/config.js';
import { LOCAL_SMA_ENV } from '../../../lab/chime/local-sma-env.js';
import { loadAgentConfig } from '../../../agent/config.js';
import { USE_CASES_JSON } from '../../helpers/sma.js';

describe('loadTelemetryConfig', () => {
  it('exports nothing from the SMA and serves Prometheus on loopback from the agent by default', () => {
    const sma = loadTelemetryConfig({}, 'sma');
    expect(sma).toMatchObject({
      serviceName: 'callbridge-sma',
      environment: 'local',
      metricsExporters: [],
      tracesExporters: [],
      flushTimeoutMs: 500,
    });
    const agent = loadTelemetryConfig({}, 'agent');
    expect(agent).toMatchObject({
      serviceName: 'callbridge-agent',
      metricsExporters: ['prometheus'],
      tracesExporters: [],
      prometheus: { host: '127.0.0.1', port: 9464 },
    });
  });

  it('exports metrics and traces over OTLP when an OTLP endpoint is set', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(loadTelemetryConfig(env, 'sma')).toMatchObject({
      metricsExporters: ['otlp'],
      tracesExporters: ['otlp'],
    });
    expect(loadTelemetryConfig(env, 'agent').metricsExporters).toEqual(['otlp']);
    expect(
      loadTelemetryConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }, 'sma'),
    ).toMatchObject({ metricsExporters: [], tracesExporters: ['otlp'] });
  });

  it('takes the exporters named, in a comma-separated list, and none as none', () => {
    const c = loadTelemetryConfig(
      {
        OTEL_METRICS_EXPORTER: 'prometheus, OTLP',
        OTEL_TRACES_EXPORTER: 'console',
        OTEL_EXPORTER_PROMETHEUS_HOST: '0.0.0.0',
        OTEL_EXPORTER_PROMETHEUS_PORT: '0',
        OTEL_SERVICE_NAME: 'agent-eu',
        DEPLOYMENT_ENVIRONMENT: 'prod',
      },
      'agent',
    );
    expect(c).toMatchObject({
      serviceName: 'agent-eu',
      environment: 'prod',
      metricsExporters: ['prometheus', 'otlp'],
      tracesExporters: ['console'],
      prometheus: { host: '0.0.0.0', port: 0 },
    });
    expect(
      loadTelemetryConfig({ OTEL_METRICS_EXPORTER: 'none' }, 'agent').metricsExporters,
    ).toEqual([]);
  });

  it('turns everything off with OTEL_SDK_DISABLED=true', () => {
    const c = loadTelemetryConfig(
      { OTEL_SDK_DISABLED: 'TRUE', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' },
      'agent',
    );
    expect([c.metricsExporters, c.tracesExporters]).toEqual([[], []]);
  });

  it('reads an empty variable as unset', () => {
    expect(
      loadTelemetryConfig({ OTEL_TRACES_EXPORTER: '', OTEL_EXPORTER_OTLP_ENDPOINT: '' }, 'sma'),
    ).toMatchObject({ tracesExporters: [] });
  });

  it.each([
    [{ OTEL_METRICS_EXPORTER: 'statsd' }, 'OTEL_METRICS_EXPORTER'],
    [{ OTEL_TRACES_EXPORTER: 'jaeger' }, 'OTEL_TRACES_EXPORTER'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL: only http/protobuf'],
    [{ OTEL_EXPORTER_PROMETHEUS_PORT: '70000' }, 'OTEL_EXPORTER_PROMETHEUS_PORT'],
    [{ OTEL_METRIC_EXPORT_INTERVAL: 'soon' }, 'OTEL_METRIC_EXPORT_INTERVAL'],
    [{ DEPLOYMENT_ENVIRONMENT: 'Prod Env' }, 'DEPLOYMENT_ENVIRONMENT'],
    [{ TELEMETRY_FLUSH_TIMEOUT_MS: '9000' }, 'TELEMETRY_FLUSH_TIMEOUT_MS'],
  ])('refuses %j, naming the variable', (env, named) => {
    expect(() => loadTelemetryConfig(env, 'agent')).toThrow(TelemetryConfigError);
    expect(() => loadTelemetryConfig(env, 'agent')).toThrow(named);
  });

  it('refuses a Prometheus endpoint in Lambda, which cannot be scraped', () => {
    const env = { OTEL_METRICS_EXPORTER: 'prometheus', AWS_LAMBDA_FUNCTION_NAME: 'callbridge-sma' };
    expect(() => loadTelemetryConfig(env, 'sma')).toThrow(
      /OTEL_METRICS_EXPORTER: prometheus cannot be scraped from a Lambda/,
    );
  });

  it("serves the SMA handler's metrics for scraping in a local process (the lab)", () => {
    expect(loadTelemetryConfig({ OTEL_METRICS_EXPORTER: 'prometheus' }, 'sma')).toMatchObject({
      serviceName: 'callbridge-sma',
      metricsExporters: ['prometheus'],
    });
  });
});

describe('process configurations', () => {
  it('stop the SMA handler and the agent at start with the telemetry variable named', () => {
    const bad = { OTEL_TRACES_EXPORTER: 'zipkin' };
    expect(() => loadSmaConfig({ ...LOCAL_SMA_ENV, ...bad }, USE_CASES_JSON)).toThrow(
      /SMA handler telemetry configuration is invalid:\n {2}OTEL_TRACES_EXPORTER/,
    );
    expect(() => loadAgentConfig(bad, USE_CASES_JSON)).toThrow(
      /agent telemetry configuration is invalid:\n {2}OTEL_TRACES_EXPORTER/,
    );
  });

  it('carry the telemetry configuration', () => {
    const sma = loadSmaConfig(
      { ...LOCAL_SMA_ENV, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' },
      USE_CASES_JSON,
    );
    expect(sma.telemetry.tracesExporters).toEqual(['otlp']);
    const agent = loadAgentConfig({ AGENT_DEV_ROOMS_ONLY: 'true' }, USE_CASES_JSON);
    expect(agent.telemetry.metricsExporters).toEqual(['prometheus']);
  });
});
