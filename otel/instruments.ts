// Instrument names, units and bucket boundaries: the metric contract of docs/architecture.md. Every
// component records through these definitions so dashboards and alert rules can rely on them.
import type { Meter } from '@opentelemetry/api';

/** Speech latencies: 50 ms to 10 s, dense where callers notice (0.2–2 s). */
export const LATENCY_BUCKETS_S = [
  0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.75, 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10,
];
/** The parts of a turn: 5 ms to 10 s (a rule-based reply's first token takes a few ms). */
export const TURN_PART_BUCKETS_S = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10,
];
/** Whole calls: 5 s to 1 h. */
export const CALL_DURATION_BUCKETS_S = [
  5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1800, 3600,
];
/** Handler time per invocation: 0.5 ms to 5 s (Chime retries after 5 s). */
export const HANDLER_BUCKETS_S = [
  0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5,
];
/** One sweep of the call guard: 5 ms to 30 s (its API calls time out within seconds). */
export const GUARD_SWEEP_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * voice.call.transfer_hop's `outcome`: `reached` for a hop the transfer passed; for a transfer that
 * failed, the hop it failed at, with how: `refused` (the update was refused: update_accepted),
 * `fallback` (the queue's number did not answer and its fallback is dialled: bridge_answered),
 * `failed` (no person could be reached: the caller hears the apology), `abandoned` (the caller
 * hung up first).
 */
export const TRANSFER_HOP_OUTCOMES = [
  'reached',
  'refused',
  'fallback',
  'failed',
  'abandoned',
] as const;
export type TransferHopOutcome = (typeof TRANSFER_HOP_OUTCOMES)[number];

export const Instrument = {
  timeToFirstAudio: 'voice.call.time_to_first_audio',
  turnResponseLatency: 'voice.turn.response_latency',
  turnTranscriptDelay: 'voice.turn.transcript_delay',
  turnEndOfTurnDelay: 'voice.turn.end_of_turn_delay',
  turnFirstTokenDelay: 'voice.turn.first_token_delay',
  turnFirstAudioDelay: 'voice.turn.first_audio_delay',
  transferDelay: 'voice.call.transfer_delay',
  transferHop: 'voice.call.transfer_hop',
  callDuration: 'voice.call.duration',
  activeCalls: 'voice.calls.active',
  transfers: 'voice.transfers',
  smaInvocationDuration: 'sma.invocation.duration',
  smaJournalFailures: 'sma.journal.failures',
  smaHandlerErrors: 'sma.handler.errors',
  refusedCalls: 'voice.calls.refused',
  smaAdmissionUnchecked: 'voice.sma.admission.unchecked',
  guardRoomsEnded: 'guard.rooms.ended',
  guardOrphanedCalls: 'guard.calls.orphaned',
  guardApiErrors: 'guard.api.errors',
  guardSweepDuration: 'guard.sweep.duration',
  jobFailovers: 'voice.agent.job_failovers',
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
    transferHop: meter.createHistogram(Instrument.transferHop, {
      unit: 's',
      description:
        'Transfer requested by the agent to the end of each hop: update accepted, AI leg down, bridge answered; a failed transfer, at the hop it failed at (outcome)',
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
    ...createTurnPartInstruments(meter),
    activeCalls: meter.createUpDownCounter(Instrument.activeCalls, {
      unit: '{call}',
      description: 'Calls in progress',
    }),
    refusedCalls: createRefusedCalls(meter),
  };
}

export type AgentInstruments = ReturnType<typeof createAgentInstruments>;

/**
 * The parts of a turn, one after another (agent/turn-parts.ts), attribute `use_case` only: their
 * sum is voice.turn.response_latency.
 */
function createTurnPartInstruments(meter: Meter) {
  const part = (name: string, description: string) =>
    meter.createHistogram(name, {
      unit: 's',
      description,
      advice: { explicitBucketBoundaries: TURN_PART_BUCKETS_S },
    });
  return {
    turnTranscriptDelay: part(
      Instrument.turnTranscriptDelay,
      'Caller stops speaking to the final transcript of what they said',
    ),
    turnEndOfTurnDelay: part(
      Instrument.turnEndOfTurnDelay,
      'Final transcript to the end of the turn decided (endpointing, turn detector)',
    ),
    turnFirstTokenDelay: part(
      Instrument.turnFirstTokenDelay,
      "End of the turn decided to the first token of the agent's reply",
    ),
    turnFirstAudioDelay: part(
      Instrument.turnFirstAudioDelay,
      "First token of the agent's reply to its first audio frame sent to the caller",
    ),
  };
}

/** The call guard's instruments (guard/): what it ended, what it could not see or do. */
export function createGuardInstruments(meter: Meter) {
  return {
    roomsEnded: meter.createCounter(Instrument.guardRoomsEnded, {
      unit: '{room}',
      description: 'Call rooms the call guard deleted, by reason',
    }),
    orphanedCalls: meter.createCounter(Instrument.guardOrphanedCalls, {
      unit: '{call}',
      description: 'Calls the SMA has with the agent that have no room, each counted once',
    }),
    apiErrors: meter.createCounter(Instrument.guardApiErrors, {
      unit: '{error}',
      description: 'Calls of the call guard to LiveKit or DynamoDB that failed or timed out',
    }),
    sweepDuration: meter.createHistogram(Instrument.guardSweepDuration, {
      unit: 's',
      description: 'One sweep of the call guard: list, read, plan and act',
      advice: { explicitBucketBoundaries: GUARD_SWEEP_BUCKETS_S },
    }),
  };
}

export type GuardInstruments = ReturnType<typeof createGuardInstruments>;

/**
 * The agent worker's main process's own instruments (its job processes record through the relay).
 * voice.agent.job_failovers: calls whose job process went mid-call and whose AI leg the main
 * process ended (agent/job-failover.ts), by `reason` (`exited`, `unresponsive`).
 */
export function createAgentWorkerInstruments(meter: Meter) {
  return {
    jobFailovers: meter.createCounter(Instrument.jobFailovers, {
      unit: '{failover}',
      description:
        "Calls whose job process went mid-call, the AI leg ended by the worker's main process",
    }),
  };
}

export type AgentWorkerInstruments = ReturnType<typeof createAgentWorkerInstruments>;
