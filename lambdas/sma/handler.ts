// The handler shell: parse the event, decide, write the journal (bounded), record metrics, answer.
// It never throws to Chime: whatever happens, the answer is a valid SMA response.
import {
  decide,
  type DecideConfig,
  type Decision,
  type MetricEffect,
  type Note,
} from './decide/index.js';
import { RefusedReason } from '../../contracts/reasons.js';
import { admitAll, type CallAdmission } from './admission/types.js';
import { ADMISSION_CHECKS, askAdmission, errorFields, releaseLease } from './handler-admission.js';
import { smaResponse, type SmaResponse } from './actions.js';
import { writeState, readState } from './call-state.js';
import { EventType, parseEvent, type SmaEvent } from './events.js';
import { anyOwner, foreignId, type Owner } from './invoker.js';
import { withHandoffLine, type HandoffClaims } from './handoff-claims.js';
import type { CallJournal, JournalEntry, JournalResult } from './journal.js';
import type { Logger } from './logger.js';
import { withUseCase, type UseCaseSource } from '../../store/use-case-cache.js';
import type { UseCaseCatalog } from '../../contracts/use-cases.js';
import type { CallState } from './call-state.js';
import type { SmaInstruments } from '../../otel/instruments.js';
import {
  noTracing,
  type CallTracing,
  type InvocationFacts,
  type InvocationSpan,
} from '../../otel/sma-tracing.js';

export interface HandlerDeps {
  config: DecideConfig;
  journal: CallJournal;
  instruments: SmaInstruments;
  logger: Logger;
  now: () => number;
  /** The SMA application and account allowed to invoke the handler; without it, any. */
  owner?: Owner;
  /** The call's spans (otel/sma-tracing.ts); without it, none. */
  tracing?: CallTracing;
  /** Whether a new inbound call may reach the agent; without it, every call may. */
  admission?: CallAdmission;
  /**
   * The use cases now (store/use-case-cache.ts: from memory, refreshed in the background); without
   * it, `config.useCases` always.
   */
  useCases?: UseCaseSource;
  /**
   * Rolling Connect numbers claimed with a transfer's context (./handoff-claims.ts); without it,
   * every transfer dials the queue's own number.
   */
  handoff?: HandoffClaims;
}

export type SmaHandler = (event: unknown) => Promise<SmaResponse>;

/** An answer that changes nothing: no new actions, the attributes echoed. */
export function safeResponse(attributes: Record<string, string> | undefined): SmaResponse {
  return {
    SchemaVersion: '1.0',
    Actions: [],
    TransactionAttributes: writeState(attributes, readState(attributes)),
  };
}

function recordMetrics(i: SmaInstruments, effects: MetricEffect[], useCase: string): void {
  for (const m of effects) {
    switch (m.metric) {
      case 'activeCalls':
        i.activeCalls.add(m.delta, { component: 'sma', use_case: useCase });
        break;
      case 'transfer':
        i.transfers.add(1, { outcome: m.outcome, reason: m.reason, use_case: useCase });
        break;
      case 'transferDelay':
        i.transferDelay.record(m.seconds, { outcome: m.outcome, use_case: useCase });
        break;
      case 'transferHop':
        i.transferHop.record(m.seconds, { hop: m.hop, outcome: m.outcome, use_case: useCase });
        break;
      case 'callDuration':
        i.callDuration.record(m.seconds, { disposition: m.disposition, use_case: useCase });
        break;
      case 'refused':
        i.refusedCalls.add(1, { reason: m.reason, use_case: useCase, component: 'sma' });
        break;
      case 'unchecked':
        i.admissionUnchecked.add(1, { check: m.check, use_case: useCase });
        break;
    }
  }
}

function traceFacts(
  d: Decision,
  response: SmaResponse,
  journal: JournalResult,
  nowMs: number,
): InvocationFacts {
  const ended = d.metrics.find((m) => m.metric === 'callDuration');
  return {
    useCase: d.state.useCase,
    phase: d.state.phase,
    actionTypes: response.Actions.map((a) => a.Type),
    journal: `${journal.event}/${journal.state}`,
    transfer: d.transfer,
    // Written once: a retried invocation (journaled before) does not write the call's span again.
    ended:
      ended && journal.event !== 'duplicate'
        ? { startMs: nowMs - ended.seconds * 1000, endMs: nowMs, disposition: ended.disposition }
        : undefined,
  };
}

