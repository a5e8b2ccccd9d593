// Shared arrangements for the telemetry suites: the real telemetry set-up with in-memory readers
// and exporters, and whole simulated calls through the real SMA handler (the detector of values
// that must never become attributes is in sensitive.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { initializeLogger, voice } from '@livekit/agents';
import { context } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { pino } from 'pino';
import { createCallAgent } from '../../agent/call-agent.js';
import { readCallContext } from '../../agent/call-context.js';
import { ChimeCallControl } from '../../agent/call-control.js';
import { DialogueLLM } from '../../agent/dialogue/dialogue-llm.js';
import { createHandler, type SmaHandler } from '../../lambdas/sma/handler.js';
import { noJournal, type CallJournal } from '../../lambdas/sma/journal.js';
import {
  startAgentJobTelemetry,
  startAgentWorkerTelemetry,
  type AgentWorkerTelemetry,
} from '../../otel/agent-worker.js';
import { loadTelemetryConfig, type TelemetryConfig } from '../../otel/config.js';
import { startSmaTelemetry, type SmaTelemetry } from '../../otel/sma.js';
import { SimulatedChimeCall } from '../../lab/chime/simulated-call.js';
import { startVoiceApiServer, type VoiceApiServer } from '../../lab/chime/voice-api-server.js';
import { parseUseCases } from '../../contracts/use-cases.js';
import { parse } from 'yaml';
import { ROOT, USE_CASES_JSON, testConfig } from './sma.js';

export const silent = pino({ level: 'silent' });

/** Telemetry configuration as a process would read it, nothing exported unless asked. */
export function telemetryConfig(
  env: Record<string, string> = {},
  component: 'sma' | 'agent' = 'sma',
): TelemetryConfig {
  return loadTelemetryConfig({ OTEL_METRICS_EXPORTER: 'none', ...env }, component);
}

/** The agent worker's real telemetry set-up, its Prometheus endpoint on any free loopback port. */
export function agentWorkerServingPrometheus(): Promise<AgentWorkerTelemetry> {
  return startAgentWorkerTelemetry(
    telemetryConfig(
      { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_PORT: '0' },
      'agent',
    ),
    silent,
    { env: {} },
  );
}

/** A metric reader whose `collect()` returns the cumulative state of every instrument. */
export function memoryMetrics() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  return {
    reader,
    async collect(): Promise<MetricData[]> {
      await reader.forceFlush();
      const last = exporter.getMetrics().at(-1);
      exporter.reset();
      return last?.scopeMetrics.flatMap((s) => s.metrics) ?? [];
    },
  };
}

export function memorySpans() {
  const exporter = new InMemorySpanExporter();
  return { exporter, processor: new SimpleSpanProcessor(exporter) };
}

/** The SMA's real telemetry set-up (otel/sma.ts) exporting to memory. */
export async function smaTelemetryInMemory() {
  const metrics = memoryMetrics();
  const spans = memorySpans();
  const otel: SmaTelemetry = await startSmaTelemetry(telemetryConfig(), silent, {
    exportMetricsTo: [metrics.reader],
    exportSpansTo: [spans.processor],
  });
  return { otel, metrics, spans };
}

export function smaHandler(otel: SmaTelemetry, journal: CallJournal = noJournal): SmaHandler {
  return otel.flushingEach(
    createHandler({
      config: testConfig(),
      journal,
      instruments: otel.instruments,
      tracing: otel.tracing,
      logger: silent,
      now: Date.now,
    }),
  );
}

export const CALLER = '+12065550100';
export const DIALED = '+12025550131';

export function simulatedCall(
  handler: (e: unknown) => Promise<unknown>,
  transactionId: string,
  opts: Partial<ConstructorParameters<typeof SimulatedChimeCall>[0]> = {},
): SimulatedChimeCall {
  return new SimulatedChimeCall({
    handler,
    call: { transactionId, smaId: 'sma-test', region: 'us-east-1', accountId: '111122223333' },
    caller: CALLER,
    dialed: DIALED,
    ...opts,
  });
}

/**
 * Whole calls covering every path that records a metric: a transfer connected (with the agent's
 * traceparent), one whose queue and fallback do not answer, the agent ending a call, the agent leg
 * not answering, an update carrying another call's token (forged), a refused queue that looks like
 * a phone number, a caller hanging up mid-call.
 * `transferDelayMs` is how long before the transfer request the agent decided.
 */
