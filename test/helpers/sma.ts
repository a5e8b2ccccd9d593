// Shared arrangements for the SMA handler suites: fixtures shaped as Chime documents them, the
// shipped use cases, and a real OpenTelemetry meter whose measurements the tests can read.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { pino, type Logger } from 'pino';
import { createSmaInstruments } from '../../otel/instruments.js';
import { parseUseCases } from '../../contracts/use-cases.js';
import { decide, type DecideConfig, type Decision } from '../../lambdas/sma/decide/index.js';
import { parseEvent, type SmaEvent } from '../../lambdas/sma/events.js';
import { createHandler, type SmaHandler } from '../../lambdas/sma/handler.js';
import type {
  Admission,
  AdmissionRequest,
  CallAdmission,
  LeaseRelease,
} from '../../lambdas/sma/admission/types.js';
import { createLogger } from '../../lambdas/sma/logger.js';
import type { Owner } from '../../lambdas/sma/invoker.js';
import { noJournal, type CallJournal, type JournalEntry } from '../../lambdas/sma/journal.js';
import type { ChimeCallIdentity } from '../../lab/chime/events.js';
import { DEVELOPMENT_CALL_TOKEN_SECRET } from '../../lab/chime/local-sma-env.js';
import { SimulatedChimeCall, type SimulatedCallOptions } from '../../lab/chime/simulated-call.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const TEST_VC_ARN = 'arn:aws:chime:us-east-1:111122223333:vc/abcdefghij0123456789';
export const USE_CASES_JSON: unknown = JSON.parse(
  readFileSync(join(ROOT, 'contracts', 'use-cases.json'), 'utf8'),
);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** Every fixture event in test/fixtures/sma (one per documented event shape we rely on). */
export const FIXTURE_NAMES = readdirSync(join(ROOT, 'test', 'fixtures', 'sma'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length))
  .sort();

/** A fresh deep copy of a fixture event in test/fixtures/sma. */
export function fixture(name: string): Json {
  return JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'sma', `${name}.json`), 'utf8'));
}

/** The tests' call-token secret: the lab's, which the fixtures' tokens are signed with. */
export const TEST_CALL_TOKEN_SECRET = DEVELOPMENT_CALL_TOKEN_SECRET;
export const CALL_TOKEN_TTL_MS = 14_400_000;

/**
 * The tests' use cases: the shipped ones, city-311 also allowing the calls we place (the shipped
 * file allows none; `shipped: true` gives it as it is).
 */
export function testUseCases(opts: { shipped?: boolean } = {}) {
  const json: Json = structuredClone(USE_CASES_JSON);
  if (!opts.shipped) {
    for (const uc of json.useCases) if (uc.id === 'city-311') uc.outbound = { allowed: true };
  }
  return parseUseCases(json);
}

export function testConfig(): DecideConfig {
  return {
    voiceConnectorArn: TEST_VC_ARN,
    aiRingTimeoutS: 30,
    queueRingTimeoutS: 30,
    useCases: testUseCases(),
    callToken: { secret: TEST_CALL_TOKEN_SECRET, ttlMs: CALL_TOKEN_TTL_MS },
  };
}

/**
 * The tests' configuration with city-311 as the shipped file has it, changed by `change`, and the
 * SMA's RECORDINGS_BUCKET when one is given.
 */
export function configWithCity311(
  change: (useCase: Json) => void,
  opts: { bucket?: string } = {},
): DecideConfig {
  const file: Json = structuredClone(USE_CASES_JSON);
  change(file.useCases.find((u: Json) => u.id === 'city-311'));
  return {
    ...testConfig(),
    useCases: parseUseCases(file),
    ...(opts.bucket ? { recordingsBucket: opts.bucket } : {}),
  };
}

