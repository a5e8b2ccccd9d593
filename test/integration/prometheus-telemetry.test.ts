// A real Prometheus (Debian `prometheus`, loopback only, storage in a temporary directory, a 1 s
// scrape and rule interval, callbridge's alert rules loaded) scrapes the agent worker's real
// endpoint (otel/agent-worker.ts). Measurements come from the project's own code: whole simulated
// calls through the SMA handler recording into the worker's meter provider, and the agent's
// latency recorder in a "job process" relaying to the worker. Then every dashboard query and every
// alert expression is evaluated through the HTTP API.
//
// Alert expressions are evaluated whole, thresholds included: the measurements are arranged so
// that every alert's condition holds (slow first audio, slow transfers, failed transfers, handler
// errors, journal failures, admission checks skipped, calls refused at a cap, 45 calls in
// progress), so each must return data, and Prometheus's own rule evaluation must have every alert
// pending (their `for` is minutes; nothing waits for that).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { metrics as lkMetrics } from '@livekit/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LatencyRecorder } from '../../agent/latency.js';
import type { CallAdmission } from '../../lambdas/sma/admission/types.js';
import { createHandler } from '../../lambdas/sma/handler.js';
import { noJournal, type CallJournal } from '../../lambdas/sma/journal.js';
import {
  startAgentJobTelemetry,
  startAgentWorkerTelemetry,
  type AgentJobTelemetry,
  type AgentWorkerTelemetry,
} from '../../otel/agent-worker.js';
import { createSmaInstruments, type SmaInstruments } from '../../otel/instruments.js';
import { fakeAdmission, testConfig } from '../helpers/sma.js';
import {
  ALERT_RULES_FILE,
  alertRules,
  dashboardQueries,
  failingJournal,
  freePort,
  runCalls,
  silent,
  simulatedCall,
  telemetryConfig,
  throwingJournal,
} from '../helpers/otel.js';

const PROMETHEUS = '/usr/bin/prometheus';
const ATTRS = { component: 'agent', use_case: 'city-311' };

let dir: string;
let prometheus: ChildProcess | undefined;
let api: string;
let worker: AgentWorkerTelemetry;
let job: AgentJobTelemetry;
let sma: SmaInstruments;

interface PromResponse<T> {
  status: 'success' | 'error';
  error?: string;
  data: T;
}
type Vector = {
  resultType: string;
  result: { metric: Record<string, string>; value: [number, string] }[];
};

async function get<T>(path: string): Promise<PromResponse<T>> {
  const res = await fetch(`${api}${path}`);
  return (await res.json()) as PromResponse<T>;
}

