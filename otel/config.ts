// Telemetry configuration from the standard OpenTelemetry variables
// (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/), validated
// once at start like the rest of each process's configuration. Only what this project bundles is
// accepted: OTLP over HTTP/protobuf, Prometheus (the agent worker only), console, none. Header
// values (OTEL_EXPORTER_OTLP_HEADERS) may hold credentials: they are read by the exporters
// themselves and never copied here or logged.
import * as z from 'zod';

export class TelemetryConfigError extends Error {
  override name = 'TelemetryConfigError';
}

/** Which process reads the configuration: defaults and what is allowed differ. */
export type TelemetryComponent = 'sma' | 'agent' | 'guard';

export const MetricsExporter = z.enum(['otlp', 'prometheus', 'console', 'none']);
export const TracesExporter = z.enum(['otlp', 'console', 'none']);
export type MetricsExporter = z.infer<typeof MetricsExporter>;
export type TracesExporter = z.infer<typeof TracesExporter>;

const names = z.string().transform((s) => s.split(',').map((p) => p.trim().toLowerCase()));

const flag = z
  .string()
  .transform((s) => s.trim().toLowerCase())
  .pipe(z.enum(['true', 'false', '']))
  .transform((s) => s === 'true')
  .default(false);

const protocol = z
  .enum(['http/protobuf', 'grpc', 'http/json'])
  .refine(
    (p) => p === 'http/protobuf',
    'only http/protobuf is bundled (grpc and http/json are not)',
  )
  .optional();

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

const millis = (def: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(def);

/** The OTEL_* variables read (docs/configuration.md lists each). */
export const envSchema = z.object({
  OTEL_SDK_DISABLED: flag,
  OTEL_SERVICE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/)
    .optional(),
  OTEL_METRICS_EXPORTER: names.pipe(z.array(MetricsExporter).min(1)).optional(),
  OTEL_TRACES_EXPORTER: names.pipe(z.array(TracesExporter).min(1)).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl.optional(),
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: httpUrl.optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: httpUrl.optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
  OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: protocol,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol,
  OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(['cumulative', 'delta', 'lowmemory']))
    .optional(),
  OTEL_EXPORTER_PROMETHEUS_HOST: z
    .string()
    .regex(/^[A-Za-z0-9.:-]{1,253}$/, 'must be a host name or an IP address')
    .default('127.0.0.1'),
  OTEL_EXPORTER_PROMETHEUS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  OTEL_METRIC_EXPORT_INTERVAL: millis(60_000, 100, 3_600_000),
  OTEL_METRIC_EXPORT_TIMEOUT: millis(30_000, 100, 600_000),
  DEPLOYMENT_ENVIRONMENT: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'must be a short lower-case name (local, staging, prod)')
    .default('local'),
  TELEMETRY_FLUSH_TIMEOUT_MS: millis(500, 10, 5_000),
});

export interface TelemetryConfig {
  component: TelemetryComponent;
  serviceName: string;
  environment: string;
  metricsExporters: MetricsExporter[];
  tracesExporters: TracesExporter[];
  prometheus: { host: string; port: number };
  /** Periodic export of metrics to OTLP or the console (ms). */
  exportIntervalMs: number;
  exportTimeoutMs: number;
  /** Time budget of the flush at the end of a Lambda invocation (ms). */
  flushTimeoutMs: number;
}

const DEFAULT_SERVICE: Record<TelemetryComponent, string> = {
  sma: 'callbridge-sma',
  agent: 'callbridge-agent',
  guard: 'callbridge-guard',
};

/** The exporters asked for; `none` anywhere (or nothing at all) means none. */
function chosen<T extends string>(asked: T[] | undefined, fallback: T[]): T[] {
  const list = asked ?? fallback;
  return list.includes('none' as T) ? [] : [...new Set(list)];
}

type TelemetryEnv = z.infer<typeof envSchema>;

function parseEnv(env: Record<string, string | undefined>): TelemetryEnv {
  // An empty variable (`OTEL_TRACES_EXPORTER=` in an env file) counts as unset.
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const res = envSchema.safeParse(set);
  if (!res.success) {
    const lines = res.error.issues.map((i) => `  ${String(i.path[0])}: ${i.message}`);
    throw new TelemetryConfigError(`telemetry configuration is invalid:\n${lines.join('\n')}`);
  }
  return res.data;
}

/**
 * Defaults where the standard leaves them to us: OTLP when an OTLP endpoint is set, else nothing,
 * except that the agent worker serves Prometheus on loopback.
 */
function exportersOf(
  e: TelemetryEnv,
  component: TelemetryComponent,
): Pick<TelemetryConfig, 'metricsExporters' | 'tracesExporters'> {
  if (e.OTEL_SDK_DISABLED) return { metricsExporters: [], tracesExporters: [] };
  const otlpMetrics =
    (e.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT ?? e.OTEL_EXPORTER_OTLP_ENDPOINT) !== undefined;
  const otlpTraces =
    (e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? e.OTEL_EXPORTER_OTLP_ENDPOINT) !== undefined;
  const metricsDefault: MetricsExporter[] = otlpMetrics
    ? ['otlp']
    : component === 'agent'
      ? ['prometheus']
      : ['none'];
  return {
    metricsExporters: chosen(e.OTEL_METRICS_EXPORTER, metricsDefault),
    tracesExporters: chosen<TracesExporter>(
      e.OTEL_TRACES_EXPORTER,
      otlpTraces ? ['otlp'] : ['none'],
    ),
  };
}

/**
 * The handler also runs in long-lived local processes (the lab, sma:replay), which can serve a
 * scrape endpoint; a Lambda function cannot.
 */
function refusePrometheusInLambda(
  env: Record<string, string | undefined>,
  metricsExporters: MetricsExporter[],
): void {
  if (env['AWS_LAMBDA_FUNCTION_NAME'] && metricsExporters.includes('prometheus')) {
    throw new TelemetryConfigError(
      'telemetry configuration is invalid:\n  OTEL_METRICS_EXPORTER: prometheus cannot be scraped ' +
        'from a Lambda function; use otlp (to a collector) or none',
    );
  }
}

export function loadTelemetryConfig(
  env: Record<string, string | undefined>,
  component: TelemetryComponent,
): TelemetryConfig {
  const e = parseEnv(env);
  const { metricsExporters, tracesExporters } = exportersOf(e, component);
  refusePrometheusInLambda(env, metricsExporters);
  return {
    component,
    serviceName: e.OTEL_SERVICE_NAME ?? DEFAULT_SERVICE[component],
    environment: e.DEPLOYMENT_ENVIRONMENT,
    metricsExporters,
    tracesExporters,
    prometheus: { host: e.OTEL_EXPORTER_PROMETHEUS_HOST, port: e.OTEL_EXPORTER_PROMETHEUS_PORT },
    exportIntervalMs: e.OTEL_METRIC_EXPORT_INTERVAL,
    exportTimeoutMs: Math.min(e.OTEL_METRIC_EXPORT_TIMEOUT, e.OTEL_METRIC_EXPORT_INTERVAL),
    flushTimeoutMs: e.TELEMETRY_FLUSH_TIMEOUT_MS,
  };
}
