// A transfer's hops as the lab sees them, each timed from the agent's requestedAt: the SMA answered
// the update, the AI leg was down and the bridge to the queue placed, the bridge answered (the
// SMA's own voice.call.transfer_hop), and the person's first words at the caller's ear (only the
// lab can time that one). Read from the simulated Chime call's timeline and the caller's ear.
import type { TimelineStep } from '../chime/simulated-call.js';

export interface TransferHops {
  updateAcceptedMs: number | null;
  aiLegDownMs: number | null;
  bridgeAnsweredMs: number | null;
  personHeardMs: number | null;
}

export const HOP_LABELS: [keyof TransferHops, string][] = [
  ['updateAcceptedMs', 'update accepted'],
  ['aiLegDownMs', 'AI leg down'],
  ['bridgeAnsweredMs', 'bridge answered'],
  ['personHeardMs', 'person heard'],
];

const isPstnBridge = (a: TimelineStep['actions'][number]) =>
  a.Type === 'CallAndBridge' &&
  (a.Parameters?.['Endpoints'] as { BridgeEndpointType?: string }[] | undefined)?.[0]
    ?.BridgeEndpointType === 'PSTN';

/**
 * The hops of the call's first transfer (null where it did not get that far).
 * @param requestedAt the agent's requestedAt (epoch ms)
 * @param personHeardAt the person's first audible frame at the ear (epoch ms)
 */
export function transferHopsOf(
  timeline: readonly TimelineStep[],
  requestedAt: number,
  personHeardAt: number | undefined,
): TransferHops | null {
  if (!Number.isFinite(requestedAt)) return null;
  const since = (at: number | undefined) =>
    at === undefined ? null : Math.max(0, Math.round(at - requestedAt));
  const update = timeline.find(
    (s) => s.type === 'CALL_UPDATE_REQUESTED' && s.atMs >= requestedAt - 1000,
  );
  if (!update) return null;
  const placed = timeline.find(
    (s) => s.sequence >= update.sequence && s.actions.some(isPstnBridge),
  );
  const answered = placed
    ? timeline.find(
        (s) =>
          s.sequence > placed.sequence &&
          s.type === 'ACTION_SUCCESSFUL' &&
          (s.actionData as { Type?: string } | undefined)?.Type === 'CallAndBridge',
      )
    : undefined;
  return {
    updateAcceptedMs: since(update.atMs),
    aiLegDownMs: since(placed?.atMs),
    bridgeAnsweredMs: since(answered?.atMs),
    personHeardMs: answered ? since(personHeardAt) : null,
  };
}
