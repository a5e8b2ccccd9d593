// A caller who pauses inside a sentence ("My trash was not picked up … this week") can have the turn
// end in the pause: the reply starts, the caller, still saying their line, speaks over it, and the
// framework stops the reply and takes the rest as a turn of its own. Read alone, the rest means
// nothing ("this week"): the dialogue engine, which answers the caller's last line, would say it
// did not catch that. Speech the agent hears this soon after its reply starts cannot be an answer to
// it: on a phone line the reply takes about 0.2 s to reach the caller's ear, a person takes about
// 0.2 s more to begin answering what they hear, and the answer about 0.15 s to reach the agent's
// VAD. So the caller's line goes on: the cut-off reply leaves the conversation and the two parts
// are one line, for the model that answers it (the engine or a cloud LLM) and for the call's
// history, which the handoff's transcript and the caller's memory read; and the reply stops on the
// first 100 ms of that speech, not the framework's 500 ms, so the caller hears little of it over
// their own words (docs/decisions/turn-timing.md, "A line that goes on after the turn ended" and
// "A reply stopped at once for a caller who goes on").
import { llm, voice } from '@livekit/agents';
import { TURN_TIMING } from './turn-timing.js';

/** The caller's earlier line that the new one goes on with, and the reply cut off between them. */
export interface GoneOn {
  head: llm.ChatMessage;
  cutOff: llm.ChatMessage;
}

/** Whether `item` is a line the caller said. */
function isCallerLine(item: llm.ChatItem | undefined): item is llm.ChatMessage {
  return item?.type === 'message' && item.role === 'user';
}

/**
 * Whether the conversation so far (`items`, before the caller's new line) ends with a reply the
 * caller cut off by going on with their line: the caller's line, then the agent's reply,
 * interrupted, with the caller's speech heard within `TURN_TIMING.goesOnWithinMs` of its start
 * (`spokeAfterMs`: undefined when the caller did not speak during it). A tool the reply ran, or a
 * reply heard out, keeps the lines apart.
 */
export function lineGoneOn(
  items: readonly llm.ChatItem[],
  spokeAfterMs: number | undefined,
): GoneOn | undefined {
  if (spokeAfterMs === undefined || spokeAfterMs >= TURN_TIMING.goesOnWithinMs) return undefined;
  const [head, cutOff] = items.slice(-2);
  if (!isCallerLine(head)) return undefined;
  if (cutOff?.type !== 'message' || cutOff.role !== 'assistant' || !cutOff.interrupted)
    return undefined;
  return { head, cutOff };
}

/**
 * When the caller first spoke during the agent's latest reply, from the session's states; and, in
 * the reply's first `TURN_TIMING.goesOnWithinMs`, a quick pause: a reply to the caller's line stops
 * once the VAD has heard `TURN_TIMING.goesOnInterruptMs` of their speech, not the framework's
 * minimum interruption (500 ms, for speech that may answer the reply), so a caller who goes on does
 * not hear half a second of a reply over their own words. The framework's false-interruption
 * handling is unchanged: a pause that brings no words resumes the reply.
 */
class ReplyOverlap {
  private replyStartedAt: number | undefined;
  private callerSpokeAt: number | undefined;
  /** The session's minimum interruption while it is lowered, to restore. */
  private lowered: { minDuration: number; window: NodeJS.Timeout } | undefined;

  constructor(private readonly session: voice.AgentSession) {
    session.on(voice.AgentSessionEventTypes.AgentStateChanged, (ev) => {
      if (ev.newState !== 'speaking') return this.restore();
      this.replyStartedAt = ev.createdAt;
      // Already speaking as the reply's first frame went out: going on, heard at once.
      this.callerSpokeAt = session.userState === 'speaking' ? ev.createdAt : undefined;
      this.lowerInWindow();
    });
    session.on(voice.AgentSessionEventTypes.UserStateChanged, (ev) => {
      if (ev.newState === 'speaking' && this.replyStartedAt !== undefined)
        this.callerSpokeAt ??= ev.createdAt;
    });
    session.on(voice.AgentSessionEventTypes.Close, () => this.restore());
  }

  /** From the latest reply's first frame to the caller's first speech heard after it. */
  get spokeAfterMs(): number | undefined {
    if (this.replyStartedAt === undefined || this.callerSpokeAt === undefined) return undefined;
    return this.callerSpokeAt - this.replyStartedAt;
  }

  /**
   * Lowers the session's minimum interruption for the window, where the reply answers a caller's
   * line (not the greeting, nor a reply after a tool: {@link lineGoneOn} keeps those apart). A
   * caller who began speaking within the window keeps it lowered until the reply stops.
   */
  private lowerInWindow(): void {
    this.restore();
    const quick = TURN_TIMING.goesOnInterruptMs;
    const interruption = this.session.sessionOptions.turnHandling.interruption;
    if (quick <= 0 || !interruption?.enabled || interruption.minDuration <= quick) return;
    if (!isCallerLine(this.session.history.items.at(-1))) return;
    const window = setTimeout(() => {
      if (this.callerSpokeAt === undefined) this.restore();
    }, TURN_TIMING.goesOnWithinMs);
    this.lowered = { minDuration: interruption.minDuration, window };
    // The framework reads this option at each of the VAD's inferences.
    interruption.minDuration = quick;
  }

  private restore(): void {
    if (!this.lowered) return;
    clearTimeout(this.lowered.window);
    this.session.sessionOptions.turnHandling.interruption.minDuration = this.lowered.minDuration;
    this.lowered = undefined;
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
