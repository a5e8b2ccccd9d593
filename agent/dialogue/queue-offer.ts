// The local dialogue engine's part in a busy or closed queue: after the agent said the wait (or
// that the team is closed) and offered the choices, the caller's answer picks one. Hold: the
// transfer is asked for again with `hold`. A callback: request_callback, which only ever calls the
// caller back at their own number or one they key in, after they confirm it. Anything else goes
// on through the engine's usual rules. A message (where the use case takes one): leave_message,
// which has no arguments; the SMA records the caller as when no person answers.
import type { UseCase } from '../../contracts/use-cases.js';
import { saidOutcome, ToolOutcome } from '../tools/outcome.js';
import { offersMessage } from '../tools/leave-message.js';
import { CALLBACK_CONFIRM_START } from '../tools/request-callback.js';
import type { Reply, Turn } from './engine.js';

const HOLD = /\b(hold|wait|i'?ll wait|stay on|keep me on)\b/;
/**
 * A callback at the offer: "call me back", "callback please", "get back to me", and any "… me
 * back" (a recognizer's "please crawl me back": at an offer of a callback nothing else is meant).
 */
const CALLBACK = /\b(call ?back|call me|ring me|phone me|callback|\w+ me back|back to me)\b/;
/** A message at the offer: "leave a message", "I'll leave a voicemail", "voice mail please". */
const MESSAGE = /\b(message|voice ?mail)\b/;
/**
 * A plain yes ("yes", "sure, please", "yes, that is right"): every word an agreeing one. A line
 * that goes on ("please all my bag", a misheard "please call me back") is not one: the agent asks
 * again and its offer stays open.
 */
export function isYes(text: string): boolean {
  const words = text.split(' ').filter((w) => w.length > 0);
  return words.length > 0 && YES_FIRST.has(words[0]!) && words.every((w) => YES_WORDS.has(w));
}
const YES_FIRST = new Set([
  'yes',
  'yeah',
  'yep',
  'yup',
  'sure',
  'please',
  'ok',
  'okay',
  'correct',
  'right',
  "that's",
  'that',
]);
const YES_WORDS = new Set([
  ...YES_FIRST,
  'is',
  'it',
  'thats',
  'fine',
  'thanks',
  'thank',
  'you',
  'absolutely',
  'of',
  'course',
  'go',
  'ahead',
  'do',
  'i',
  "i'd",
  'would',
  'like',
]);

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
    if (isYes(text)) return { kind: 'tool', name: 'request_callback', args: { confirm: true } };
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
  if (offersMessage(useCase) && MESSAGE.test(text)) {
    return { kind: 'tool', name: 'leave_message', args: {} };
  }
  const holdOffered =
    offer.code === ToolOutcome.queueBusy || offer.code === ToolOutcome.callbackFailed;
  if (holdOffered && (HOLD.test(text) || isYes(text))) {
    return {
      kind: 'tool',
      name: 'transfer_to_human',
      args: { queue: offer.queue, reason: 'caller_asked', hold: true },
    };
  }
  // A closed team with one thing offered ("Would you like to have someone call you back?"): a
  // plain yes takes it. With two offered, a yes says neither, and the caller is asked again.
  if (offer.code === ToolOutcome.queueClosed && isYes(text)) {
    const message = offersMessage(useCase);
    if (callbacks && !message) {
      return { kind: 'tool', name: 'request_callback', args: { queue: offer.queue } };
    }
    if (message && !callbacks) return { kind: 'tool', name: 'leave_message', args: {} };
  }
  return undefined;
}
