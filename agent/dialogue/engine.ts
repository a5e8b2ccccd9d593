// The local dialogue engine: a small rule-based stand-in for the LLM when no cloud model is
// configured. It reads the use case (frequent questions, queues) and the conversation so far, and
// answers with a line to say or a tool call. It decides, in order:
//   1. a tool result just came back -> say what it means for the caller (or nothing);
//   2. an emergency                 -> tell the caller to hang up and dial 911;
//   3. the caller asks for a person -> transfer_to_human(queue named or default, caller_asked);
//   4. the caller is done           -> end_call;
//   5. a frequent question matches  -> its answer (keywords, most matches wins);
//   6. a yes after we offered a person -> transfer_to_human;
//   7. nothing understood           -> ask again; the second time in a row, transfer (not_understood).
// Before 3: the caller asks to be forgotten -> forget_me; says their name -> remember_name.
// After 3: the caller asks to speak another language -> switch_language with the use case's tag
// for it, or, when the use case offers none, say so and offer a person (./language-request.ts).
// After 2: the caller answers the agent's offer when the queue was busy or closed (hold, a
// callback, a message: ./queue-offer.ts). An offer stays open while the agent asks the caller to
// say something again (not understood, a check-in), as a person on the phone would keep it.
import type { AgentTransferReason } from '../../contracts/reasons.js';
import type { UseCase } from '../../contracts/use-cases.js';
import { fixedLines, SHARED_LINES } from '../lines.js';
import { saidOutcome, ToolOutcome } from '../tools/outcome.js';
import { answerToOffer, isYes } from './queue-offer.js';
import { askedLanguage, offeredTag } from './language-request.js';

export interface Turn {
  role: 'user' | 'assistant' | 'tool';
  text: string;
}

export type Reply =
  | { kind: 'say'; text: string }
  | {
      kind: 'tool';
      name: 'transfer_to_human';
      args: { queue: string; reason: AgentTransferReason; hold?: boolean };
    }
  | { kind: 'tool'; name: 'request_callback'; args: { queue?: string; confirm?: boolean } }
  | { kind: 'tool'; name: 'leave_message'; args: Record<string, never> }
  | { kind: 'tool'; name: 'end_call'; args: Record<string, never> }
  | { kind: 'tool'; name: 'forget_me'; args: Record<string, never> }
  | { kind: 'tool'; name: 'remember_name'; args: { name: string } }
  | { kind: 'tool'; name: 'switch_language'; args: { language: string } }
  | { kind: 'silent' };

export const Lines = {
  notUnderstood: "Sorry, I didn't catch that. Could you say it another way?",
  anythingElse: 'Is there anything else I can help you with?',
  emergency: 'If this is an emergency, please hang up and dial 9 1 1 now.',
  transferFailed:
    "I'm sorry, I couldn't reach anyone on the team right now. I can keep helping you here. What else can I do for you?",
  transferRefused:
    "I'm sorry, I can't transfer you there. Would you like me to connect you with our team instead?",
  messageFailed:
    "I'm sorry, I couldn't take a message right now. I can keep helping you here. What else can I do for you?",
  devRoom:
    'Transfers and hang-ups only work on a phone call. This is a test room, so I will stay with you here.',
  nameRemembered: "Thank you, I'll remember that. How can I help you today?",
  forgotten:
    "Done. I've deleted what I remembered about you. Is there anything else I can help you with?",
  notForgotten:
    "I'm sorry, I couldn't delete that right now. Would you like me to connect you with someone?",
  languageUnavailable:
    "Sorry, I can't speak that language on this line. Would you like me to connect you with someone?",
} as const;

/** The agent's lines that offer a person: a yes to one is a yes to a transfer. */
const PERSON_OFFERS: readonly string[] = [
  Lines.transferRefused,
  SHARED_LINES.timeOffer,
  Lines.notForgotten,
  Lines.languageUnavailable,
];

