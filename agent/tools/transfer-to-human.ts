// transfer_to_human: says a short handoff line, then asks the SMA (UpdateSipMediaApplicationCall)
// to bridge the caller to one of the use case's queues. Only queue keys of the use case are
// accepted; the SMA handler checks again and maps keys to numbers itself.
import { llm } from '@livekit/agents';
import * as z from 'zod';
import type { Logger } from 'pino';
import type { CallContext } from '../call-context.js';
import type { CallControl } from '../call-control.js';
import { outcome, ToolOutcome } from './outcome.js';

export const HANDOFF_LINE = 'Sure. Let me connect you with a member of our team. Please hold.';

export interface TransferToolDeps {
  call: CallContext;
  /** Undefined in a dev room: there is no phone call to transfer. */
  control: CallControl | undefined;
  logger: Logger;
  now?: () => number;
  /** Called once Chime accepted the transfer (the session can wind down). */
  onTransferStarted?: (queue: string, reason: string) => void;
}

const REASON = /^[a-z][a-z0-9_]{0,47}$/;

export function transferToHumanTool(deps: TransferToolDeps) {
  const { useCase } = deps.call;
  const queues = Object.entries(useCase.queues)
    .map(([key, q]) => `${key}${q.description ? ` (${q.description})` : ''}`)
    .join(', ');
  return llm.tool({
    name: 'transfer_to_human',
    description:
      `Transfer the caller to a person when they ask for one or when you cannot help. ` +
      `queue must be one of: ${queues}. Never pass a phone number.`,
    parameters: z.object({
      queue: z.string().describe(`One of: ${Object.keys(useCase.queues).join(', ')}`),
      reason: z
        .string()
        .describe('snake_case reason: caller_asked, out_of_scope, not_understood or agent_error'),
    }),
    execute: async ({ queue, reason }, { ctx }) => {
      const log = deps.logger.child({ tool: 'transfer_to_human' });
      if (!Object.hasOwn(useCase.queues, queue)) {
        log.warn({ reason: 'unknown_queue' }, 'transfer refused');
        return outcome(
          ToolOutcome.transferRefused,
          `"${queue}" is not a queue; valid queues: ${queues}.`,
        );
      }
      if (!deps.control) {
        return outcome(
          ToolOutcome.devRoom,
          'This is a dev room, not a phone call: no transfer was made.',
        );
      }
      ctx.disallowInterruptions();
      await ctx.session.say(HANDOFF_LINE, { allowInterruptions: false }).waitForPlayout();
      // The transfer delay callers feel starts when the agent stops talking: decided and sent now.
      const requestedAt = (deps.now ?? Date.now)();
      try {
        await deps.control.update({
          action: 'transfer',
          queue,
          reason: REASON.test(reason) ? reason : 'caller_asked',
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
      return outcome(
        ToolOutcome.transferStarted,
        'The caller is being connected. Say nothing more.',
      );
    },
  });
}