/** A handler whose journal keeps every entry it is given, for the test to read. */
export function journaledHandler(config: DecideConfig, now: () => number = () => NOW) {
  const entries: JournalEntry[] = [];
  const journal: CallJournal = {
    async record(e) {
      entries.push(e);
      return { event: 'written', state: 'written', errors: [] };
    },
  };
  const handler = createHandler({
    config,
    journal,
    instruments: testInstruments().instruments,
    logger: silentLogger,
    now,
  });
  return { handler, entries };
}

export function parsed(raw: unknown): SmaEvent {
  const res = parseEvent(raw);
  if (!res.ok) throw new Error(`fixture did not parse: ${res.reason}`);
  return res.event;
}

export const NOW = 1_763_740_862_000;

export function decideRaw(raw: unknown, nowMs = NOW, config = testConfig()): Decision {
  return decide(parsed(raw), { config, nowMs });
}

class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** Real SDK instruments; `read()` returns the points recorded so far by instrument name. */
export function testInstruments() {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  const instruments = createSmaInstruments(provider.getMeter('test'));
  return {
    instruments,
    async read(): Promise<Map<string, MetricData>> {
      const { resourceMetrics } = await reader.collect();
      const out = new Map<string, MetricData>();
      for (const sm of resourceMetrics.scopeMetrics) {
        for (const m of sm.metrics) out.set(m.descriptor.name, m);
      }
      return out;
    },
  };
}

export const silentLogger = pino({ level: 'silent' });

export function testHandler(
  opts: {
    journal?: CallJournal;
    now?: () => number;
    owner?: Owner;
    logger?: Logger;
    admission?: CallAdmission;
  } = {},
) {
  const metrics = testInstruments();
  const handler: SmaHandler = createHandler({
    config: testConfig(),
    journal: opts.journal ?? noJournal,
    instruments: metrics.instruments,
    logger: opts.logger ?? silentLogger,
    now: opts.now ?? Date.now,
    owner: opts.owner,
    admission: opts.admission,
  });
  return { handler, metrics };
}

/** A call driven through `handler` as Chime drives it, from +12065550100 to +12025550131. */
export function simulateCall(
  call: ChimeCallIdentity,
  handler: (e: unknown) => Promise<unknown>,
  opts: Partial<SimulatedCallOptions> = {},
): SimulatedChimeCall {
  return new SimulatedChimeCall({
    handler,
    call,
    caller: '+12065550100',
    dialed: '+12025550131',
    ...opts,
  });
}

/** An admission that answers `verdict` and keeps what it was asked and what it released. */
export function fakeAdmission(verdict: (req: AdmissionRequest) => Admission) {
  const asked: AdmissionRequest[] = [];
  const released: LeaseRelease[] = [];
  const admission: CallAdmission = {
    async admit(req) {
      asked.push(req);
      return verdict(req);
    },
    async release(lease) {
      released.push(lease);
      return [];
    },
  };
  return { admission, asked, released };
}

/** Admits every call with a slot whose lease runs `leaseMs` from the request's time. */
export const leasingAdmission = (leaseMs: number) =>
  fakeAdmission((req) => ({
    verdict: 'admit',
    leaseExpiresAtMs: req.nowMs + leaseMs,
    unchecked: [],
  }));

/**
 * A journal with DynamoDB's conditional semantics (a retried Sequence is a duplicate) that notes in
 * `order` when each write starts and ends.
 */
export function memoryJournal(order: string[] = []): CallJournal {
  const seen = new Set<string>();
  return {
    async record(e: JournalEntry) {
      order.push('journal:start');
      await new Promise((r) => setImmediate(r));
      order.push('journal:end');
      const key = `${e.transactionId}#${e.sequence}`;
      if (seen.has(key)) return { event: 'duplicate', state: 'stale', errors: [] };
      seen.add(key);
      return { event: 'written', state: 'written', errors: [] };
    },
  };
}

/** The SMA's logger writing parsed lines to `lines`, with or without the pii fields. */
export function logSink() {
  const lines: Json[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, logger: (pii: boolean) => createLogger({ level: 'info', pii }, sink) };
}
