// The context a transfer hands to the person (docs/handoff.md): the shell's side. When the agent's
// accepted transfer carries a summary and its queue lists rolling numbers, one of them is claimed
// for the call in the calls table (a conditional write with an expiry, holding the context), and
// the bridge to the queue dials it instead of the queue's number; Connect's flow finds the context
// by the number dialed (lambdas/connect-context/). No rolling number free, DynamoDB slow or down:
// the plain number, as before, never a delay past the budget and never a dropped caller.
// decide() stays pure: it only reads the claimed slot (`line`) from the call's state. The claims
// themselves are store/handoff-claims.ts's, shared with the Twilio gateway's transfers.
import type { ReceivedCallUpdate } from '../../contracts/call-update.js';
import type { HandoffContext } from '../../contracts/handoff-context.js';
import type { UseCaseCatalog } from '../../contracts/use-cases.js';
import { callTraceId } from '../../otel/traceparent.js';
import type { Action } from './actions.js';
import type { Decision } from './decide/index.js';
import type { SmaEvent } from './events.js';
import type { Logger } from './logger.js';
import type { ClaimResult, HandoffClaims } from '../../store/handoff-claims.js';

export {
  CLAIM_HOLD_MS,
  DynamoHandoffClaims,
  firstSlot,
  type ClaimRequest,
  type ClaimResult,
  type DynamoHandoffClaimsOptions,
  type HandoffClaims,
} from '../../store/handoff-claims.js';

type TransferUpdate = Extract<ReceivedCallUpdate, { action: 'transfer' }>;

/** The agent's transfer in this event, when it carries a summary for the person. */
function transferWithContext(ev: SmaEvent): TransferUpdate | undefined {
  const params = ev.action?.params;
  const update = params?.type === 'CallUpdateRequest' ? params.update : undefined;
  return update?.action === 'transfer' && update.summary ? update : undefined;
}

/** The bridge to `from` dials `to` instead (the decision's other actions unchanged). */
function redial(actions: Action[], from: string, to: string): Action[] {
  return actions.map((a) => {
    if (a.Type !== 'CallAndBridge') return a;
    const endpoints = a.Parameters.Endpoints.map((e) =>
      e.BridgeEndpointType === 'PSTN' && e.Uri === from ? { ...e, Uri: to } : e,
    );
    return { ...a, Parameters: { ...a.Parameters, Endpoints: endpoints } };
  });
}

/**
 * The decision of an accepted transfer with context, its primary bridge moved to a claimed
 * rolling number (now, or when the agent's leg is down: `line` in the state); any other decision
 * unchanged. Never rejects; the summary is never logged.
 */
export async function withHandoffLine(
  claims: HandoffClaims | undefined,
  ev: SmaEvent,
  d: Decision,
  useCases: UseCaseCatalog,
  nowMs: number,
  log: Logger,
): Promise<Decision> {
  const update = claims ? transferWithContext(ev) : undefined;
  const { useCase: id, queue: key } = d.state;
  if (!claims || !update || d.transfer?.step !== 'requested' || !id || !key) return d;
  const useCase = useCases.byIdOrUndefined(id);
  const queue = useCase && Object.hasOwn(useCase.queues, key) ? useCase.queues[key] : undefined;
  const pool = queue?.rollingNumbers ?? [];
  if (!queue || pool.length === 0) return d;
  const context: HandoffContext = {
    summary: update.summary ?? '',
    topic: update.topic ?? '',
    reason: update.reason,
    verification: update.verification ?? 'unverified',
    traceId: callTraceId(ev.transactionId),
    useCase: id,
    queue: key,
  };
  const claimed = await claims
    .claim({ transactionId: ev.transactionId, slots: pool.length, context, nowMs })
    .catch((err: unknown): ClaimResult => ({
      slot: undefined,
      why: err instanceof Error ? err.name : 'unknown_error',
    }));
  if (claimed.slot === undefined) {
    log.warn(
      { reason: 'handoff_line_unclaimed', why: claimed.why, queue: key },
      'no rolling number for the context; bridging to the queue number',
    );
    return d;
  }
  const rolling = pool[claimed.slot]!;
  log.info({ reason: 'handoff_line_claimed', queue: key, slot: claimed.slot }, 'context stored');
  const record = { ...d.record };
  if (record.PendingTransferToPstn === queue.number) record.PendingTransferToPstn = rolling;
  return {
    ...d,
    actions: redial(d.actions, queue.number, rolling),
    state: { ...d.state, line: claimed.slot },
    record,
  };
}
