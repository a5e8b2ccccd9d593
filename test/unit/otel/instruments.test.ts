// The metric contract of docs/architecture.md ("Metrics"), checked against what the real code records:
// whole simulated calls through the SMA handler with its real telemetry set-up, and the agent's
// latency recorder in a "job process" relaying to the worker's real set-up, all read back from
// in-memory readers. Every instrument of the table must be recorded, with its kind, unit, bucket
// boundaries and only its low-cardinality attributes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { metrics as lkMetrics } from '@livekit/agents';
import { DataPointType, type MetricData } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LatencyRecorder } from '../../../agent/latency.js';
import { EventType } from '../../../lambdas/sma/events.js';
import {
  AGENT_METER,
  startAgentJobTelemetry,
  startAgentWorkerTelemetry,
} from '../../../otel/agent-worker.js';
import {
  CALL_DURATION_BUCKETS_S,
  createAgentWorkerInstruments,
  HANDLER_BUCKETS_S,
  Instrument,
  LATENCY_BUCKETS_S,
  TRANSFER_HOP_OUTCOMES,
  TURN_PART_BUCKETS_S,
} from '../../../otel/instruments.js';
import { METRICS_RELAY_ENV } from '../../../otel/metrics-relay.js';
import { GUARD_SWEEP_BUCKETS_S } from '../../../otel/instruments.js';
import { loadTelemetryConfig } from '../../../otel/config.js';
import { startGuardTelemetry } from '../../../guard/telemetry.js';
import { exerciseGuard } from '../guard/fakes.js';
import { RefusedReason } from '../../../contracts/reasons.js';
import { FailoverReason } from '../../../agent/job-failover.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { ROOT, USE_CASES_JSON } from '../../helpers/sma.js';
import {
  failingJournal,
  memoryMetrics,
  runCalls,
  silent,
  smaHandler,
  smaTelemetryInMemory,
  telemetryConfig,
  throwingJournal,
} from '../../helpers/otel.js';

const ARCHITECTURE_DOC = join(ROOT, 'docs', 'architecture.md');

/** The rows of the "Metrics" table: instrument, kind, recorded by, attributes. */
function contract(): { name: string; kind: string; by: string; attributes: string[] }[] {
  const doc = readFileSync(ARCHITECTURE_DOC, 'utf8');
  const section = doc.slice(
    doc.indexOf('### Metrics'),
    doc.indexOf('\n### ', doc.indexOf('### Metrics') + 1),
  );
  return [
    ...section.matchAll(/^\| `([a-z_.]+)` \| ([a-z -]+) \| ([^|]+) \| [^|]+ \| ([^|]+) \|/gm),
  ].map((m) => ({
    name: m[1]!,
    kind: m[2]!.trim(),
    by: m[3]!.trim(),
    attributes: [...m[4]!.matchAll(/`([a-z_]+)`/g)].map((a) => a[1]!).sort(),
  }));
}

const useCaseIds = parseUseCases(USE_CASES_JSON).all.map((u) => u.id);
const snake = /^[a-z][a-z0-9_]{0,47}$/;

