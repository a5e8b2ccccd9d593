// transfer_to_human: says the hand-off line, then asks the SMA (UpdateSipMediaApplicationCall)
// to bridge the caller to one of the use case's queues. Only queue keys of the use case are
// accepted; the SMA handler checks again and maps keys to numbers itself. Before the hand-off, a
// queue that names its Connect queue is checked (agent/queue-status/): when the wait is long or the
// team is closed, the tool transfers nothing and gives the agent the sentence to say instead, with
// the caller's choices (hold, a callback, a message where the use case takes one); a caller who chose to hold is transferred at once. When
// the status cannot be had within QUEUE_CHECK_WAIT_MS the caller is transferred as before.
import { llm } from '@livekit/agents';
import * as z from 'zod';
import type { Logger } from 'pino';
import { queueKey } from '../../contracts/ids.js';
import { AgentTransferReason } from '../../contracts/reasons.js';
import type { UseCase } from '../../contracts/use-cases.js';
import type { CallContext } from '../call-context.js';
import { handoffSummaryOf, transcriptOf, type SaidItem } from '../call-memory.js';
import { matchFaq } from '../dialogue/engine.js';
import { HANDOFF_TOPIC_MAX, type CallerVerification } from '../../contracts/handoff-context.js';
import type { CallControl } from '../call-control.js';
import { CallLines } from '../greeting-cache.js';
import { connectQueueOf, connectQueuesOf, type QueueStatusLookup } from '../queue-status/index.js';
import { adviceSentence, adviseTransfer, type QueueAdvice } from '../queue-status/status.js';
import { offersMessage } from './leave-message.js';
import { outcome, sayOutcome, ToolOutcome } from './outcome.js';

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
  /** The worker's queue status (agent/queue-status/); undefined: transfers are not checked. */
  queues?: QueueStatusLookup;
}

/**
 * How long the tool waits for a queue's status. The worker keeps the call's queues fresh from the
 * call's start, so the answer normally comes from memory in a few milliseconds; this bounds what a
 * cold cache or a slow Connect can add before the caller is transferred without the check.
 */
export const QUEUE_CHECK_WAIT_MS = 300;

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
    hold: z
      .boolean()
      .optional()
      .describe('true only when the caller, told the wait, chose to hold for a person'),
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
  // The call's queues are kept fresh from now on: a caller asking for a person gets figures at once.
  deps.queues?.watch(connectQueuesOf(useCase));
  return llm.tool({
    name: 'transfer_to_human',
    description:
      `Transfer the caller to a person when they ask for one or when you cannot help. ` +
      `queue must be one of: ${queues}. Never pass a phone number. When it answers queue_busy ` +
      `or queue_closed, say its sentence and wait for the caller's choice.`,
    parameters: transferParameters(useCase),
    execute: async ({ queue, reason, hold }, { ctx }) => {
      const log = deps.logger.child({ tool: 'transfer_to_human' });
      if (!isUseCaseQueue(useCase, queue)) {
        log.warn({ reason: 'unknown_queue' }, 'transfer refused');
        return outcome(
          ToolOutcome.transferRefused,
          `That is not a queue; valid queues: ${queues}.`,
        );
      }
      if (!hold) {
        const advised = await checkQueue(deps, queue);
        if (advised) return advised;
      }
      if (!deps.control) {
        return outcome(
          ToolOutcome.devRoom,
          'This is a dev room, not a phone call: no transfer was made.',
        );
      }
      ctx.disallowInterruptions();
      // What the person is told is what was said before the hand-off line.
      const context = handoffContextOf(deps.call, ctx.session.history.items);
      await lines.say(ctx.session, 'handoff', { allowInterruptions: false }).waitForPlayout();
      return requestTransfer(deps, deps.control, queue, reason, context);
    },
  });
}

/**
 * What the caller is told instead of a transfer when the queue is busy or closed, or undefined to
 * transfer now (someone is free, the wait is short, or the status is unknown).
 */
async function checkQueue(deps: TransferToolDeps, queue: string): Promise<string | undefined> {
  const { useCase } = deps.call;
  const ref = connectQueueOf(useCase, queue);
  if (!ref || !deps.queues) return undefined;
  const now = deps.now ?? Date.now;
  const started = now();
  const status = await deps.queues.status(ref, QUEUE_CHECK_WAIT_MS);
  const advice = adviseTransfer(status);
  deps.logger.info(
    {
      tool: 'transfer_to_human',
      queue,
      advice: advice.kind === 'transfer' ? `transfer_${advice.why}` : advice.kind,
      checkMs: now() - started,
      agentsAvailable: status?.agentsAvailable,
      contactsInQueue: status?.contactsInQueue,
      waitS: advice.kind === 'wait' ? advice.waitS : undefined,
      open: status?.open,
    },
    'queue checked',
  );
  if (advice.kind === 'transfer') return undefined;
  return queueOutcome(advice, queue, useCase);
}

function queueOutcome(
  advice: Extract<QueueAdvice, { kind: 'wait' | 'closed' }>,
  queue: string,
  useCase: UseCase,
): string {
  const options = { callback: useCase.callbacks !== undefined, message: offersMessage(useCase) };
  const sentence = adviceSentence(advice, useCase.queues[queue]?.description, options);
  const then = [
    advice.kind === 'wait' ? 'If the caller holds, call transfer_to_human with hold true.' : '',
    options.callback ? 'If the caller wants a call back, call request_callback.' : '',
    options.message ? 'If the caller wants to leave a message, call leave_message.' : '',
  ]
    .filter(Boolean)
    .join(' ');
  const code = advice.kind === 'wait' ? ToolOutcome.queueBusy : ToolOutcome.queueClosed;
  return sayOutcome(code, queue, sentence, then);
}

/** What the person who answers is told (contracts/handoff-context.ts); personal data. */
export interface TransferContext {
  summary: string;
  /** The frequent question the caller's words match, if any. */
  topic?: string;
  verification: CallerVerification;
}

/**
 * The context of a transfer, from the session's history: a summary made without a model, and
 * whether the caller's number was checked (a use case that admits only verified or allow-listed
 * numbers let this caller reach the agent).
 */
export function handoffContextOf(call: CallContext, history: readonly SaidItem[]): TransferContext {
  const { useCase } = call;
  const transcript = transcriptOf(history);
  const said = transcript.filter((l) => l.role === 'caller').map((l) => l.text);
  const topic = said.length > 0 ? matchFaq(useCase, said.join(' '))?.question : undefined;
  return {
    summary: handoffSummaryOf(transcript, topic),
    topic: topic?.slice(0, HANDOFF_TOPIC_MAX),
    verification: useCase.access.mode === 'open' ? 'unverified' : 'verified',
  };
}

/** Asks the SMA for the transfer; what the model is told comes back. */
export async function requestTransfer(
  deps: TransferToolDeps,
  control: CallControl,
  queue: string,
  reason: AgentTransferReason,
  context?: TransferContext,
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
      ...context,
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
