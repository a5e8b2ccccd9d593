// The handler shell: parse the event, decide, write the journal (bounded), record metrics, answer.
// It never throws to Chime: whatever happens, the answer is a valid SMA response.
import { decide, type DecideConfig, type MetricEffect, type Note } from './decide/index.js';
import { smaResponse, type SmaResponse } from './actions.js';
import { writeState, readState } from './call-state.js';
import { parseEvent, type SmaEvent } from './events.js';
import type { CallJournal, JournalResult } from './journal.js';
import type { Logger } from './logger.js';
import type { SmaInstruments } from '../../otel/instruments.js';

export interface HandlerDeps {
  config: DecideConfig;
  journal: CallJournal;
  instruments: SmaInstruments;
  logger: Logger;
  now: () => number;
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
      case 'callDuration':
        i.callDuration.record(m.seconds, { disposition: m.disposition, use_case: useCase });
        break;
    }
  }
}

function logNotes(log: Logger, notes: Note[]): void {
  for (const n of notes) log[n.level]({ reason: n.reason, ...n.fields }, n.msg);
}

export function createHandler(deps: HandlerDeps): SmaHandler {
  const { instruments: i } = deps;

  async function handleParsed(ev: SmaEvent, log: Logger): Promise<SmaResponse> {
    const nowMs = deps.now();
    const d = decide(ev, { config: deps.config, nowMs });
    let response: SmaResponse = {
      SchemaVersion: '1.0',
      Actions: d.actions,
      TransactionAttributes: writeState(ev.attributes, d.state),
    };
    const valid = smaResponse.safeParse(response);
    if (!valid.success) {
      // A bug, not an input problem: never send Chime something it would reject.
      i.handlerErrors.add(1, { event_type: ev.type });
      log.error(
        { reason: 'invalid_response', issue: valid.error.issues[0]?.message },
        'response refused',
      );
      response = safeResponse(ev.attributes);
    }
    const journal: JournalResult = await deps.journal.record({
      transactionId: ev.transactionId,
      sequence: ev.sequence,
      eventType: ev.type,
      actionDataType: ev.action?.type,
      errorType: ev.error?.type,
      actionTypes: response.Actions.map((a) => a.Type),
      phase: d.state.phase,
      receivedAtMs: nowMs,
      record: d.record,
    });
    if (journal.errors.length > 0) {
      i.journalFailures.add(journal.errors.length, { event_type: ev.type });
      log.warn({ reason: 'journal_write_failed', errors: journal.errors }, 'journal write failed');
    }
    // A retried invocation (same Sequence already journaled) gets the same answer but is not
    // counted twice.
    if (journal.event !== 'duplicate') recordMetrics(i, d.metrics, d.state.useCase ?? 'unknown');
    logNotes(log, d.notes);
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
    return response;
  }

  return async function handle(raw: unknown): Promise<SmaResponse> {
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
      const log = deps.logger.child({
        transactionId: ev.transactionId,
        sequence: ev.sequence,
        eventType,
      });
      return await handleParsed(ev, log);
    } catch (err) {
      i.handlerErrors.add(1, { event_type: eventType });
      deps.logger.error({ reason: 'handler_exception', err }, 'handler failed; answering safely');
      return safeResponse(attributes);
    } finally {
      i.invocationDuration.record((performance.now() - started) / 1000, { event_type: eventType });
    }
  };
}