/** Attribute keys and what their values may be, per instrument. */
const ATTRIBUTES: Record<string, Record<string, (v: unknown) => boolean>> = {};
const is = (values: readonly string[]) => (v: unknown) => values.includes(String(v));
const useCase = is([...useCaseIds, 'unknown']);
const component = is(['sma', 'agent']);
const outcome = is(['connected', 'fallback_connected', 'failed', 'abandoned', 'refused']);
const disposition = is(['ai_completed', 'transferred', 'abandoned', 'failed']);
const eventType = is([...EventType.options, 'unknown']);
const reason = (v: unknown) => typeof v === 'string' && snake.test(v);
ATTRIBUTES[Instrument.timeToFirstAudio] = { component, use_case: useCase };
ATTRIBUTES[Instrument.turnResponseLatency] = { component, use_case: useCase };
const TURN_PARTS = [
  Instrument.turnTranscriptDelay,
  Instrument.turnEndOfTurnDelay,
  Instrument.turnFirstTokenDelay,
  Instrument.turnFirstAudioDelay,
];
for (const part of TURN_PARTS) ATTRIBUTES[part] = { use_case: useCase };
ATTRIBUTES[Instrument.transferDelay] = { outcome, use_case: useCase };
ATTRIBUTES[Instrument.transferHop] = {
  hop: is(['update_accepted', 'ai_leg_down', 'bridge_answered']),
  outcome: is(TRANSFER_HOP_OUTCOMES),
  use_case: useCase,
};
ATTRIBUTES[Instrument.callDuration] = { disposition, use_case: useCase };
ATTRIBUTES[Instrument.activeCalls] = { component, use_case: useCase };
ATTRIBUTES[Instrument.transfers] = { outcome, reason, use_case: useCase };
ATTRIBUTES[Instrument.smaInvocationDuration] = { event_type: eventType };
ATTRIBUTES[Instrument.smaJournalFailures] = { event_type: eventType };
ATTRIBUTES[Instrument.smaHandlerErrors] = { event_type: eventType };
ATTRIBUTES[Instrument.refusedCalls] = {
  reason: is(RefusedReason.options),
  use_case: useCase,
  component,
};
ATTRIBUTES[Instrument.smaAdmissionUnchecked] = {
  check: is(['access', 'rate', 'capacity']),
  use_case: useCase,
};
ATTRIBUTES[Instrument.guardRoomsEnded] = {
  reason: is(['webhook', 'worker_lost', 'sweep_no_agent', 'sweep_call_ended']),
};
ATTRIBUTES[Instrument.guardOrphanedCalls] = {};
ATTRIBUTES[Instrument.guardApiErrors] = {
  operation: is([
    'list_rooms',
    'list_participants',
    'delete_room',
    'query_open_calls',
    'get_calls',
  ]),
  code: reason,
};
ATTRIBUTES[Instrument.guardSweepDuration] = { outcome: is(['ok', 'failed']) };
ATTRIBUTES[Instrument.jobFailovers] = { reason: is(FailoverReason) };

const UNITS: Record<string, string> = {
  [Instrument.activeCalls]: '{call}',
  [Instrument.refusedCalls]: '{call}',
  [Instrument.transfers]: '{transfer}',
  [Instrument.smaJournalFailures]: '{write}',
  [Instrument.smaHandlerErrors]: '{error}',
  [Instrument.smaAdmissionUnchecked]: '{check}',
  [Instrument.guardRoomsEnded]: '{room}',
  [Instrument.guardOrphanedCalls]: '{call}',
  [Instrument.guardApiErrors]: '{error}',
  [Instrument.jobFailovers]: '{failover}',
};
const BOUNDARIES: Record<string, number[]> = {
  [Instrument.timeToFirstAudio]: LATENCY_BUCKETS_S,
  [Instrument.turnResponseLatency]: LATENCY_BUCKETS_S,
  ...Object.fromEntries(TURN_PARTS.map((part) => [part, TURN_PART_BUCKETS_S])),
  [Instrument.transferDelay]: LATENCY_BUCKETS_S,
  [Instrument.transferHop]: LATENCY_BUCKETS_S,
  [Instrument.callDuration]: CALL_DURATION_BUCKETS_S,
  [Instrument.smaInvocationDuration]: HANDLER_BUCKETS_S,
  [Instrument.guardSweepDuration]: GUARD_SWEEP_BUCKETS_S,
};

const recorded = new Map<string, MetricData[]>();

async function smaMetrics(): Promise<MetricData[]> {
  const { otel, metrics } = await smaTelemetryInMemory();
  await runCalls(smaHandler(otel));
  await runCalls(smaHandler(otel, failingJournal), { idPrefix: '7a1b2c3d' });
  // A handler error: an event whose journal write throws is answered safely and counted.
  await runCalls(smaHandler(otel, throwingJournal), { idPrefix: '9e8d7c6b' });
  const out = await metrics.collect();
  await otel.telemetry.shutdown();
  return out;
}

