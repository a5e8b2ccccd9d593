// CALL_UPDATE_REQUESTED: the agent asked, through UpdateSipMediaApplicationCall, to transfer the
// caller to a person, to take the caller's message (the use case's voicemail) or to end the call. The arguments are contracts/call-update.ts's, read at the
// edge (../action-data.ts). Anything a caller could have put there is treated as untrusted: the
// queue must be a key of the use case, and nothing that looks like a phone number is ever dialed.
// Nothing is acted on unless the update's call token verifies for this very call: whoever else can
// call UpdateSipMediaApplicationCall (any holder of the IAM permission) cannot move a caller.
// An update may carry the language the caller switched the call to: it is kept (state `lang`,
// the state item's `Language`) only when it is one of the use case's `languages`, and what Chime
// says itself from then on is in it; any other tag is logged and the rest of the update goes on.
import { verifyCallToken } from '../../../contracts/call-token.js';
import type { ReceivedCallUpdate } from '../../../contracts/call-update.js';
import { queueKey } from '../../../contracts/ids.js';
import { offeredLanguage } from '../../../contracts/use-cases.js';
import { parseTraceparent } from '../../../otel/traceparent.js';
import { hangupLeg } from '../actions.js';
import type { CallState } from '../call-state.js';
import type { SmaEvent } from '../events.js';
import { bridgeToQueue, reportOf, transferHop } from './common.js';
import { queueOf } from './facts.js';
import { takeMessage, takesMessages } from './voicemail.js';
import {
  noChange,
  type CallFacts,
  type DecideContext,
  type Decision,
  type Note,
  type RefusalCode,
} from './types.js';

type TransferUpdate = Extract<ReceivedCallUpdate, { action: 'transfer' }>;
type HangupUpdate = Extract<ReceivedCallUpdate, { action: 'hangup' }>;
type MessageUpdate = Extract<ReceivedCallUpdate, { action: 'voicemail' }>;
type LanguageUpdate = Extract<ReceivedCallUpdate, { action: 'language' }>;

/** Seven or more digits, with or without +, spaces, dots, dashes or brackets. */
const LOOKS_LIKE_NUMBER = /(?:\+?\d[\s().-]*){7,}/;

function refuse(st: CallState, reason: RefusalCode, fields?: Note['fields']): Decision {
  return noChange(st, [{ level: 'warn', msg: 'call update refused', reason, fields }]);
}

function agentTraceOf(update: TransferUpdate): string | undefined {
  return parseTraceparent(update.traceparent) ? update.traceparent : undefined;
}

/** A transfer refused; one to a queue that is not the use case's is counted as well. */
function refuseTransfer(
  st: CallState,
  update: TransferUpdate,
  refusal: { code: RefusalCode; fields?: Note['fields'] },
  nowMs: number,
): Decision {
  const d = refuse(st, refusal.code, refusal.fields);
  const report = {
    ...reportOf(st, 'refused'),
    agentTraceparent: st.agentTrace ?? agentTraceOf(update),
  };
  if (refusal.code !== 'queue_looks_like_number' && refusal.code !== 'unknown_queue') {
    return { ...d, transfer: report };
  }
  return {
    ...d,
    metrics: [
      { metric: 'transfer', outcome: 'refused', reason: 'invalid_queue' },
      // The transfer failed at its first hop: the update was not accepted.
      ...transferHop(
        { ...st, requestedAt: update.requestedAt },
        'update_accepted',
        nowMs,
        'refused',
      ),
    ],
    transfer: { ...report, outcome: 'refused', reason: 'invalid_queue' },
  };
}

/** The queue key to transfer to, or why there is none. */
function queueFor(
  st: CallState,
  f: CallFacts,
  update: TransferUpdate,
): { queue: string } | { code: RefusalCode; fields?: Note['fields'] } {
  if (st.phase === 'transfer_pending' || st.phase === 'bridging_human') {
    return { code: 'transfer_already_in_progress' };
  }
  if (st.phase !== 'ai_connected')
    return { code: 'transfer_not_possible', fields: { phase: st.phase } };
  const requested = update.queue || f.useCase.defaultQueue;
  if (LOOKS_LIKE_NUMBER.test(requested)) return { code: 'queue_looks_like_number' };
  if (!queueKey.safeParse(requested).success || !queueOf(f.useCase, requested)) {
    return { code: 'unknown_queue', fields: { useCase: f.useCase.id } };
  }
  return { queue: requested };
}

function requestNotes(next: CallState): Note[] {
  const notes: Note[] = [
    {
      level: 'info',
      msg: 'transfer requested',
      reason: next.reason ?? 'unspecified',
      fields: { queue: next.queue },
    },
  ];
  if (next.requestedAt === undefined) {
    notes.push({
      level: 'warn',
      msg: 'transfer without requestedAt',
      reason: 'requested_at_missing',
    });
  }
  return notes;
}

/** What an accepted transfer adds to its decision, whichever way it goes on. */
type Accepted = Pick<Decision, 'record' | 'notes'>;