export async function runCalls(
  handler: (e: unknown) => Promise<unknown>,
  opts: { transferDelayMs?: number; agentTraceparent?: string; idPrefix?: string } = {},
): Promise<SimulatedChimeCall[]> {
  const delay = opts.transferDelayMs ?? 800;
  const id = (n: number) =>
    `${opts.idPrefix ?? '5d2c8e0a'}-0000-4000-8000-${String(n).padStart(12, '0')}`;
  const transfer = (sim: SimulatedChimeCall) =>
    sim.update({
      action: 'transfer',
      queue: 'general',
      reason: 'caller_asked',
      requestedAt: String(Date.now() - delay),
      token: sim.callToken ?? '',
      ...(opts.agentTraceparent ? { traceparent: opts.agentTraceparent } : {}),
    });
  const calls: SimulatedChimeCall[] = [];
  const run = async (sim: SimulatedChimeCall, script: (s: SimulatedChimeCall) => Promise<void>) => {
    calls.push(sim);
    await sim.startInbound();
    await script(sim);
  };
  await run(simulatedCall(handler, id(1)), async (s) => {
    await transfer(s);
    await s.remoteHangup('LEG-A');
  });
  await run(simulatedCall(handler, id(2), { numberAnswers: () => false }), transfer);
  await run(simulatedCall(handler, id(3)), (s) =>
    s.update({
      action: 'hangup',
      reason: 'caller_done',
      requestedAt: String(Date.now()),
      token: s.callToken ?? '',
    }),
  );
  await run(simulatedCall(handler, id(4), { agentAnswers: false }), (s) => s.remoteHangup('LEG-A'));
  await run(simulatedCall(handler, id(5)), async (s) => {
    const forged = calls[0]?.callToken ?? '';
    await s.update({ action: 'transfer', queue: 'general', reason: 'caller_asked', token: forged });
    const token = s.callToken ?? '';
    await s.update({ action: 'transfer', queue: '+1 206 555 0199', reason: 'caller_asked', token });
    await s.remoteHangup('LEG-A');
  });
  return calls;
}

/** A journal whose writes fail (DynamoDB down): counted, not fatal. */
export const failingJournal: CallJournal = {
  record: async () => ({ event: 'failed', state: 'failed', errors: ['timeout'] }),
};

/** A journal that throws: the handler answers safely and counts a handler error. */
export const throwingJournal: CallJournal = {
  record: async () => {
    throw new Error('boom');
  },
};

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return typeof addr === 'object' && addr ? addr.port : 0;
}

// ---- the agent side of a call ----

export interface AgentCallHarness {
  /** Spans the job process's telemetry exported. */
  spans: InMemorySpanExporter;
  /** Chime SDK Voice API requests the agent made. */
  api: VoiceApiServer;
  /** Runs a session as runCall does (started under X-Traceparent) and says `userInput`. */
  talk(attrs: Record<string, string>, userInput: string): Promise<voice.AgentSession>;
  /** Closes the sessions and flushes spans (the job ending); `spans` still holds them. */
  end(): Promise<void>;
  /** Stops the telemetry (clearing `spans`, unregistering its globals) and the stand-in. */
  dispose(): Promise<void>;
}

/**
 * The agent's job-process telemetry (otel/agent-worker.ts, exporting spans to memory), the
 * framework's own session with the local dialogue engine, and the real ChimeCallControl talking
 * to the local Chime SDK Voice API stand-in, whose updates go to `onUpdate` (the SMA's side).
 */
export async function agentCallHarness(
  onUpdate: (transactionId: string, args: Record<string, string>) => Promise<boolean>,
): Promise<AgentCallHarness> {
  initializeLogger({ pretty: false, level: 'error' });
  const spans = memorySpans();
  const job = await startAgentJobTelemetry(telemetryConfig({}, 'agent'), silent, {
    env: {},
    exportSpansTo: [spans.processor],
  });
  const api = await startVoiceApiServer(
    { onUpdate: (_sma, tx, args) => onUpdate(tx, args) },
    { ratePerSecond: 100 },
  );
  process.env['AWS_ENDPOINT_URL_CHIME_SDK_VOICE'] = api.endpoint;
  process.env['AWS_ACCESS_KEY_ID'] = 'test';
  process.env['AWS_SECRET_ACCESS_KEY'] = 'test';
  const useCases = parseUseCases(USE_CASES_JSON);
  const sessions: voice.AgentSession[] = [];
  const end = async () => {
    for (const s of sessions.splice(0)) await s.close();
    await job.flush();
  };
  return {
    spans: spans.exporter,
    api,
    async talk(attrs, userInput) {
      const call = readCallContext(attrs, useCases);
      const control = call.sma ? ChimeCallControl.forCall(call.sma) : undefined;
      const agent = createCallAgent({ call, control, logger: silent, leave: () => undefined });
      const session = new voice.AgentSession({ llm: new DialogueLLM(call.useCase) });
      sessions.push(session);
      await context.with(call.traceContext, () => session.start({ agent }));
      await session.run({ userInput }).wait();
      return session;
    },
    end,
    async dispose() {
      await end();
      await job.telemetry.shutdown();
      await api.stop();
    },
  };
}

// ---- the alert rules and dashboards ----

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export const ALERT_RULES_FILE = join(ROOT, 'otel', 'prometheus', 'callbridge-alerts.yml');

export function alertRules(): AlertRule[] {
  const doc = parse(readFileSync(ALERT_RULES_FILE, 'utf8')) as { groups: { rules: AlertRule[] }[] };
  return doc.groups.flatMap((g) => g.rules);
}

/** Every panel query of every dashboard, with its dashboard and panel titles. */
export function dashboardQueries(): { panel: string; expr: string }[] {
  const dir = join(ROOT, 'otel', 'grafana', 'dashboards');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      const d = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
        title: string;
        panels: { title: string; targets?: { expr: string; legendFormat?: string }[] }[];
      };
      return d.panels.flatMap((p) =>
        (p.targets ?? []).map((t) => ({
          panel: `${d.title} / ${p.title} / ${t.legendFormat ?? ''}`,
          expr: t.expr,
        })),
      );
    });
}

export function dashboardExprs(): string[] {
  return dashboardQueries().map((q) => q.expr);
}
