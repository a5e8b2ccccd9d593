// transfer_to_human: says the hand-off line, then asks the SMA (UpdateSipMediaApplicationCall)
// to bridge the caller to one of the use case's queues. Only queue keys of the use case are
// accepted; the SMA handler checks again and maps keys to numbers itself.
import { llm } from '@livekit/agents';
import * as z from 'zod';
import type { Logger } from 'pino';
import { queueKey } from '../../contracts/ids.js';
import { AgentTransferReason } from '../../contracts/reasons.js';
import type { UseCase } from '../../contracts/use-cases.js';
import type { CallContext } from '../call-context.js';
import type { CallControl } from '../call-control.js';
import { CallLines } from '../greeting-cache.js';
import { outcome, ToolOutcome } from './outcome.js';

export interface TransferToolDeps {
  call: CallContext;
  /** Undefined in a dev room: there is no phone call to transfer. */
  control: CallControl | undefined;
  logger: Logger;
  /** The call's fixed lines; without them the hand-off line is said by live TTS. */
  lines?: CallLines;
  now?: () => number;
  /** Called once Chime accepted the transfer (the session can wind down). */
  onTransferStarted?: (queue: string, reason: AgentTransferReason) => void;
}

/**
 * What a reason outside the closed set reads as. The model is shown the set; when it still
 * invents one, the caller is transferred all the same (a reason labels the transfer, it decides
 * nothing), and the invented text goes no further than the framework's own tool-call record.
 */
export const FALLBACK_TRANSFER_REASON: AgentTransferReason = 'caller_asked';

/** The tool's parameters: the reason's JSON schema lists the closed set the model may use. */
export function transferParameters(useCase: UseCase) {
  return z.object({
    queue: z.string().describe(`One of: ${Object.keys(useCase.queues).join(', ')}`),
    reason: AgentTransferReason.catch(FALLBACK_TRANSFER_REASON).describe(
      'Why: caller_asked, out_of_scope, not_understood or agent_error',
    ),
  });
}

/** A queue the agent may ask for: a well-formed queue key that is one of the use case's queues. */
export function isUseCaseQueue(useCase: UseCase, queue: string): boolean {
  return queueKey.safeParse(queue).success && Object.hasOwn(useCase.queues, queue);
}

export function transferToHumanTool(deps: TransferToolDeps) {
  const { useCase } = deps.call;
  const lines = deps.lines ?? new CallLines(useCase);
  const queues = Object.entries(useCase.queues)
    .map(([key, q]) => `${key}${q.description ? ` (${q.description})` : ''}`)
    .join(', ');
  return llm.tool({
    name: 'transfer_to_human',
    description:
      `Transfer the caller to a person when they ask for one or when you cannot help. ` +
      `queue must be one of: ${queues}. Never pass a phone number.`,
    parameters: transferParameters(useCase),
    execute: async ({ queue, reason }, { ctx }) => {
      const log = deps.logger.child({ tool: 'transfer_to_human' });
      if (!isUseCaseQueue(useCase, queue)) {
        log.warn({ reason: 'unknown_queue' }, 'transfer refused');
        return outcome(
          ToolOutcome.transferRefused,
          `That is not a queue; valid queues: ${queues}.`,
        );
      }
      if (!deps.control) {
        return outcome(
          ToolOutcome.devRoom,
          'This is a dev room, not a phone call: no transfer was made.',
        );
      }
      ctx.disallowInterruptions();
      await lines.say(ctx.session, 'handoff', { allowInterruptions: false }).waitForPlayout();
      return requestTransfer(deps, deps.control, queue, reason);
    },
  });
}

/** Asks the SMA for the transfer; what the model is told comes back. */
async function requestTransfer(
  deps: TransferToolDeps,
  control: CallControl,
  queue: string,
  reason: AgentTransferReason,
): Promise<string> {
  const log = deps.logger.child({ tool: 'transfer_to_human' });
  // The transfer delay callers feel starts when the agent stops talking: decided and sent now.
  const requestedAt = (deps.now ?? Date.now)();
  try {
    await control.update({
      action: 'transfer',
      queue,
      reason,
      requestedAt,
      traceparent: deps.call.traceparent,
    });
  } catch (err) {
    log.error({ err, reason: 'transfer_request_failed' }, 'transfer failed');
    return outcome(
      ToolOutcome.transferFailed,
      'No one could be reached. Apologise briefly and keep helping the caller.',
    );
  }
  log.info({ queue, reason }, 'transfer requested');
  deps.onTransferStarted?.(queue, reason);
  return outcome(ToolOutcome.transferStarted, 'The caller is being connected. Say nothing more.');
}