const query = (expr: string) => get<Vector>(`/api/v1/query?query=${encodeURIComponent(expr)}`);

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000) {
  const started = Date.now();
  while (!(await check().catch(() => false))) {
    if (Date.now() - started > timeoutMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits until Prometheus has scraped the worker after `sinceMs`. */
async function scrapedAfter(sinceMs: number): Promise<void> {
  await waitFor('a scrape', async () => {
    const t = await get<{ activeTargets: { health: string; lastScrape: string }[] }>(
      '/api/v1/targets',
    );
    const target = t.data.activeTargets[0];
    return target?.health === 'up' && Date.parse(target.lastScrape) > sinceMs + 50;
  });
}

function smaHandler(journal: CallJournal, admission?: CallAdmission) {
  return createHandler({
    config: testConfig(),
    journal,
    instruments: sma,
    logger: silent,
    now: Date.now,
    admission,
  });
}

/** DynamoDB too slow for every admission check: the calls go to the agent unchecked. */
const uncheckedAdmission = fakeAdmission(() => ({
  verdict: 'admit',
  unchecked: ['access', 'rate', 'capacity'],
})).admission;

/** Every call over a cap. */
const fullAdmission = fakeAdmission(() => ({
  verdict: 'refuse',
  reason: 'over_capacity',
  unchecked: [],
})).admission;

/**
 * `count` new calls through `handler`, each hung up by its caller. No queue answers: a refused
 * caller sent to people adds no quick transfer to the delay the transfer alert watches.
 */
async function newCalls(
  handler: (e: unknown) => Promise<unknown>,
  idPrefix: string,
  count: number,
) {
  for (let k = 1; k <= count; k++) {
    const id = `${idPrefix}-0000-4000-8000-${String(k).padStart(12, '0')}`;
    const sim = simulatedCall(handler, id, { numberAnswers: () => false });
    await sim.startInbound();
    await sim.remoteHangup('LEG-A');
  }
}

/**
 * One round of measurements: whole calls (transfers 3 s after the agent's decision, one in four
 * reaching no one), calls whose journal writes fail or throw, new calls admitted unchecked (3 in
 * 25) and refused at a cap, and agent calls with a slow first audio (2.2 s) and 0.9 s turns in
 * their four parts. Run twice, so every series exists before it grows.
 */
async function round(n: number): Promise<void> {
  const prefix = (k: number) => `${n}${k}${'0'.repeat(6)}`.slice(0, 8);
  await runCalls(smaHandler(noJournal), { transferDelayMs: 3000, idPrefix: prefix(1) });
  await runCalls(smaHandler(noJournal), { transferDelayMs: 3000, idPrefix: prefix(2) });
  await runCalls(smaHandler(failingJournal), { transferDelayMs: 3000, idPrefix: prefix(3) });
  await runCalls(smaHandler(throwingJournal), { idPrefix: prefix(4) });
  await newCalls(smaHandler(noJournal, uncheckedAdmission), prefix(5), 3);
  await newCalls(smaHandler(noJournal, fullAdmission), prefix(6), 2);
  for (let i = 0; i < 10; i++) {
    const latency = new LatencyRecorder(job.instruments, ATTRS);
    latency.markAnswered(10_000);
    latency.onPlaybackStarted(12_200);
    latency.onMetrics({
      type: 'eou_metrics',
      lastSpeakingTimeMs: 20_000,
      transcriptionDelayMs: 150,
      endOfUtteranceDelayMs: 450,
      speechId: 'SP_1',
    } as lkMetrics.AgentMetrics);
    latency.onPlaybackStarted(20_900);
    // The reply's LLM request, its metrics as its stream ends: the first token 0.1 s after the
    // end of the turn, so the turn's four parts are 0.15, 0.3, 0.1 and 0.35 s.
    latency.onMetrics({
      type: 'llm_metrics',
      timestamp: 21_500,
      durationMs: 1_000,
      ttftMs: 50,
      speechId: 'SP_1',
    } as lkMetrics.AgentMetrics);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'callbridge-prometheus-'));
  const env: Record<string, string | undefined> = {};
  // The worker's real set-up, its endpoint on any free loopback port.
  worker = await startAgentWorkerTelemetry(
    telemetryConfig(
      { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_PORT: '0' },
      'agent',
    ),
    silent,
    { env },
  );
  const target = new URL(worker.telemetry.prometheusUrl!).host;
  sma = createSmaInstruments(worker.telemetry.meter('callbridge.sma'));
  job = await startAgentJobTelemetry(telemetryConfig({}, 'agent'), silent, { env });

  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'rule_files:',
      `  - ${JSON.stringify(ALERT_RULES_FILE)}`,
      'scrape_configs:',
      '  - job_name: callbridge-agent',
      '    static_configs:',
      `      - targets: ['${target}']`,
    ].join('\n'),
  );
  prometheus = spawn(
    PROMETHEUS,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: 'ignore' },
  );
  await waitFor('Prometheus to be ready', async () => (await fetch(`${api}/-/ready`)).ok);

  await round(1);
  await scrapedAfter(Date.now());
  await round(2);
  // 45 calls in progress on the agent (kept open to the end).
  for (let i = 0; i < 45; i++) job.instruments.activeCalls.add(1, ATTRS);
  // The relay is asynchronous: wait until the worker serves them, then for Prometheus.
  await waitFor('the relayed calls', async () => {
    const body = await (await fetch(worker.telemetry.prometheusUrl!)).text();
    return /^voice_calls_active\{component="agent",[^}]*\} 45$/m.test(body);
  });
  const done = Date.now();
  await scrapedAfter(done);
  await scrapedAfter(Date.now());
});

afterAll(async () => {
  if (prometheus && prometheus.exitCode === null) {
    prometheus.kill('SIGTERM');
    await once(prometheus, 'exit');
  }
  await job?.flush();
  await worker?.shutdown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Grafana's variables, as the dashboard's defaults set them. */
function substitute(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__range', '10m')
    .replaceAll('$use_case', '.*')
    .replaceAll('$capacity', '50');
}

describe('dashboards and alerts against a real Prometheus', () => {
  it('scrapes the agent worker endpoint', async () => {
    const up = await query('up{job="callbridge-agent"}');
    expect(up.data.result.map((r) => r.value[1])).toEqual(['1']);
  });

  it.each(dashboardQueries())('answers the dashboard query $panel', async ({ expr }) => {
    const res = await query(substitute(expr));
    expect(res.status, res.error).toBe('success');
    expect(res.data.result.length, expr).toBeGreaterThan(0);
    for (const r of res.data.result) {
      expect(Number.isFinite(Number(r.value[1])), `${expr} ${JSON.stringify(r)}`).toBe(true);
    }
  });

  it.each(alertRules())('holds the condition of $alert', async ({ expr }) => {
    const res = await query(expr);
    expect(res.status, res.error).toBe('success');
    expect(res.data.result.length, expr).toBeGreaterThan(0);
  });

  it('loads every rule and evaluates it without error: every alert is pending', async () => {
    const names = alertRules().map((a) => a.alert);
    await waitFor('every alert pending', async () => {
      const alerts = await get<{ alerts: { labels: { alertname: string }; state: string }[] }>(
        '/api/v1/alerts',
      );
      const active = new Set(alerts.data.alerts.map((a) => a.labels.alertname));
      return names.every((n) => active.has(n));
    });
    const rules = await get<{
      groups: { rules: { name: string; health: string; lastError?: string }[] }[];
    }>('/api/v1/rules');
    const all = rules.data.groups.flatMap((g) => g.rules);
    expect(all.map((r) => r.name)).toEqual(names);
    for (const r of all) expect([r.name, r.health, r.lastError ?? '']).toEqual([r.name, 'ok', '']);
  });
});
