// request_callback: a caller who does not want to wait is called back by a person. The number is
// never the model's to choose: the tool has no number parameter. It is the call's caller ID, or
// digits the caller keys in on their phone (ended by #), checked against the use case's callback
// rules (agent/callbacks/callback-number.ts), and read back for the caller to confirm; only then,
// called again with `confirm`, does the tool ask Connect to queue the callback
// (agent/callbacks/connect-callbacks.ts). The agent then says so, and the call ends.
import { llm, type voice } from '@livekit/agents';
import * as z from 'zod';
import type { Logger } from 'pino';
import { HangupReason } from '../../contracts/reasons.js';
import type { UseCase, UseCaseCallbacks } from '../../contracts/use-cases.js';
import type { CallContext } from '../call-context.js';
import type { CallControl } from '../call-control.js';
import {
  callbackNumberProblem,
  keyedNumber,
  lastFourSpoken,
} from '../callbacks/callback-number.js';
import type { CallbackQueuer } from '../callbacks/connect-callbacks.js';
import type { CallKeypad } from '../keypad.js';
import { teamWords } from '../queue-status/status.js';
import { hangUpCall } from './end-call.js';
import { outcome, sayOutcome, ToolOutcome } from './outcome.js';

/** How every confirmation question starts (the dialogue engine knows a yes to it by this). */
export const CALLBACK_CONFIRM_START = 'I can have someone call you back at the number ending in';
const KEY_IN = 'To use another number, key it in now and press the pound key.';
const NO_CALLER_ID =
  "I can't call back the number you're calling from. Please key in the number to call, then press the pound key.";
const KEYED_REFUSED =
  "I'm sorry, I can't call that number back. Please key in another number, then press the pound key.";
const FAILED =
  "I'm sorry, I couldn't set up the callback right now. Would you like to hold for a person instead?";
/** Digits of a number keyed in, at most (E.164: 15, with 011 or * before). */
const MAX_KEYED = 18;

export interface CallbackToolDeps {
  call: CallContext;
  control: CallControl | undefined;
  logger: Logger;
  callbacks: CallbackQueuer;
  /** The caller's keypad: a number keyed in while the tool waits for one. */
  keypad?: CallKeypad;
  leave: () => Promise<void> | void;
  now?: () => number;
}

/** One call's callback: the number to confirm, where it came from, and whether it was queued. */
interface CallbackState {
  queue: string;
  pending?: { number: string; from: 'caller_id' | 'keypad' };
  /** Digits keyed so far, while a number is awaited. */
  keyed: string;
  awaitingDigits: boolean;
  queued: boolean;
  session?: voice.AgentSession;
}

export function confirmSentence(number: string): string {
  return `${CALLBACK_CONFIRM_START} ${lastFourSpoken(number)}. Is that right? ${KEY_IN}`;
}

export function requestCallbackTool(deps: CallbackToolDeps) {
  const { useCase } = deps.call;
  const policy = useCase.callbacks!;
  const state: CallbackState = {
    queue: useCase.defaultQueue,
    keyed: '',
    awaitingDigits: false,
    queued: false,
  };
  deps.keypad?.capture((digit) => keyedDigit(deps, policy, state, digit));
  return llm.tool({
    name: 'request_callback',
    description:
      'Offer or set up a callback for a caller who does not want to wait for a person. Call it ' +
      'without confirm first: it answers with a sentence to say that reads the number back. ' +
      'When the caller confirms that number, call it again with confirm true. Never pass a number.',
    parameters: z.object({
      queue: z
        .string()
        .optional()
        .describe(`The queue the caller asked for: ${Object.keys(useCase.queues).join(', ')}`),
      confirm: z.boolean().optional().describe('true only once the caller confirmed the number'),
    }),
    execute: async ({ queue, confirm }, { ctx }) => {
      state.session = ctx.session;
      if (queue && Object.hasOwn(useCase.queues, queue)) state.queue = queue;
      if (state.queued)
        return outcome(ToolOutcome.callbackQueued, 'Already queued. Say nothing more.');
      if (!confirm || !state.pending) return await ask(deps, policy, state);
      ctx.disallowInterruptions();
      return queueCallback(deps, policy, state, ctx.session);
    },
  });
}

