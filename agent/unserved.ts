// A call this worker's speech set cannot hold (agent/providers: the offline set hears English only
// and has no cloud model): the caller is told so in one fixed line, played from memory, and handed
// to the use case's default queue, rather than heard by a recognizer that cannot understand them.
import type { voice } from '@livekit/agents';
import type { Logger } from 'pino';
import { AgentTransferReason } from '../contracts/reasons.js';
import type { UseCase } from '../contracts/use-cases.js';
import type { CallContext } from './call-context.js';
import type { CallControl } from './call-control.js';
import type { CallLines } from './greeting-cache.js';
import { servingOf, type Serving, type SpeechProviders } from './providers/index.js';

/** Whether the worker's set can hold this use case's conversation. */
export function servingFor(providers: SpeechProviders, useCase: UseCase): Serving {
  return providers.serves ? providers.serves(useCase) : servingOf(providers.kind, useCase);
}

export async function handOverUnserved(
  session: voice.AgentSession,
  call: CallContext,
  deps: { lines: CallLines; control: CallControl | undefined; logger: Logger },
  why: Extract<Serving, { ok: false }>['why'],
): Promise<void> {
  deps.logger.warn(
    { reason: 'not_served', why, language: call.useCase.language },
    why === 'language'
      ? 'the offline speech set hears English only: the caller goes to a person'
      : 'the use case needs cloud speech, which this worker lacks: the caller goes to a person',
  );
  await deps.lines.say(session, 'notServed', { allowInterruptions: false }).waitForPlayout();
  if (!deps.control) return;
  try {
    await deps.control.update({
      action: 'transfer',
      queue: call.useCase.defaultQueue,
      reason: AgentTransferReason.enum.out_of_scope,
      requestedAt: Date.now(),
      traceparent: call.traceparent,
    });
  } catch (err) {
    deps.logger.error({ err, reason: 'transfer_request_failed' }, 'transfer failed');
  }
}
