// The alert rules (otel/prometheus/) with the real promtool (Debian `prometheus`): the rules
// file, the sample Prometheus configuration and every rule's unit tests. And the dashboards' and
// rules' series names against what the agent worker's endpoint really serves.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createAgentInstruments, createSmaInstruments } from '../../../otel/instruments.js';
import { ROOT } from '../../helpers/sma.js';
import { agentWorkerServingPrometheus, alertRules, dashboardExprs } from '../../helpers/otel.js';

const run = promisify(execFile);
const PROMTOOL = '/usr/bin/promtool';
const DIR = join(ROOT, 'otel', 'prometheus');
const RULES = join(DIR, 'callbridge-alerts.yml');
const TESTS = readdirSync(join(DIR, 'tests'))
  .filter((f) => f.endsWith('.test.yml'))
  .sort();

const alerts = alertRules();

describe('alert rules (promtool)', () => {
  it('passes promtool check rules', async () => {
    const { stdout } = await run(PROMTOOL, ['check', 'rules', RULES]);
    expect(stdout).toContain(`SUCCESS: ${alerts.length} rules found`);
  });

  it('passes promtool check config for the sample Prometheus configuration', async () => {
    const { stdout } = await run(PROMTOOL, ['check', 'config', join(DIR, 'prometheus.yml')]);
    expect(stdout).toContain('SUCCESS');
  });

  it.each(TESTS)('passes promtool test rules %s', async (file) => {
    const { stdout } = await run(PROMTOOL, ['test', 'rules', join(DIR, 'tests', file)]);
    expect(stdout).toContain('SUCCESS');
    expect(stdout).not.toContain('FAILED');
  });

  it('has the alerts the issue asks for, each with a severity, a summary and a description', () => {
    expect(alerts.map((a) => a.alert)).toEqual([
      'CallbridgeActiveCallsHigh',
      'CallbridgeTimeToFirstAudioHigh',
      'CallbridgeTransferDelayHigh',
      'CallbridgeTransferFailureRatioHigh',
      'CallbridgeSmaHandlerErrors',
      'CallbridgeJournalFailures',
      'CallbridgeForgedCalls',
      'CallbridgeAdmissionUnchecked',
      'CallbridgeOverCapacity',
    ]);
    for (const a of alerts) {
      expect(['warning', 'critical']).toContain(a.labels?.['severity']);
      expect(a.annotations?.['summary']).toBeTruthy();
      expect(a.annotations?.['description']).toBeTruthy();
      expect(a.for).toMatch(/^\d+m$/);
    }
  });

  it('tests every alert both firing and quiet', () => {
    const fired = new Set<string>();
    const quiet = new Set<string>();
    for (const file of TESTS) {
      const doc = parse(readFileSync(join(DIR, 'tests', file), 'utf8'));
      expect(doc.rule_files).toEqual(['../callbridge-alerts.yml']);
      for (const t of doc.tests) {
        for (const c of t.alert_rule_test) {
          (c.exp_alerts.length > 0 ? fired : quiet).add(c.alertname);
        }
      }
    }
    for (const a of alerts) {
      expect(fired.has(a.alert), `${a.alert} firing`).toBe(true);
      expect(quiet.has(a.alert), `${a.alert} quiet`).toBe(true);
    }
  });
});

describe('series names in the rules and dashboards', () => {
  let served = new Set<string>();
  let stop: () => Promise<void> = async () => {};

  beforeAll(async () => {
    // One measurement on every instrument, served by the agent worker's real endpoint.
    const worker = await agentWorkerServingPrometheus();
    stop = worker.shutdown;
    const meter = worker.telemetry.meter('callbridge.test');
    const sma = createSmaInstruments(meter);
    const agent = createAgentInstruments(meter);
    for (const i of [sma.transferDelay, sma.callDuration, sma.invocationDuration]) i.record(1);
    sma.transferHop.record(1, { hop: 'bridge_answered', use_case: 'city-311' });
    for (const i of [agent.timeToFirstAudio, agent.turnResponseLatency]) i.record(1);
    const parts = [
      agent.turnTranscriptDelay,
      agent.turnEndOfTurnDelay,
      agent.turnFirstTokenDelay,
      agent.turnFirstAudioDelay,
    ];
    for (const i of parts) i.record(0.1, { use_case: 'city-311' });
    for (const i of [sma.transfers, sma.journalFailures, sma.handlerErrors]) i.add(1);
    sma.refusedCalls.add(1, { reason: 'forged', use_case: 'city-311', component: 'sma' });
    sma.admissionUnchecked.add(1, { check: 'capacity', use_case: 'city-311' });
    for (const i of [sma.activeCalls, agent.activeCalls]) i.add(1);
    const body = await (await fetch(worker.telemetry.prometheusUrl!)).text();
    served = new Set([...body.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/gm)].map((m) => m[1]!));
  });

  afterAll(async () => {
    await stop();
  });

  const names = (expr: string) =>
    [...expr.matchAll(/\b((?:voice|sma)_[a-z0-9_]+)\b/g)].map((m) => m[1]!);

  it('reads the series the endpoint serves', () => {
    expect([...served].filter((n) => n !== 'target_info').sort()).toEqual([
      'sma_handler_errors_total',
      'sma_invocation_duration_seconds_bucket',
      'sma_invocation_duration_seconds_count',
      'sma_invocation_duration_seconds_sum',
      'sma_journal_failures_total',
      'voice_call_duration_seconds_bucket',
      'voice_call_duration_seconds_count',
      'voice_call_duration_seconds_sum',
      'voice_call_time_to_first_audio_seconds_bucket',
      'voice_call_time_to_first_audio_seconds_count',
      'voice_call_time_to_first_audio_seconds_sum',
      'voice_call_transfer_delay_seconds_bucket',
      'voice_call_transfer_delay_seconds_count',
      'voice_call_transfer_delay_seconds_sum',
      'voice_call_transfer_hop_seconds_bucket',
      'voice_call_transfer_hop_seconds_count',
      'voice_call_transfer_hop_seconds_sum',
      'voice_calls_active',
      'voice_calls_refused_total',
      'voice_sma_admission_unchecked_total',
      'voice_transfers_total',
      'voice_turn_end_of_turn_delay_seconds_bucket',
      'voice_turn_end_of_turn_delay_seconds_count',
      'voice_turn_end_of_turn_delay_seconds_sum',
      'voice_turn_first_audio_delay_seconds_bucket',
      'voice_turn_first_audio_delay_seconds_count',
      'voice_turn_first_audio_delay_seconds_sum',
      'voice_turn_first_token_delay_seconds_bucket',
      'voice_turn_first_token_delay_seconds_count',
      'voice_turn_first_token_delay_seconds_sum',
      'voice_turn_response_latency_seconds_bucket',
      'voice_turn_response_latency_seconds_count',
      'voice_turn_response_latency_seconds_sum',
      'voice_turn_transcript_delay_seconds_bucket',
      'voice_turn_transcript_delay_seconds_count',
      'voice_turn_transcript_delay_seconds_sum',
    ]);
  });

  it('uses only served series in alert expressions', () => {
    for (const a of alerts) {
      expect(names(a.expr).length, a.alert).toBeGreaterThan(0);
      for (const n of names(a.expr)) expect(served.has(n), `${a.alert}: ${n}`).toBe(true);
    }
  });

  it('uses only served series in dashboard queries', () => {
    const exprs = dashboardExprs();
    expect(exprs.length).toBeGreaterThan(20);
    for (const e of exprs) {
      for (const n of names(e)) expect(served.has(n), `${n} in ${e}`).toBe(true);
    }
  });
});
