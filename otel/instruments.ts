// Instrument names, units and bucket boundaries: the metric contract of docs/architecture.md. Every
// component records through these definitions so dashboards and alert rules can rely on them.
import type { Meter } from '@opentelemetry/api';

/** Speech latencies: 50 ms to 10 s, dense where callers notice (0.2–2 s). */
export const LATENCY_BUCKETS_S = [
  0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.75, 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10,
];
/** Whole calls: 5 s to 1 h. */
export const CALL_DURATION_BUCKETS_S = [
  5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1800, 3600,
];
/** Handler time per invocation: 0.5 ms to 5 s (Chime retries after 5 s). */
export const HANDLER_BUCKETS_S = [
  0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5,
];

export const Instrument = {
  timeToFirstAudio: 'voice.call.time_to_first_audio',
  turnResponseLatency: 'voice.turn.response_latency',
  transferDelay: 'voice.call.transfer_delay',
  callDuration: 'voice.call.duration',
  activeCalls: 'voice.calls.active',
  transfers: 'voice.transfers',
  smaInvocationDuration: 'sma.invocation.duration',
  smaJournalFailures: 'sma.journal.failures',
  smaHandlerErrors: 'sma.handler.errors',
  refusedCalls: 'voice.calls.refused',
  smaAdmissionUnchecked: 'voice.sma.admission.unchecked',
} as const;

/**
 * voice.calls.refused: one definition for every component that refuses a call or a request about
 * one (attributes `reason` from contracts/reasons.ts's RefusedReason, `use_case`, `component`).
 */
function createRefusedCalls(meter: Meter) {
  return meter.createCounter(Instrument.refusedCalls, {
    unit: '{call}',
    description: 'Calls, or requests about a call, refused, by reason',
  });
}

/** The SMA handler's instruments (attributes stay low-cardinality: see docs/architecture.md). */
export function createSmaInstruments(meter: Meter) {
  return {
    transferDelay: meter.createHistogram(Instrument.transferDelay, {
      unit: 's',
      description: 'Transfer requested by the agent to the human leg connected (CTD)',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS_S },
    }),
    callDuration: meter.createHistogram(Instrument.callDuration, {
      unit: 's',
      description: 'Caller leg start to call end',
      advice: { explicitBucketBoundaries: CALL_DURATION_BUCKETS_S },
    }),
    activeCalls: meter.createUpDownCounter(Instrument.activeCalls, {
      unit: '{call}',
      description: 'Calls in progress',
    }),
    transfers: meter.createCounter(Instrument.transfers, {
      unit: '{transfer}',
      description: 'Transfers to a human queue by outcome and reason',
    }),
    invocationDuration: meter.createHistogram(Instrument.smaInvocationDuration, {
      unit: 's',
      description: 'SMA handler time per invocation',
      advice: { explicitBucketBoundaries: HANDLER_BUCKETS_S },
    }),
    journalFailures: meter.createCounter(Instrument.smaJournalFailures, {
      unit: '{write}',
      description: 'DynamoDB journal or state writes that failed or ran out of time',
    }),
    handlerErrors: meter.createCounter(Instrument.smaHandlerErrors, {
      unit: '{error}',
      description: 'Invocations answered with the safe fallback after an internal error',
    }),
    refusedCalls: createRefusedCalls(meter),
    admissionUnchecked: meter.createCounter(Instrument.smaAdmissionUnchecked, {
      unit: '{check}',
      description: 'Admission checks of new calls skipped because DynamoDB did not answer in time',
    }),
  };
}

export type SmaInstruments = ReturnType<typeof createSmaInstruments>;

/** The agent worker's instruments. */
export function createAgentInstruments(meter: Meter) {
  return {
    timeToFirstAudio: meter.createHistogram(Instrument.timeToFirstAudio, {
      unit: 's',
      description: 'SIP answer to the first agent audio frame sent to the caller (TTFA)',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS_S },
    }),
    turnResponseLatency: meter.createHistogram(Instrument.turnResponseLatency, {
      unit: 's',
      description: "Caller stops speaking to the first audio frame of the agent's reply",
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS_S },
    }),
    activeCalls: meter.createUpDownCounter(Instrument.activeCalls, {
      unit: '{call}',
      description: 'Calls in progress',
    }),
    refusedCalls: createRefusedCalls(meter),
  };
}

export type AgentInstruments = ReturnType<typeof createAgentInstruments>;