const PERSON =
  /\b(person|human|agent|representative|operator|somebody|someone|staff|real people|live (?:person|agent)|talk to|speak (?:to|with))\b/;
const DONE =
  /\b(bye|goodbye|that'?s all|that is all|that'?s it|nothing else|no thanks|no thank you|i'?m done|all set)\b/;
const EMERGENCY = /\b(emergency|fire|ambulance|bleeding|9 ?1 ?1|nine one one)\b/;
const FORGET =
  /\b(forget (about )?me|forget my|delete (my|all my) (information|info|data|details|profile|name|number))\b/;
const NAME = /\b(?:my name is|my name's|call me)\s+([a-z][a-z'-]{0,30})/;
/** What follows "call me" when it is not a name: "call me back", "call me later", "call me at…". */
const NOT_A_NAME =
  /^(back|later|again|tomorrow|today|tonight|soon|now|please|anytime|sometime|asap|instead|first|when|if|at|on|in|after|before|around|about|the|a|an|it|that|this|there|here|up|over|right|as|so|and|or|but|maybe|then)$/;

export function normalise(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9' ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function hasPhrase(text: string, phrase: string): boolean {
  const p = normalise(phrase);
  return (
    p.length > 0 && new RegExp(`(^| )${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( |$)`).test(text)
  );
}

/** The frequent question the caller most likely asked, if any keyword matches. */
export function matchFaq(useCase: UseCase, text: string): UseCase['faq'][number] | undefined {
  let best: UseCase['faq'][number] | undefined;
  let bestScore = 0;
  for (const entry of useCase.faq) {
    const score = entry.keywords.filter((k) => hasPhrase(text, k)).length;
    if (score > bestScore) [best, bestScore] = [entry, score];
  }
  return best;
}

/** A queue the caller named (its key or a word of its description), else the default. */
export function pickQueue(useCase: UseCase, text: string): string {
  for (const [key, q] of Object.entries(useCase.queues)) {
    const words = [key, ...(q.description ?? '').split(/\s+/).filter((w) => w.length > 4)];
    if (key !== useCase.defaultQueue && words.some((w) => hasPhrase(text, w))) return key;
  }
  return useCase.defaultQueue;
}

/** The framework JSON-encodes a tool's return value in the chat context ('"transfer_failed: …"'). */
export function toolText(output: string): string {
  if (!output.startsWith('"')) return output;
  try {
    const v: unknown = JSON.parse(output);
    return typeof v === 'string' ? v : output;
  } catch {
    return output;
  }
}

function afterTool(raw: string): Reply {
  const output = toolText(raw);
  if (output.startsWith(ToolOutcome.transferFailed))
    return { kind: 'say', text: Lines.transferFailed };
  if (output.startsWith(ToolOutcome.transferRefused))
    return { kind: 'say', text: Lines.transferRefused };
  if (output.startsWith(ToolOutcome.messageFailed))
    return { kind: 'say', text: Lines.messageFailed };
  if (output.startsWith(ToolOutcome.devRoom)) return { kind: 'say', text: Lines.devRoom };
  // A busy or closed queue, a callback: the tool wrote the sentence (agent/tools/outcome.ts).
  const said = saidOutcome(output);
  if (said) return { kind: 'say', text: said.sentence };
  if (output.startsWith(ToolOutcome.nameRemembered))
    return { kind: 'say', text: Lines.nameRemembered };
  if (output.startsWith(ToolOutcome.forgotten)) return { kind: 'say', text: Lines.forgotten };
  if (output.startsWith(ToolOutcome.notForgotten)) return { kind: 'say', text: Lines.notForgotten };
  if (
    output.startsWith(ToolOutcome.languageRefused) ||
    output.startsWith(ToolOutcome.languageUnavailable)
  )
    return { kind: 'say', text: Lines.languageUnavailable };
  if (output.startsWith(ToolOutcome.languageCurrent))
    return { kind: 'say', text: Lines.anythingElse };
  return { kind: 'silent' };
}