/**
 * The answer to Chime: the decision's actions and state, unless Chime would reject them (a bug,
 * not an input problem), in which case the safe answer, and `refused` is told.
 */
function answerOf(ev: SmaEvent, d: Decision, log: Logger, refused: () => void): SmaResponse {
  const response: SmaResponse = {
    SchemaVersion: '1.0',
    Actions: d.actions,
    TransactionAttributes: writeState(ev.attributes, d.state),
  };
  const valid = smaResponse.safeParse(response);
  if (valid.success) return response;
  refused();
  log.error(
    { reason: 'invalid_response', issue: valid.error.issues[0]?.message },
    'response refused',
  );
  return safeResponse(ev.attributes);
}

function logNotes(log: Logger, notes: Note[]): void {
  for (const n of notes) {
    log[n.level]({ reason: n.reason, ...n.fields, ...(n.pii ? { pii: n.pii } : {}) }, n.msg);
  }
}

function logAnswer(
  log: Logger,
  ev: SmaEvent,
  d: Decision,
  response: SmaResponse,
  journal: JournalResult,
): void {
  log.info(
    {
      actions: response.Actions.map((a) => a.Type),
      phase: d.state.phase,
      journal: `${journal.event}/${journal.state}`,
      ...(ev.type === 'NEW_INBOUND_CALL' || ev.type === 'NEW_OUTBOUND_CALL'
        ? { pii: { from: ev.legA?.from, to: ev.legA?.to } }
        : {}),
    },
    'answered',
  );
}

/**
 * Error counters start at 0 for every event type, refusals for every use case: dashboards show 0
 * rather than no data, and rate() sees the first error (a series that appears at 1 hides its
 * first increment).
 */
function startErrorCountersAtZero(i: SmaInstruments, config: DecideConfig): void {
  for (const event_type of [...EventType.options, 'unknown']) {
    i.handlerErrors.add(0, { event_type });
    i.journalFailures.add(0, { event_type });
  }
  const useCases = config.useCases.all.map((uc) => uc.id);
  for (const use_case of [...useCases, 'unknown']) {
    for (const reason of RefusedReason.options)
      i.refusedCalls.add(0, { reason, use_case, component: 'sma' });
  }
  for (const use_case of useCases) {
    for (const check of ADMISSION_CHECKS) i.admissionUnchecked.add(0, { check, use_case });
  }
}

function journalEntry(
  ev: SmaEvent,
  d: Decision,
  response: SmaResponse,
  nowMs: number,
): JournalEntry {
  return {
    transactionId: ev.transactionId,
    sequence: ev.sequence,
    eventType: ev.type,
    actionDataType: ev.action?.type,
    errorType: ev.error?.type,
    actionTypes: response.Actions.map((a) => a.Type),
    phase: d.state.phase,
    receivedAtMs: nowMs,
    record: d.record,
    ...(d.recording ? { recording: d.recording } : {}),
  };
}

function countJournalFailures(
  i: SmaInstruments,
  log: Logger,
  eventType: string,
  journal: JournalResult,
): void {
  if (journal.errors.length === 0) return;
  i.journalFailures.add(journal.errors.length, { event_type: eventType });
  log.warn({ reason: 'journal_write_failed', errors: journal.errors }, 'journal write failed');
}

/**
 * The use cases to decide an event with: the current ones, except that a call under way keeps the
 * version of its use case it started with (`version` in its attributes). A version that cannot be
 * had in budget gives way to the current one, logged: a read never delays a call.
 */
async function pinnedUseCases(
  source: UseCaseSource,
  ev: SmaEvent,
  st: CallState,
  log: Logger,
): Promise<UseCaseCatalog> {
  const catalog = source.current();
  const starts = ev.type === 'NEW_INBOUND_CALL' || ev.type === 'NEW_OUTBOUND_CALL';
  const { useCase: id, version } = st;
  if (starts || id === undefined || version === undefined || !source.atVersion) return catalog;
  if (source.versionOf?.(id) === version || !catalog.byIdOrUndefined(id)) return catalog;
  const pinned = await source.atVersion(id, version);
  if (pinned) return withUseCase(catalog, pinned);
  log.warn(
    { reason: 'use_case_version_unread', useCase: id, version },
    "the call's use case version was not read; the current one serves",
  );
  return catalog;
}