/** Reads the number back for the caller to confirm, or asks for one to be keyed in. */
async function ask(
  deps: CallbackToolDeps,
  policy: UseCaseCallbacks,
  state: CallbackState,
): Promise<string> {
  state.awaitingDigits = true;
  if (!state.pending) {
    const tx = deps.call.sma?.transactionId;
    const callerId =
      deps.call.callerNumber ?? (tx ? await deps.callbacks.callerNumber?.(tx) : undefined);
    const problem = callerId ? callbackNumberProblem(callerId, policy) : 'no_caller_id';
    if (callerId && !problem) state.pending = { number: callerId, from: 'caller_id' };
    else deps.logger.info({ tool: 'request_callback', reason: problem }, 'caller ID not offered');
  }
  const then = 'If the caller says yes, call request_callback with confirm true.';
  if (!state.pending) return sayOutcome(ToolOutcome.callbackRefused, state.queue, NO_CALLER_ID, '');
  return sayOutcome(
    ToolOutcome.callbackConfirm,
    state.queue,
    confirmSentence(state.pending.number),
    then,
  );
}

/** A digit while the tool waits for a number: kept until #, then checked and read back. */
function keyedDigit(
  deps: CallbackToolDeps,
  policy: UseCaseCallbacks,
  state: CallbackState,
  digit: string,
): boolean {
  if (!state.awaitingDigits || state.queued) return false;
  if (digit !== '#') {
    if (/^[0-9*]$/.test(digit) && state.keyed.length < MAX_KEYED) state.keyed += digit;
    return true;
  }
  const number = keyedNumber(state.keyed, policy);
  state.keyed = '';
  const problem = number === undefined ? 'not_e164' : callbackNumberProblem(number, policy);
  const log = deps.logger.child({ tool: 'request_callback' });
  if (problem || number === undefined) {
    log.info({ reason: problem, pii: { number } }, 'keyed callback number refused');
    state.session?.say(KEYED_REFUSED);
    return true;
  }
  state.pending = { number, from: 'keypad' };
  log.info({ pii: { number } }, 'callback number keyed in');
  state.session?.say(confirmSentence(number));
  return true;
}

async function queueCallback(
  deps: CallbackToolDeps,
  policy: UseCaseCallbacks,
  state: CallbackState,
  session: voice.AgentSession,
): Promise<string> {
  const log = deps.logger.child({ tool: 'request_callback' });
  const pending = state.pending!;
  const tx = deps.call.sma?.transactionId;
  if (!tx) {
    return outcome(
      ToolOutcome.devRoom,
      'This is a dev room, not a phone call: no callback was queued.',
    );
  }
  // Checked again: whatever set the number, nothing but a number the rules allow is called.
  const problem = callbackNumberProblem(pending.number, policy);
  if (problem) {
    state.pending = undefined;
    log.warn({ reason: problem }, 'callback refused');
    return sayOutcome(ToolOutcome.callbackRefused, state.queue, KEYED_REFUSED, '');
  }
  try {
    const contactId = await deps.callbacks.queue({
      policy,
      transactionId: tx,
      number: pending.number,
      numberFrom: pending.from,
      queue: state.queue,
      attributes: callbackAttributes(deps.call, state.queue),
    });
    state.queued = true;
    state.awaitingDigits = false;
    log.info(
      { contactId, queue: state.queue, numberFrom: pending.from, pii: { number: pending.number } },
      'callback queued',
    );
  } catch (err) {
    log.error({ err, reason: 'callback_failed' }, 'callback not queued');
    return sayOutcome(
      ToolOutcome.callbackFailed,
      state.queue,
      FAILED,
      'If the caller holds, call transfer_to_human with hold true.',
    );
  }
  await session
    .say(queuedSentence(deps.call.useCase, state.queue), { allowInterruptions: false })
    .waitForPlayout();
  await hangUpCall(deps, HangupReason.enum.caller_done);
  return outcome(
    ToolOutcome.callbackQueued,
    'The callback is queued and the call is ending. Say nothing more.',
  );
}

export function queuedSentence(useCase: UseCase, queue: string): string {
  const who = teamWords(useCase.queues[queue]?.description);
  return `Thank you. Someone from ${who} will call you back at that number. Goodbye!`;
}

/** What Connect's flow and the person get: the call's ids and use case; no transcript, no number. */
function callbackAttributes(call: CallContext, queue: string): Record<string, string> {
  return {
    callbridgeTransactionId: call.sma?.transactionId ?? '',
    callbridgeUseCase: call.useCase.id,
    callbridgeQueue: queue,
  };
}