/** The agent leg is already gone: bridge right away. */
function bridgeNow(next: CallState, f: CallFacts, ctx: DecideContext, a: Accepted): Decision {
  const d = bridgeToQueue(next, f, ctx, 'primary');
  return {
    ...d,
    metrics: [...transferHop(next, 'update_accepted', ctx.nowMs), ...d.metrics],
    record: { ...a.record, ...d.record },
    notes: [...a.notes, ...d.notes],
    transfer: d.transfer?.step === 'bridging' ? reportOf(d.state, 'requested') : d.transfer,
  };
}

/** Hang up the agent leg first; the bridge to the queue follows its HANGUP / ACTION_SUCCESSFUL. */
function hangUpAgentFirst(
  next: CallState,
  f: CallFacts,
  ctx: DecideContext,
  legB: string,
  a: Accepted,
): Decision {
  const state: CallState = { ...next, phase: 'transfer_pending' };
  const number = queueOf(f.useCase, next.queue ?? f.useCase.defaultQueue)?.number;
  return {
    actions: [hangupLeg(legB)],
    state,
    record: { ...a.record, Phase: 'transfer_pending', PendingTransferToPstn: number },
    metrics: transferHop(next, 'update_accepted', ctx.nowMs),
    notes: a.notes,
    transfer: reportOf(state, 'requested'),
  };
}

function transfer(
  st: CallState,
  f: CallFacts,
  ctx: DecideContext,
  update: TransferUpdate,
): Decision {
  const checked = queueFor(st, f, update);
  if ('code' in checked) return refuseTransfer(st, update, checked, ctx.nowMs);
  const next: CallState = {
    ...st,
    queue: checked.queue,
    reason: update.reason,
    requestedAt: update.requestedAt,
    agentTrace: agentTraceOf(update),
    target: 'primary',
    aiLeg: f.legB ?? st.aiLeg,
  };
  const accepted: Accepted = {
    record: {
      TransferInProgress: true,
      TransferQueue: checked.queue,
      TransferReason: update.reason,
      TransferRequestedAt: update.requestedAt ?? ctx.nowMs,
    },
    notes: requestNotes(next),
  };
  return f.legB === undefined
    ? bridgeNow(next, f, ctx, accepted)
    : hangUpAgentFirst(next, f, ctx, f.legB, accepted);
}

/**
 * The agent ends the call. Its reason is kept on the state item once: the call leaves
 * `ai_connected` here, so any later hang-up update is refused and writes nothing.
 */
function hangup(st: CallState, f: CallFacts, update: HangupUpdate): Decision {
  if (st.phase !== 'ai_connected') return refuse(st, 'hangup_not_possible', { phase: st.phase });
  const state: CallState = { ...st, phase: 'ending', end: 'ai_completed' };
  const notes: Note[] = [
    {
      level: 'info',
      msg: 'agent ended the call',
      reason: 'agent_hangup',
      fields: { endReason: update.reason },
    },
  ];
  // Hang up the caller's leg; its HANGUP event then mirrors the hang-up to LEG-B.
  if (f.legA === undefined) {
    return {
      actions: f.legB ? [hangupLeg(f.legB)] : [],
      state,
      record: { EndReason: update.reason },
      metrics: [],
      notes,
    };
  }
  return {
    actions: [hangupLeg(f.legA)],
    state,
    record: { Phase: 'ending', EndReason: update.reason },
    metrics: [],
    notes,
  };
}

/**
 * The caller chose to leave a message: only while with the agent, and only where the use case
 * takes messages (and the SMA has RECORDINGS_BUCKET). The agent leg is hung up first; the prompt
 * and the recording follow its HANGUP / ACTION_SUCCESSFUL (./voicemail.ts), as a transfer's bridge
 * does. Where the message goes is the SMA's: nothing in the update selects it.
 */
function voicemail(
  st: CallState,
  f: CallFacts,
  ctx: DecideContext,
  update: MessageUpdate,
): Decision {
  if (st.phase !== 'ai_connected') {
    return refuse(st, 'voicemail_not_possible', { phase: st.phase });
  }
  if (!takesMessages(f, ctx)) {
    // The agent has told the caller a message comes next and waits for its leg to end: a refusal
    // would leave them on a quiet line. They go to the default queue instead (then its fallback,
    // then the apology), as a transfer the caller asked for.
    const d = transfer(st, f, ctx, {
      action: 'transfer',
      queue: '',
      reason: 'caller_asked',
      requestedAt: update.requestedAt,
      traceparent: update.traceparent,
      token: update.token,
      summary: undefined,
      topic: undefined,
      verification: undefined,
      language: undefined,
    });
    const note: Note = {
      level: 'warn',
      msg: 'no message can be taken; sending caller to a person',
      reason: 'voicemail_not_offered',
      fields: { useCase: f.useCase.id },
    };
    return { ...d, notes: [note, ...d.notes] };
  }
  const state: CallState = { ...st, phase: 'message_pending', aiLeg: f.legB ?? st.aiLeg };
  const notes: Note[] = [
    {
      level: 'info',
      msg: 'message requested',
      reason: 'voicemail_requested',
      fields: { messageReason: update.reason },
    },
  ];
  if (f.legB === undefined) {
    const d = takeMessage(state, f, ctx);
    return { ...d, notes: [...notes, ...d.notes] };
  }
  return {
    actions: [hangupLeg(f.legB)],
    state,
    record: { Phase: 'message_pending' },
    metrics: [],
    notes,
  };
}