/**
 * The decision with the version of its use case recorded: the one the call already holds, or, as
 * a call starts (or its use case is first named), the current one.
 */
function withVersion(d: Decision, st: CallState, source: UseCaseSource | undefined): Decision {
  const id = d.state.useCase;
  if (id === undefined) return d;
  const version =
    id === st.useCase && st.version !== undefined ? st.version : source?.versionOf?.(id);
  return version === undefined ? d : { ...d, state: { ...d.state, version } };
}

async function handleParsed(
  deps: HandlerDeps,
  ev: SmaEvent,
  log: Logger,
  span: InvocationSpan,
): Promise<SmaResponse> {
  const { instruments: i } = deps;
  const nowMs = deps.now();
  const st = readState(ev.attributes);
  const config = deps.useCases
    ? { ...deps.config, useCases: await pinnedUseCases(deps.useCases, ev, st, log) }
    : deps.config;
  const admitter = deps.admission ?? admitAll;
  const admission = await askAdmission(admitter, config, ev, nowMs, log);
  const decided = withVersion(decide(ev, { config, nowMs, admission }), st, deps.useCases);
  const d = await withHandoffLine(deps.handoff, ev, decided, config.useCases, nowMs, log);
  const response = answerOf(ev, d, log, () => {
    i.handlerErrors.add(1, { event_type: ev.type });
    span.failed('invalid_response');
  });
  // Freeing the slot does not wait for the journal, nor the journal for it.
  const [journal] = await Promise.all([
    deps.journal.record(journalEntry(ev, d, response, nowMs)),
    d.release ? releaseLease(admitter, d.release, log) : undefined,
  ]);
  countJournalFailures(i, log, ev.type, journal);
  // A retried invocation (same Sequence already journaled) gets the same answer but is not
  // counted twice.
  if (journal.event !== 'duplicate') recordMetrics(i, d.metrics, d.state.useCase ?? 'unknown');
  logNotes(log, d.notes);
  span.decided(() => traceFacts(d, response, journal, nowMs));
  logAnswer(log, ev, d, response, journal);
  return response;
}

/**
 * An event from another SMA application or account: answered like a malformed event, neither
 * decided nor journaled (its call is not ours), and counted.
 */
function refuseForeign(
  deps: HandlerDeps,
  ev: SmaEvent,
  foreign: 'application' | 'account',
): SmaResponse {
  deps.instruments.refusedCalls.add(1, {
    reason: 'foreign_sma',
    use_case: 'unknown',
    component: 'sma',
  });
  deps.logger.warn(
    { reason: 'foreign_sma', foreign, transactionId: ev.transactionId, eventType: ev.type },
    'event refused',
  );
  return safeResponse(ev.attributes);
}

async function handle(raw: unknown, deps: HandlerDeps, tracing: CallTracing): Promise<SmaResponse> {
  const { instruments: i } = deps;
  const started = performance.now();
  let eventType = 'unknown';
  let attributes: Record<string, string> | undefined;
  try {
    const parsed = parseEvent(raw);
    if (!parsed.ok) {
      attributes = parsed.attributes;
      deps.logger.warn(
        { reason: parsed.reason, transactionId: parsed.transactionId },
        'event refused',
      );
      return safeResponse(parsed.attributes);
    }
    const ev = parsed.event;
    eventType = ev.type;
    attributes = ev.attributes;
    const foreign = foreignId(ev, deps.owner ?? anyOwner);
    if (foreign) return refuseForeign(deps, ev, foreign);
    const log = deps.logger.child({
      transactionId: ev.transactionId,
      sequence: ev.sequence,
      eventType,
    });
    return await tracing.invocation(ev, (span) => handleParsed(deps, ev, log, span));
  } catch (err) {
    i.handlerErrors.add(1, { event_type: eventType });
    deps.logger.error(
      { reason: 'handler_exception', ...errorFields(err) },
      'handler failed; answering safely',
    );
    return safeResponse(attributes);
  } finally {
    i.invocationDuration.record((performance.now() - started) / 1000, { event_type: eventType });
  }
}

export function createHandler(deps: HandlerDeps): SmaHandler {
  startErrorCountersAtZero(deps.instruments, deps.config);
  const tracing = deps.tracing ?? noTracing;
  return (raw) => handle(raw, deps, tracing);
}
