// What the caller hears when a speech provider fails: never silence. The first unrecoverable
// failure gets a short spoken line (from memory, so it plays even if TTS is what failed); the next
// hands the caller to a person directly through the SMA, without asking the model (which may be
// what failed).
import { voice } from '@livekit/agents';
import type { Logger } from 'pino';

export const PROVIDER_TROUBLE_LINE = "Sorry, I'm having a little trouble. One moment please.";

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
