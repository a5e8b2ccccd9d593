// Where a turn's time goes, from the framework's own measurements: the caller stops speaking →
// the final transcript → the end of the turn decided → the first token of the reply → the first
// audio frame of the reply sent. Each part is a histogram of its own, so an operator sees which one
// is slow; together they are the turn's response latency (agent/latency.ts).
//
// The end-of-utterance metrics carry the end of speech, the transcription and the end-of-turn
// delays and the reply's speech id; the LLM's metrics, emitted when its stream ends (often after
// the reply has started playing), carry the same speech id and the time to first token. A reply
// with no LLM request of its own (a tool's fixed line) records the parts before it only. With
// preemptive generation the reply's LLM request can end before the turn is decided, so its
// metrics come before the end-of-utterance metrics: the last few are kept by speech id until the
// turn they belong to is decided.
import type { metrics } from '@livekit/agents';

export type TurnPart = 'transcript' | 'endOfTurn' | 'firstToken' | 'firstAudio';

/** One turn's moments (epoch ms), as far as they are known. */
interface OpenTurn {
  speechId: string | undefined;
  decidedAt: number;
  firstTokenAt?: number;
  firstAudioAt?: number;
}

export type RecordPart = (part: TurnPart, ms: number) => void;

/** Splits each turn into its parts and hands every part, in ms, to `record` once. */
/** How many early LLM requests are kept for turns not yet decided (a turn makes at most a few). */
const EARLY_LLM_KEPT = 4;

export class TurnParts {
  private turn: OpenTurn | undefined;
  /** LLM metrics that came before their turn was decided, by speech id, oldest first. */
  private readonly early = new Map<string, metrics.LLMMetrics>();

  constructor(private readonly record: RecordPart) {}

  onMetrics(m: metrics.AgentMetrics): void {
    if (m.type === 'eou_metrics') this.onEndOfUtterance(m);
    else if (m.type === 'llm_metrics') this.onLlm(m);
  }

  /** The first frame of an agent's speech went out (the audio output's playbackStarted). */
  onPlaybackStarted(atMs: number): void {
    const t = this.turn;
    if (!t || t.firstAudioAt !== undefined) return;
    t.firstAudioAt = atMs;
    this.finish(t);
  }

  private onEndOfUtterance(m: metrics.EOUMetrics): void {
    this.turn = undefined; // a turn whose reply never came is dropped: nothing more to learn
    if (!(m.lastSpeakingTimeMs > 0)) return;
    const transcriptMs = Math.max(0, m.transcriptionDelayMs || 0);
    const endOfTurnMs = Math.max(0, (m.endOfUtteranceDelayMs || 0) - transcriptMs);
    this.record('transcript', transcriptMs);
    this.record('endOfTurn', endOfTurnMs);
    this.turn = {
      speechId: m.speechId,
      decidedAt: m.lastSpeakingTimeMs + transcriptMs + endOfTurnMs,
    };
    const early = m.speechId === undefined ? undefined : this.early.get(m.speechId);
    this.early.clear();
    if (early) this.onLlm(early);
  }

  private onLlm(m: metrics.LLMMetrics): void {
    if (m.ttftMs < 0) return;
    const t = this.turn;
    // Another reply's request (a tool's follow-up, an earlier reply's end) is not this turn's.
    const ours =
      t !== undefined &&
      (t.speechId === undefined || m.speechId === undefined || m.speechId === t.speechId);
    if (!ours) {
      // Perhaps a reply made ahead of its turn's decision (preemptive generation): kept for it.
      if (m.speechId !== undefined) this.keepEarly(m.speechId, m);
      return;
    }
    if (t.firstTokenAt !== undefined) return;
    // `timestamp` is taken as the stream ends: its start is `durationMs` before. A reply generated
    // ahead of the decision counts from the decision, so the parts still add up to the turn.
    t.firstTokenAt = Math.max(t.decidedAt, m.timestamp - m.durationMs + m.ttftMs);
    this.record('firstToken', t.firstTokenAt - t.decidedAt);
    this.finish(t);
  }

  private keepEarly(speechId: string, m: metrics.LLMMetrics): void {
    this.early.delete(speechId);
    this.early.set(speechId, m);
    if (this.early.size > EARLY_LLM_KEPT) this.early.delete(this.early.keys().next().value!);
  }

  private finish(t: OpenTurn): void {
    if (t.firstTokenAt === undefined || t.firstAudioAt === undefined) return;
    this.record('firstAudio', Math.max(0, t.firstAudioAt - t.firstTokenAt));
    if (this.turn === t) this.turn = undefined;
  }
}
