// The local dialogue engine's part in a busy or closed queue: after the agent said the wait (or
// that the team is closed) and offered the choices, the caller's answer picks one. Hold: the
// transfer is asked for again with `hold`. A callback: request_callback, which only ever calls the
// caller back at their own number or one they key in, after they confirm it. Anything else goes
// on through the engine's usual rules. A message (where the use case takes one): leave_message,
// which has no arguments; the SMA records the caller as when no person answers.
import type { UseCase } from '../../contracts/use-cases.js';
import { saidOutcome, ToolOutcome } from '../tools/outcome.js';
import { CALLBACK_CONFIRM_START } from '../tools/request-callback.js';
import type { Reply, Turn } from './engine.js';

const HOLD = /\b(hold|wait|i'?ll wait|stay on|keep me on)\b/;
const CALLBACK = /\b(call ?back|call me|ring me|phone me|callback)\b/;
/** A message at the offer: "leave a message", "I'll leave a voicemail", "voice mail please". */
const MESSAGE = /\b(message|voice ?mail)\b/;
const YES = /^(yes|yeah|yep|sure|please|ok|okay|correct|that'?s right|right)\b/;

/** The agent's last line since the caller last spoke. */
function lastSaid(history: Turn[]): string | undefined {
  for (let i = history.length - 1; i >= 0; i--) {
    if (history[i]!.role === 'user') return undefined;
    if (history[i]!.role === 'assistant') return history[i]!.text;
  }
  return undefined;
}

/** The agent's last line, if it was the sentence of a queue or callback outcome just before. */
function lastOffer(history: Turn[]): { code: string; queue: string } | undefined {
  let said: string | undefined;
  for (let i = history.length - 1; i >= 0; i--) {
    const t = history[i]!;
    if (t.role === 'user') return undefined;
    if (t.role === 'assistant') said ??= t.text;
    if (t.role === 'tool') {
      const o = saidOutcome(t.text);
      return o && said === o.sentence ? o : undefined;
    }
  }
  return undefined;
}

/** The caller's answer to a queue offer or a callback confirmation, or undefined if it is none. */
export function answerToOffer(
  useCase: UseCase,
  earlier: Turn[],
  text: string,
  toolText: (raw: string) => string,
): Reply | undefined {
  const callbacks = useCase.callbacks !== undefined;
  // The number read back (by the tool, or after digits were keyed in): a yes confirms it.
  if (callbacks && lastSaid(earlier)?.startsWith(CALLBACK_CONFIRM_START)) {
    if (YES.test(text)) return { kind: 'tool', name: 'request_callback', args: { confirm: true } };
    return undefined;
  }
  const offer = lastOffer(
    earlier.map((t) => (t.role === 'tool' ? { ...t, text: toolText(t.text) } : t)),
  );
  if (!offer) return undefined;
  if (callbacks && CALLBACK.test(text)) {
    return { kind: 'tool', name: 'request_callback', args: { queue: offer.queue } };
  }
  // The use case takes messages (agent/tools/leave-message.ts offers the tool where it does).
  if (useCase.voicemail?.enabled === true && MESSAGE.test(text)) {
    return { kind: 'tool', name: 'leave_message', args: {} };
  }
  const holdOffered =
    offer.code === ToolOutcome.queueBusy || offer.code === ToolOutcome.callbackFailed;
  if (holdOffered && (HOLD.test(text) || YES.test(text))) {
    return {
      kind: 'tool',
      name: 'transfer_to_human',
      args: { queue: offer.queue, reason: 'caller_asked', hold: true },
    };
  }
  return undefined;
}
