// leave_message: a caller who was told the team is busy or closed chooses to leave a message. The
// tool says the message line, then asks the SMA (UpdateSipMediaApplicationCall, action=voicemail)
// to end the agent's leg and record the caller, as it does when no person answers (the use case's
// `voicemail`). It takes no arguments: where the message goes is the SMA's, and nothing a caller
// says selects it. Offered only where the use case has `voicemail.enabled`; the SMA checks that
// again. A refused or unreachable update leaves the caller with the agent, which says so.
import { llm } from '@livekit/agents';
import type { Logger } from 'pino';
import type { UseCase } from '../../contracts/use-cases.js';
import type { CallContext } from '../call-context.js';
import type { CallControl } from '../call-control.js';
import { Lines } from '../dialogue/engine.js';
import { CallLines } from '../greeting-cache.js';
import { outcome, ToolOutcome } from './outcome.js';

export interface LeaveMessageToolDeps {
  call: CallContext;
  /** Undefined in a dev room: there is no phone call to record. */
  control: CallControl | undefined;
  logger: Logger;
  /** The call's fixed lines; without them the message line is said by live TTS. */
  lines?: CallLines;
  now?: () => number;
}

/** Whether the agent offers a message: the use case takes one (the SMA's voicemail). */
export function offersMessage(useCase: UseCase): boolean {
  return useCase.voicemail?.enabled === true;
}

export function leaveMessageTool(deps: LeaveMessageToolDeps) {
  const lines = deps.lines ?? new CallLines(deps.call.useCase);
  return llm.tool({
    name: 'leave_message',
    description:
      'Let the caller leave a recorded message for the team, when they choose that after being ' +
      'told the team is busy or closed. Say nothing before calling it; it says the line itself.',
    execute: async (_args, { ctx }) => {
      if (!deps.control) {
        return outcome(
          ToolOutcome.devRoom,
          'This is a dev room, not a phone call: no message can be recorded.',
        );
      }
      ctx.disallowInterruptions();
      await lines.say(ctx.session, 'message', { allowInterruptions: false }).waitForPlayout();
      return requestMessage(deps, deps.control);
    },
  });
}

/** Asks the SMA to take the message; what the model is told comes back. */
export async function requestMessage(
  deps: LeaveMessageToolDeps,
  control: CallControl,
): Promise<string> {
  const log = deps.logger.child({ tool: 'leave_message' });
  try {
    await control.update({
      action: 'voicemail',
      reason: 'caller_asked',
      requestedAt: (deps.now ?? Date.now)(),
      traceparent: deps.call.traceparent,
    });
  } catch (err) {
    log.error({ err, reason: 'message_request_failed' }, 'message not taken');
    return outcome(ToolOutcome.messageFailed, `Say: "${Lines.messageFailed}" Then keep helping.`);
  }
  log.info({ reason: 'caller_asked' }, 'message requested');
  return outcome(
    ToolOutcome.messageStarted,
    'The caller is leaving a message and the call is ending. Say nothing more.',
  );
}