async function agentMetrics(): Promise<MetricData[]> {
  const metrics = memoryMetrics();
  const env: Record<string, string | undefined> = {};
  const worker = await startAgentWorkerTelemetry(telemetryConfig({}, 'agent'), silent, {
    env,
    exportMetricsTo: [metrics.reader],
  });
  expect(env[METRICS_RELAY_ENV]).toBe(worker.relayPath);
  // The job process's side, as prewarm sets it up, relaying to the worker.
  const job = await startAgentJobTelemetry(telemetryConfig({}, 'agent'), silent, { env });
  const attrs = { component: 'agent', use_case: useCaseIds[0]! };
  job.instruments.activeCalls.add(1, attrs);
  const latency = new LatencyRecorder(job.instruments, attrs);
  latency.markAnswered(1_000);
  latency.onPlaybackStarted(1_250);
  // A turn of 0.6 s: 0.1 s to the transcript, 0.3 s more to the end of the turn, the first token
  // 0.05 s later, its first audio 0.15 s after that (the LLM's metrics come as its stream ends).
  latency.onMetrics({
    type: 'eou_metrics',
    lastSpeakingTimeMs: 2_000,
    transcriptionDelayMs: 100,
    endOfUtteranceDelayMs: 400,
    speechId: 'SP_1',
  } as lkMetrics.AgentMetrics);
  latency.onPlaybackStarted(2_600);
  latency.onMetrics({
    type: 'llm_metrics',
    timestamp: 3_000,
    durationMs: 600,
    ttftMs: 50,
    speechId: 'SP_1',
  } as lkMetrics.AgentMetrics);
  job.instruments.activeCalls.add(-1, attrs);
  // The agent's own refusals come through the same definition (otel/instruments.ts).
  job.instruments.refusedCalls.add(1, { ...attrs, reason: 'forged' });
  await job.flush();
  // The main process's own: a job process gone mid-call (agent/job-failover.ts).
  const own = createAgentWorkerInstruments(worker.telemetry.meter(AGENT_METER));
  own.jobFailovers.add(1, { reason: 'exited' });
  let out: MetricData[] = [];
  for (let i = 0; i < 100; i++) {
    out = await metrics.collect();
    const names = new Set(out.map((m) => m.descriptor.name));
    const all = [Instrument.turnResponseLatency, Instrument.refusedCalls, ...TURN_PARTS];
    if (all.every((n) => names.has(n))) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await worker.shutdown();
  return out;
}

/** The call guard's sweeps, through its real telemetry set-up. */
async function guardMetrics(): Promise<MetricData[]> {
  const metrics = memoryMetrics();
  const config = loadTelemetryConfig({ OTEL_METRICS_EXPORTER: 'none' }, 'guard');
  const guard = await startGuardTelemetry(config, silent, { exportMetricsTo: [metrics.reader] });
  await exerciseGuard(guard.instruments);
  const out = await metrics.collect();
  await guard.telemetry.shutdown();
  return out;
}

beforeAll(async () => {
  for (const m of [...(await smaMetrics()), ...(await agentMetrics()), ...(await guardMetrics())]) {
    recorded.set(m.descriptor.name, [...(recorded.get(m.descriptor.name) ?? []), m]);
  }
});

describe('instruments (docs/architecture.md "Metrics")', () => {
  const rows = contract();

  it('reads the contract table', () => {
    expect(rows.map((r) => r.name)).toEqual([
      'voice.call.time_to_first_audio',
      'voice.turn.response_latency',
      'voice.turn.transcript_delay',
      'voice.turn.end_of_turn_delay',
      'voice.turn.first_token_delay',
      'voice.turn.first_audio_delay',
      'voice.call.transfer_delay',
      'voice.call.transfer_hop',
      'voice.call.duration',
      'voice.calls.active',
      'voice.transfers',
      'voice.calls.refused',
      'voice.sma.admission.unchecked',
      'voice.agent.job_failovers',
      'sma.invocation.duration',
      'guard.rooms.ended',
      'guard.calls.orphaned',
      'guard.api.errors',
      'guard.sweep.duration',
    ]);
  });

  it.each(contract())('records $name ($kind, by $by) with its unit and attributes', (row) => {
    const streams = recorded.get(row.name) ?? [];
    expect(streams.length, `${row.name} was not recorded`).toBeGreaterThan(0);
    // Recorded by the SMA handler, the agent, or both (voice.calls.active, by `component`).
    const components = new Set(
      streams.flatMap((m) => m.dataPoints.map((p) => p.attributes['component'] ?? 'sma')),
    );
    if (row.by.includes('agent') && row.by.includes('SMA')) {
      expect([...components].sort()).toEqual(['agent', 'sma']);
    }
    // The table names exactly the attributes recorded.
    expect(row.attributes, `${row.name}'s attributes in the table`).toEqual(
      Object.keys(ATTRIBUTES[row.name]!).sort(),
    );
    for (const m of streams) {
      const d = m.descriptor;
      expect(d.unit).toBe(UNITS[row.name] ?? 's');
      const expectedType = row.kind === 'histogram' ? DataPointType.HISTOGRAM : DataPointType.SUM;
      expect(m.dataPointType).toBe(expectedType);
      if (m.dataPointType === DataPointType.SUM) {
        expect(m.isMonotonic).toBe(row.kind === 'counter');
      }
      for (const p of m.dataPoints) {
        const allowed = ATTRIBUTES[row.name]!;
        expect(Object.keys(p.attributes).sort()).toEqual(Object.keys(allowed).sort());
        for (const [k, v] of Object.entries(p.attributes)) {
          expect(allowed[k]!(v), `${row.name} ${k}=${String(v)}`).toBe(true);
        }
        if (m.dataPointType === DataPointType.HISTOGRAM) {
          const value = p.value as { buckets: { boundaries: number[] }; count: number };
          expect(value.buckets.boundaries).toEqual(BOUNDARIES[row.name]);
        }
      }
    }
  });

  it('records the handler counters outside the table with their units and attributes', () => {
    for (const name of [Instrument.smaJournalFailures, Instrument.smaHandlerErrors]) {
      const [m] = recorded.get(name) ?? [];
      expect(m, `${name} was not recorded`).toBeDefined();
      expect(m!.descriptor.unit).toBe(UNITS[name]);
      expect(m!.dataPointType === DataPointType.SUM && m!.isMonotonic).toBe(true);
      for (const p of m!.dataPoints) expect(Object.keys(p.attributes)).toEqual(['event_type']);
    }
  });

  it('measures in seconds: TTFA 0.25 s and a 0.6 s turn from milliseconds', () => {
    const sum = (name: string) =>
      (recorded.get(name) ?? [])
        .flatMap((m) => m.dataPoints as { value: unknown }[])
        .reduce((n: number, p) => n + (p.value as { sum: number }).sum, 0);
    expect(sum(Instrument.timeToFirstAudio)).toBeCloseTo(0.25, 6);
    expect(sum(Instrument.turnResponseLatency)).toBeCloseTo(0.6, 6);
  });

  it('splits the 0.6 s turn into its parts, by use case only', () => {
    const parts = TURN_PARTS.map((name) =>
      (recorded.get(name) ?? []).flatMap((m) => m.dataPoints as { value: unknown }[]),
    );
    const sums = parts.map((points) =>
      points.reduce((n: number, p) => n + (p.value as { sum: number }).sum, 0),
    );
    expect(sums.map((v) => Number(v.toFixed(6)))).toEqual([0.1, 0.3, 0.05, 0.15]);
  });

  it('counts the forged update of each round whose handler answers, by the SMA', () => {
    const forged = (recorded.get(Instrument.refusedCalls) ?? [])
      .flatMap((m) => m.dataPoints as { attributes: Record<string, unknown>; value: number }[])
      .filter((p) => p.attributes['component'] === 'sma' && p.attributes['reason'] === 'forged');
    // The round whose journal throws answers every event safely: nothing is decided or counted.
    expect(forged.reduce((n, p) => n + p.value, 0)).toBe(2);
  });

  it('returns voice.calls.active to zero once every call has ended', () => {
    for (const m of recorded.get(Instrument.activeCalls) ?? []) {
      for (const p of m.dataPoints) expect(p.value, JSON.stringify(p.attributes)).toBe(0);
    }
  });
});

afterAll(() => {
  recorded.clear();
});