const TOKEN_REFUSALS = {
  missing: 'call_token_missing',
  malformed: 'call_token_malformed',
  expired: 'call_token_expired',
  mismatch: 'call_token_mismatch',
} as const satisfies Record<string, RefusalCode>;

/** Refused unless signed for this call (TransactionId and the event's SMA); never logs the token. */
function forged(
  ev: SmaEvent,
  st: CallState,
  update: ReceivedCallUpdate,
  ctx: DecideContext,
): Decision | undefined {
  const { secret } = ctx.config.callToken;
  const claims = { transactionId: ev.transactionId, applicationId: ev.applicationId ?? '' };
  const check = verifyCallToken(update.token, claims, secret, ctx.nowMs);
  if (check.ok) return undefined;
  const d = noChange(st, [
    {
      level: 'warn',
      msg: 'call update refused: not signed for this call',
      reason: TOKEN_REFUSALS[check.reason],
      fields: { action: update.action },
    },
  ]);
  return { ...d, metrics: [{ metric: 'refused', reason: 'forged' }] };
}

/**
 * The call's language as the update leaves it: the update's, when it is one of the use case's
 * `languages` (kept as the use case spells it); else the call's current one, with a note that
 * names why (a malformed tag is not logged as sent).
 */
function languageOf(
  st: CallState,
  f: CallFacts,
  sent: string | undefined,
): { lang: string | undefined; note?: Note } {
  if (sent === undefined) return { lang: st.lang };
  const offered = offeredLanguage(f.useCase, sent);
  if (offered.ok) return { lang: offered.option.language };
  return {
    lang: st.lang,
    note: {
      level: 'warn',
      msg: `call language not changed: ${offered.error}`,
      reason: 'language_not_offered',
      fields: {
        useCase: f.useCase.id,
        why: offered.reason,
        ...(offered.reason === 'not_offered' ? { language: sent } : {}),
        current: st.lang,
      },
    },
  };
}

/** The language noted with the call: its state, and the state item when it changed. */
function withLanguage(d: Decision, before: CallState, lang: string | undefined): Decision {
  if (lang === undefined) return d;
  const record = lang !== before.lang ? { ...d.record, Language: lang } : d.record;
  return { ...d, state: { ...d.state, lang }, record };
}

/**
 * The caller switched language: only kept while the call is with the agent (who alone can be told
 * of a switch); nothing else changes, and no action is returned.
 */
function switchLanguage(st: CallState, f: CallFacts, update: LanguageUpdate): Decision {
  // Without a tag it names no language: refused as a malformed one is.
  const { lang, note } = languageOf(st, f, update.language ?? '');
  if (note) return noChange(st, [note]);
  if (st.phase !== 'ai_connected' || lang === undefined) {
    return refuse(st, 'language_not_possible', { phase: st.phase });
  }
  if (lang === st.lang) return noChange(st);
  return {
    actions: [],
    state: { ...st, lang },
    record: { Language: lang },
    metrics: [],
    notes: [
      {
        level: 'info',
        msg: 'call language changed',
        reason: 'language_switched',
        fields: { useCase: f.useCase.id, from: st.lang ?? f.useCase.language, to: lang },
      },
    ],
  };
}

export function decideUpdate(
  ev: SmaEvent,
  st: CallState,
  f: CallFacts,
  ctx: DecideContext,
): Decision {
  const params = ev.action?.params;
  const update = params?.type === 'CallUpdateRequest' ? params.update : undefined;
  if (!update) return refuse(st, 'invalid_update_arguments');
  const refused = forged(ev, st, update, ctx);
  if (refused) return refused;
  if (update.action === 'language') return switchLanguage(st, f, update);
  const { lang, note } = languageOf(st, f, update.language);
  // What follows (a notice, an apology, a prompt) is already in the update's language.
  const next: CallState = lang === undefined ? st : { ...st, lang };
  const d = withLanguage(decideAction(next, f, ctx, update), st, lang);
  return note ? { ...d, notes: [note, ...d.notes] } : d;
}

function decideAction(
  st: CallState,
  f: CallFacts,
  ctx: DecideContext,
  update: Exclude<ReceivedCallUpdate, LanguageUpdate>,
): Decision {
  switch (update.action) {
    case 'transfer':
      return transfer(st, f, ctx, update);
    case 'voicemail':
      return voicemail(st, f, ctx, update);
    case 'hangup':
      return hangup(st, f, update);
  }
}
