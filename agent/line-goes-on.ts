// A caller who pauses inside a sentence ("My trash was not picked up … this week") can have the turn
// end in the pause: the reply starts, the caller, still saying their line, speaks over it, and the
// framework stops the reply and takes the rest as a turn of its own. Read alone, the rest means
// nothing ("this week"): the dialogue engine, which answers the caller's last line, would say it
// did not catch that. Speech the agent hears this soon after its reply starts cannot be an answer to
// it: on a phone line the reply takes about 0.2 s to reach the caller's ear, a person takes about
// 0.2 s more to begin answering what they hear, and the answer about 0.15 s to reach the agent's
// VAD. So the caller's line goes on: the cut-off reply leaves the conversation and the two parts
// are one line, for the model that answers it (the engine or a cloud LLM) and for the call's
// history, which the handoff's transcript and the caller's memory read
// (docs/decisions/turn-timing.md, "A line that goes on after the turn ended").
import { llm, voice } from '@livekit/agents';

/** Caller speech heard within this long of the reply's first frame goes on with the caller's line. */
export const GOES_ON_WITHIN_MS = 400;

/** The caller's earlier line that the new one goes on with, and the reply cut off between them. */
export interface GoneOn {
  head: llm.ChatMessage;
  cutOff: llm.ChatMessage;
}

/**
 * Whether the conversation so far (`items`, before the caller's new line) ends with a reply the
 * caller cut off by going on with their line: the caller's line, then the agent's reply,
 * interrupted, with the caller's speech heard within {@link GOES_ON_WITHIN_MS} of its start
 * (`spokeAfterMs`: undefined when the caller did not speak during it). A tool the reply ran, or a
 * reply heard out, keeps the lines apart.
 */
export function lineGoneOn(
  items: readonly llm.ChatItem[],
  spokeAfterMs: number | undefined,
): GoneOn | undefined {
  if (spokeAfterMs === undefined || spokeAfterMs >= GOES_ON_WITHIN_MS) return undefined;
  const [head, cutOff] = items.slice(-2);
  if (head?.type !== 'message' || head.role !== 'user') return undefined;
  if (cutOff?.type !== 'message' || cutOff.role !== 'assistant' || !cutOff.interrupted)
    return undefined;
  return { head, cutOff };
}

/** When the caller first spoke during the agent's latest reply, from the session's states. */
class ReplyOverlap {
  private replyStartedAt: number | undefined;
  private callerSpokeAt: number | undefined;

  constructor(session: voice.AgentSession) {
    session.on(voice.AgentSessionEventTypes.AgentStateChanged, (ev) => {
      if (ev.newState !== 'speaking') return;
      this.replyStartedAt = ev.createdAt;
      this.callerSpokeAt = undefined;
    });
    session.on(voice.AgentSessionEventTypes.UserStateChanged, (ev) => {
      if (ev.newState === 'speaking' && this.replyStartedAt !== undefined)
        this.callerSpokeAt ??= ev.createdAt;
    });
  }

  /** From the latest reply's first frame to the caller's first speech heard after it. */
  get spokeAfterMs(): number | undefined {
    if (this.replyStartedAt === undefined || this.callerSpokeAt === undefined) return undefined;
    return this.callerSpokeAt - this.replyStartedAt;
  }
}

const overlaps = new WeakMap<voice.AgentSession, ReplyOverlap>();

/** Starts following `session`'s replies and the caller's speech during them (once a session). */
export function followReplies(session: voice.AgentSession): void {
  if (!overlaps.has(session)) overlaps.set(session, new ReplyOverlap(session));
}

/** The caller's whole line: `text` after the line it goes on with. */
function wholeLine(gone: GoneOn, text: string): string {
  return `${gone.head.textContent ?? ''} ${text}`.trim();
}

/**
 * The caller's turn in progress (`transcript`) as it will be answered: after the session's history,
 * or, when it goes on with the line before, that line joined to it after the history without the
 * two (the turn's end judges it so, agent/turn-end.ts).
 */
export function turnSoFar(
  session: voice.AgentSession,
  transcript: string,
): { history: llm.ChatContext; line: string } {
  const gone = lineGoneOn(session.history.items, overlaps.get(session)?.spokeAfterMs);
  if (!gone) return { history: session.history, line: transcript };
  const before = session.history.items.filter((i) => i !== gone.head && i !== gone.cutOff);
  return { history: new llm.ChatContext(before), line: wholeLine(gone, transcript) };
}

/**
 * Called with the caller's new line before it is answered (the agent's `onUserTurnCompleted`): when
 * it goes on with the line before it, the new line becomes the whole one and the earlier line and
 * the cut-off reply leave `turnCtx` (what the model answers) and the session's history. Returns
 * whether it did.
 */
export function joinLineGoneOn(
  session: voice.AgentSession,
  turnCtx: llm.ChatContext,
  newMessage: llm.ChatMessage,
): boolean {
  const gone = lineGoneOn(turnCtx.items, overlaps.get(session)?.spokeAfterMs);
  if (!gone) return false;
  newMessage.content = [wholeLine(gone, newMessage.textContent ?? '')];
  for (const item of [gone.cutOff, gone.head]) {
    turnCtx.remove(item.id);
    if (session.history.getById(item.id)) session.history.remove(item.id);
  }
  return true;
}
