// end_call: says goodbye, then asks the SMA to hang up both legs (action=hangup). In a dev room
// there is no phone call: the agent leaves the room instead. The call's limits (agent/call-limits.ts)
// end a call through the same hangUpCall, with their own reason.
import { llm } from '@livekit/agents';
import type { Logger } from 'pino';
import { HangupReason } from '../../contracts/reasons.js';
import type { CallContext } from '../call-context.js';
import type { CallControl } from '../call-control.js';
import { CallLines } from '../greeting-cache.js';
import { outcome, ToolOutcome } from './outcome.js';

export interface EndCallToolDeps {
  call: CallContext;
  control: CallControl | undefined;
  logger: Logger;
  /** The call's fixed lines; without them the goodbye is said by live TTS. */
  lines?: CallLines;
  /** Leaves the room (dev rooms; or when Chime cannot be reached, which the SMA treats as the
   * agent leg dropping: the caller then reaches a person rather than silence). */
  leave: () => Promise<void> | void;
  now?: () => number;
}

export type HangUpDeps = Omit<EndCallToolDeps, 'lines'>;

/**
 * Asks the SMA to end the call with `reason`, once the goodbye has been said: `hangup` when Chime
 * took the request, `left` when the agent left the room instead (a dev room, or Chime unreachable).
 */
export async function hangUpCall(
  deps: HangUpDeps,
  reason: HangupReason,
): Promise<'hangup' | 'left'> {
  if (!deps.control) {
    await deps.leave();
    return 'left';
  }
  try {
    await deps.control.update({
      action: 'hangup',
      reason,
      requestedAt: (deps.now ?? Date.now)(),
      traceparent: deps.call.traceparent,
    });
    deps.logger.info({ reason }, 'hang-up requested');
    return 'hangup';
  } catch (err) {
    deps.logger.error({ err, reason: 'hangup_request_failed' }, 'hang-up request failed; leaving');
    await deps.leave();
    return 'left';
  }
}

export function endCallTool(deps: EndCallToolDeps) {
  const lines = deps.lines ?? new CallLines(deps.call.useCase);
  return llm.tool({
    name: 'end_call',
    description: 'End the call after the caller says they are done. Say nothing before calling it.',
    execute: async (_args, { ctx }) => {
      ctx.disallowInterruptions();
      await lines.say(ctx.session, 'goodbye', { allowInterruptions: false }).waitForPlayout();
      const ended = await hangUpCall(deps, HangupReason.enum.caller_done);
      return !deps.control && ended === 'left'
        ? outcome(ToolOutcome.devRoom, 'Left the dev room.')
        : outcome(ToolOutcome.hangupStarted, 'The call is ending. Say nothing more.');
    },
  });
}