/** How many times in a row, just before now, the agent said it did not understand. */
function misunderstandings(history: Turn[]): number {
  let n = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    const t = history[i]!;
    if (t.role !== 'assistant') continue;
    if (t.text !== Lines.notUnderstood) break;
    n += 1;
  }
  return n;
}

/** The agent's lines that ask the caller to say something again, rather than move on. */
function reprompts(useCase: UseCase): ReadonlySet<string> {
  return new Set([Lines.notUnderstood, fixedLines(useCase).checkIn, SHARED_LINES.checkIn]);
}

/**
 * The conversation without the agent's re-prompts and the caller's line each one answered: what
 * the agent offered before "Sorry, I didn't catch that" is still what the caller is answering.
 */
export function withoutReprompts(history: Turn[], asks: ReadonlySet<string>): Turn[] {
  const kept: Turn[] = [];
  let dropCallerLine = false;
  for (let i = history.length - 1; i >= 0; i--) {
    const t = history[i]!;
    if (t.role === 'assistant' && asks.has(t.text)) {
      dropCallerLine = true;
      continue;
    }
    if (t.role === 'user' && dropCallerLine) {
      dropCallerLine = false;
      continue;
    }
    dropCallerLine = false;
    kept.push(t);
  }
  return kept.reverse();
}

function lastAssistant(history: Turn[]): string | undefined {
  for (let i = history.length - 1; i >= 0; i--)
    if (history[i]!.role === 'assistant') return history[i]!.text;
  return undefined;
}

function transfer(queue: string, reason: AgentTransferReason): Reply {
  return { kind: 'tool', name: 'transfer_to_human', args: { queue, reason } };
}

/** A request to speak another language: switch to the use case's tag for it, or say it cannot. */
function languageRequest(useCase: UseCase, text: string): Reply | undefined {
  const asked = askedLanguage(text);
  if (!asked) return undefined;
  const tag = offeredTag(useCase, asked);
  if (tag) return { kind: 'tool', name: 'switch_language', args: { language: tag } };
  // Asking for the line's own language changes nothing: the words go on to the other rules.
  if (asked === useCase.language.toLowerCase().split('-')[0]) return undefined;
  return { kind: 'say', text: Lines.languageUnavailable };
}

export function nextReply(useCase: UseCase, history: Turn[]): Reply {
  const last = history[history.length - 1];
  if (!last) return { kind: 'silent' };
  if (last.role === 'tool') return afterTool(last.text);
  if (last.role !== 'user') return { kind: 'silent' };
  const text = normalise(last.text);
  const earlier = history.slice(0, -1);
  if (EMERGENCY.test(text)) return { kind: 'say', text: Lines.emergency };
  // An offer stays open while the caller is asked again ("didn't catch that", a check-in).
  const asked = withoutReprompts(earlier, reprompts(useCase));
  const answer = answerToOffer(useCase, asked, text, toolText);
  if (answer) return answer;
  if (FORGET.test(text)) return { kind: 'tool', name: 'forget_me', args: {} };
  const named = NAME.exec(text)?.[1];
  if (named && !NOT_A_NAME.test(named) && !PERSON.test(text)) {
    const name = named.charAt(0).toUpperCase() + named.slice(1);
    return { kind: 'tool', name: 'remember_name', args: { name } };
  }
  if (PERSON.test(text)) return transfer(pickQueue(useCase, text), 'caller_asked');
  const language = languageRequest(useCase, text);
  if (language) return language;
  if (DONE.test(text)) return { kind: 'tool', name: 'end_call', args: {} };
  const faq = matchFaq(useCase, text);
  if (faq) return { kind: 'say', text: `${faq.answer} ${Lines.anythingElse}` };
  if (isYes(text) && PERSON_OFFERS.includes(lastAssistant(asked) ?? '')) {
    return transfer(useCase.defaultQueue, 'caller_asked');
  }
  if (misunderstandings(earlier) >= 1) return transfer(useCase.defaultQueue, 'not_understood');
  return { kind: 'say', text: Lines.notUnderstood };
}
