// What the agent knows about a queue of people before it hands a caller to them, and what it
// advises: transfer now, tell the wait first, or say the team is closed. Pure: the figures come from
// Connect through the worker's poller (./poller.ts), the sentence is said as it is written here.

/** A queue in Amazon Connect: the instance and the queue's id (from the use case's queue). */
export interface ConnectQueueRef {
  instanceId: string;
  queueId: string;
}

/** One queue's real-time figures (GetCurrentMetricData) and its hours of operation. */
export interface QueueStatus {
  agentsAvailable: number;
  contactsInQueue: number;
  /** How long the contact waiting longest has waited, in seconds (0 with nobody waiting). */
  oldestContactAgeS: number;
  /** Connect's own estimate, where the instance offers ESTIMATED_WAIT_TIME. */
  estimatedWaitS?: number;
  /** From the queue's hours of operation; undefined when they could not be read. */
  open: boolean | undefined;
  /** When the figures were read (ms since the epoch). */
  readAt: number;
}

export type QueueAdvice =
  | { kind: 'transfer'; why: 'available' | 'short_wait' | 'unknown' }
  | { kind: 'wait'; waitS: number | undefined }
  | { kind: 'closed' };

/** At most this long a wait, the caller is transferred without being asked. */
export const SHORT_WAIT_S = 60;

/**
 * The wait a caller can expect: Connect's estimate when it gives one, else how long the oldest
 * waiting contact has waited (a caller joining now waits at least about that long), else unknown.
 */
export function expectedWaitS(s: QueueStatus): number | undefined {
  if (s.estimatedWaitS !== undefined) return s.estimatedWaitS;
  if (s.contactsInQueue > 0) return s.oldestContactAgeS;
  return undefined;
}

/** What to do for a caller who asked for a person, given the queue's status (if any). */
export function adviseTransfer(status: QueueStatus | undefined): QueueAdvice {
  if (!status) return { kind: 'transfer', why: 'unknown' };
  if (status.open === false) return { kind: 'closed' };
  const waitS = expectedWaitS(status);
  if (status.agentsAvailable > 0 && status.contactsInQueue === 0) {
    return { kind: 'transfer', why: 'available' };
  }
  if (waitS !== undefined && waitS <= SHORT_WAIT_S) return { kind: 'transfer', why: 'short_wait' };
  return { kind: 'wait', waitS };
}

const SMALL = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty'];

/** 0-59 in words, as the agent's voice says them best. */
export function numberWords(n: number): string {
  if (n < 20) return SMALL[n]!;
  const t = TENS[Math.floor(n / 10)]!;
  return n % 10 === 0 ? t : `${t}-${SMALL[n % 10]}`;
}

/** "about four minutes", rounded up to the minute; an hour or more reads as "over an hour". */
export function waitWords(waitS: number): string {
  const minutes = Math.max(1, Math.ceil(waitS / 60));
  if (minutes >= 60) return 'over an hour';
  return `about ${numberWords(minutes)} minute${minutes === 1 ? '' : 's'}`;
}

/** Who the caller would reach: "the 311 customer service team", else "our team". */
export function teamWords(description: string | undefined): string {
  if (!description) return 'our team';
  const d = description.trim();
  return /^(the|a|an|our) /i.test(d) ? d : `the ${d}`;
}

/** What the caller may choose instead of waiting now. */
export interface QueueOptions {
  callback: boolean;
  message: boolean;
}

function choices(o: QueueOptions, hold: boolean): string {
  const parts = [
    ...(hold ? ['hold'] : []),
    ...(o.callback ? ['have someone call you back'] : []),
    ...(o.message ? ['leave a message'] : []),
  ];
  if (parts.length === 0) return '';
  if (parts.length === 1) return `Would you like to ${parts[0]}?`;
  return `Would you like to ${parts.slice(0, -1).join(', ')}, or ${parts.at(-1)}?`;
}

/** The sentence the agent says when the queue is busy or closed. */
export function adviceSentence(
  advice: Extract<QueueAdvice, { kind: 'wait' | 'closed' }>,
  team: string | undefined,
  options: QueueOptions,
): string {
  const who = teamWords(team);
  if (advice.kind === 'closed') {
    const offer = choices(options, false);
    return offer
      ? `${capitalise(who)} is closed right now. ${offer}`
      : `${capitalise(who)} is closed right now. Is there anything else I can help you with?`;
  }
  const when =
    advice.waitS === undefined
      ? `Everyone from ${who} is busy right now.`
      : `Someone from ${who} can take your call in ${waitWords(advice.waitS)}.`;
  return `${when} ${choices(options, true)}`;
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
