// Where a turn's time goes, from the framework's own measurements: the caller stops speaking →
// the final transcript → the end of the turn decided → the first token of the reply → the first
// audio frame of the reply sent. Each part is a histogram of its own, so an operator sees which one
// is slow; together they are the turn's response latency (agent/latency.ts).
//
// The end-of-utterance metrics carry the end of speech, the transcription and the end-of-turn
// delays and the reply's speech id; the LLM's metrics, emitted when its stream ends (often after
// the reply has started playing), carry the same speech id and the time to first token. A reply
// with no LLM request of its own (a tool's fixed line) records the parts before it only.
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
export class TurnParts {
  private turn: OpenTurn | undefined;

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
  }

  private onLlm(m: metrics.LLMMetrics): void {
    const t = this.turn;
    if (!t || t.firstTokenAt !== undefined || m.ttftMs < 0) return;
    // Another reply's request (a tool's follow-up, an earlier reply's end) is not this turn's.
    if (t.speechId !== undefined && m.speechId !== undefined && m.speechId !== t.speechId) return;
    // `timestamp` is taken as the stream ends: its start is `durationMs` before. A reply generated
    // ahead of the decision counts from the decision, so the parts still add up to the turn.
    t.firstTokenAt = Math.max(t.decidedAt, m.timestamp - m.durationMs + m.ttftMs);
    this.record('firstToken', t.firstTokenAt - t.decidedAt);
    this.finish(t);
  }

  private finish(t: OpenTurn): void {
    if (t.firstTokenAt === undefined || t.firstAudioAt === undefined) return;
    this.record('firstAudio', Math.max(0, t.firstAudioAt - t.firstTokenAt));
    if (this.turn === t) this.turn = undefined;
  }
}
