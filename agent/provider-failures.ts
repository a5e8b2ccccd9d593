// What the caller hears when a speech provider fails: never silence. The first unrecoverable
// failure gets a short spoken line (from memory, so it plays even if TTS is what failed); the next
// hands the caller to a person directly through the SMA, without asking the model (which may be
// what failed).
import { voice } from '@livekit/agents';
import type { Logger } from 'pino';
import { AgentTransferReason } from '../contracts/reasons.js';
import type { CallContext } from './call-context.js';
import type { CallControl } from './call-control.js';
import type { CallLines } from './greeting-cache.js';

export interface ProviderFailurePolicy {
  sayTrouble: () => void;
  handOff: () => Promise<void>;
  logger: Logger;
  /** Unrecoverable failures in one call before the caller is handed to a person. */
  handOffAfter?: number;
}

export function watchProviderErrors(
  session: voice.AgentSession,
  policy: ProviderFailurePolicy,
): void {
  let failures = 0;
  let handedOff = false;
  session.on(voice.AgentSessionEventTypes.Error, (ev) => {
    const e = ev.error as { recoverable?: boolean; type?: string; error?: Error };
    policy.logger.error(
      { err: e.error ?? ev.error, type: e.type, recoverable: e.recoverable },
      'provider error',
    );
    if (e.recoverable || handedOff) return;
    failures += 1;
    if (failures < (policy.handOffAfter ?? 2)) {
      policy.sayTrouble();
      return;
    }
    handedOff = true;
    policy
      .handOff()
      .catch((err: unknown) =>
        policy.logger.error({ err }, 'hand-off after provider errors failed'),
      );
  });
}

/**
 * The policy of one call: the trouble line, then the hand-off line and a transfer to the use
 * case's default queue. Both lines play from the cache (agent/lines.ts).
 */
export function callFailurePolicy(
  session: voice.AgentSession,
  call: CallContext,
  deps: { lines: CallLines; control: CallControl | undefined; logger: Logger },
): ProviderFailurePolicy {
  const { lines, control } = deps;
  return {
    logger: deps.logger,
    sayTrouble: () => void lines.say(session, 'trouble'),
    handOff: async () => {
      await lines.say(session, 'handoff', { allowInterruptions: false }).waitForPlayout();
      if (!control) return;
      await control.update({
        action: 'transfer',
        queue: call.useCase.defaultQueue,
        reason: AgentTransferReason.enum.agent_error,
        requestedAt: Date.now(),
        traceparent: call.traceparent,
      });
    },
  };
}
