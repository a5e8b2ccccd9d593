// The agent's fixed lines: what it says the same way on every call of a use case. Each is
// rendered ahead of the call (agent/greeting-cache.ts) and plays from memory, with no TTS round
// trip; the trouble line has to, since it is said when a speech provider (perhaps the TTS) failed.
// The use case sets its greeting; the other lines are the same for every use case. None says a
// number or anything about the caller: they are rendered once for every call.
import type { UseCase } from '../contracts/use-cases.js';

export const SHARED_LINES = {
  /** Said before the agent asks the SMA to bridge the caller to a person. */
  handoff: 'Sure. Let me connect you with a member of our team. Please hold.',
  /** Said on the first unrecoverable speech-provider failure of a call. */
  trouble: "Sorry, I'm having a little trouble. One moment please.",
  /** Said before the agent asks the SMA to end the call (also at the use case's longest call). */
  goodbye: 'Thank you for calling. Goodbye!',
  /** Said before the agent asks the SMA to take the caller's message (agent/tools/leave-message.ts). */
  message: "Sure. I'll put you through to leave a message.",
  /** Said when the caller has been silent a while (agent/call-limits.ts). */
  checkIn: "Are you still there? I'm here whenever you're ready.",
  /** Said before the agent ends a call whose caller stayed silent through its check-ins. */
  silentGoodbye:
    "I haven't heard from you, so I'll end the call now. Please call again any time. Goodbye!",
  /**
   * Said before a call the worker's speech set cannot hold goes to a person (agent/unserved.ts):
   * a language the offline recognizer does not hear, or a use case that needs cloud speech.
   */
  notServed:
    "Sorry, I can't take this call in your language right now. Let me connect you with a member of our team. Please hold.",
  /** Said once, a minute before the use case's longest call; the answer goes to the dialogue. */
  timeOffer:
    "We're almost out of time on this call. Would you like me to connect you with someone?",
} as const;

export type LineName = 'greeting' | keyof typeof SHARED_LINES;

export type FixedLines = Readonly<Record<LineName, string>>;

/** A use case's fixed lines, by name: its own words (`lines`) where it sets them. */
export function fixedLines(useCase: UseCase): FixedLines {
  const own = Object.entries(useCase.lines ?? {}).filter(([, text]) => text !== undefined);
  return { greeting: useCase.greeting, ...SHARED_LINES, ...Object.fromEntries(own) };
}

/** Every fixed line of a use case, the greeting first (the order they are rendered in). */
export function fixedLineTexts(useCase: UseCase): string[] {
  return [...new Set(Object.values(fixedLines(useCase)))];
}
