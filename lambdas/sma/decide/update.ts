// CALL_UPDATE_REQUESTED: the agent asked, through UpdateSipMediaApplicationCall, to transfer the
// caller to a person or to end the call. Arguments follow docs/architecture.md ("UpdateSipMediaApplication
// Call arguments"). Anything a caller could have put there is treated as untrusted: the queue must
// be a key of the use case, and nothing that looks like a phone number is ever dialed.
import * as z from 'zod';
import { parseTraceparent } from '../../../otel/traceparent.js';
import { queueKey } from '../../../contracts/use-cases.js';
import { hangupLeg } from '../actions.js';
import type { CallState } from '../call-state.js';
import type { SmaEvent } from '../events.js';
import { bridgeToQueue, legACallId, liveLegB, resolveUseCase } from './common.js';
import { noChange, type DecideContext, type Decision, type Note } from './types.js';

export const UpdateArguments = z.object({
  action: z.enum(['transfer', 'hangup']),
  queue: z.string().optional(),
  reason: z.string().optional(),
  requestedAt: z.string().optional(),
  traceparent: z.string().optional(),
});
export type UpdateArguments = z.infer<typeof UpdateArguments>;

const REASON = /^[a-z][a-z0-9_]{0,47}$/;
/** Seven or more digits, with or without +, spaces, dots, dashes or brackets. */
const LOOKS_LIKE_NUMBER = /(?:\+?\d[\s().-]*){7,}/;

function refuse(st: CallState, reason: string, fields?: Note['fields']): Decision {
  const d = noChange(st, [{ level: 'warn', msg: 'call update refused', reason, fields }]);
  if (reason.startsWith('queue_') || reason === 'unknown_queue') {
    d.metrics.push({ metric: 'transfer', outcome: 'refused', reason: 'invalid_queue' });
  }
  return d;
}

function transfer(
  ev: SmaEvent,
  st: CallState,
  ctx: DecideContext,
  args: UpdateArguments,
): Decision {
  if (st.phase === 'transfer_pending' || st.phase === 'bridging_human') {
    return refuse(st, 'transfer_already_in_progress');
  }
  if (st.phase !== 'ai_connected') return refuse(st, 'transfer_not_possible', { phase: st.phase });
  const { useCase } = resolveUseCase(ev, st, ctx);
  const requested = args.queue?.trim() || useCase.defaultQueue;
  if (LOOKS_LIKE_NUMBER.test(requested)) return refuse(st, 'queue_looks_like_number');
  if (!queueKey.safeParse(requested).success || !(requested in useCase.queues)) {
    return refuse(st, 'unknown_queue', { useCase: useCase.id });
  }
  const reason =
    args.reason !== undefined && REASON.test(args.reason) ? args.reason : 'unspecified';
  const requestedAt =
    args.requestedAt !== undefined && /^\d{1,16}$/.test(args.requestedAt)
      ? Number(args.requestedAt)
      : undefined;
  const agentTrace = parseTraceparent(args.traceparent) ? args.traceparent : undefined;
  const legB = liveLegB(ev);
  const next: CallState = {
    ...st,
    queue: requested,
    reason,
    requestedAt,
    agentTrace,
    target: 'primary',
    aiLeg: legB ?? st.aiLeg,
  };
  const record = {
    TransferInProgress: true,
    TransferQueue: requested,
    TransferReason: reason,
    TransferRequestedAt: requestedAt ?? ctx.nowMs,
  };
  const notes: Note[] = [
    { level: 'info', msg: 'transfer requested', reason, fields: { queue: requested } },
    ...(requestedAt === undefined
      ? [
          {
            level: 'warn' as const,
            msg: 'transfer without requestedAt',
            reason: 'requested_at_missing',
          },
        ]
      : []),
  ];
  if (legB === undefined) {
    // The agent leg is already gone: bridge right away.
    const d = bridgeToQueue(ev, next, ctx, 'primary');
    return { ...d, record: { ...record, ...d.record }, notes: [...notes, ...d.notes] };
  }
  // Hang up the agent leg first; the bridge to the queue follows its HANGUP / ACTION_SUCCESSFUL.
  return {
    actions: [hangupLeg(legB)],
    state: { ...next, phase: 'transfer_pending' },
    record: {
      ...record,
      Phase: 'transfer_pending',
      PendingTransferToPstn: useCase.queues[requested]!.number,
    },
    metrics: [],
    notes,
  };
}

function hangup(ev: SmaEvent, st: CallState): Decision {
  if (st.phase !== 'ai_connected') return refuse(st, 'hangup_not_possible', { phase: st.phase });
  const legA = legACallId(ev);
  // Hang up the caller's leg; its HANGUP event then mirrors the hang-up to LEG-B.
  if (legA === undefined) {
    const legB = liveLegB(ev);
    return {
      ...noChange({ ...st, phase: 'ending', end: 'ai_completed' }),
      actions: legB ? [hangupLeg(legB)] : [],
    };
  }
  return {
    actions: [hangupLeg(legA)],
    state: { ...st, phase: 'ending', end: 'ai_completed' },
    record: { Phase: 'ending' },
    metrics: [],
    notes: [{ level: 'info', msg: 'agent ended the call', reason: 'agent_hangup' }],
  };
}

export function decideUpdate(ev: SmaEvent, st: CallState, ctx: DecideContext): Decision {
  const raw = ev.action?.parameters['Arguments'];
  const args = UpdateArguments.safeParse(raw);
  if (!args.success) return refuse(st, 'invalid_update_arguments');
  return args.data.action === 'transfer' ? transfer(ev, st, ctx, args.data) : hangup(ev, st);
}
