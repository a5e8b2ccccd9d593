// The two latencies callers feel, measured where the audio leaves the agent: TTFA (call answered →
// first frame of the greeting sent) and each turn's response latency (caller stopped speaking →
// first frame of the reply sent). Times come from the framework's own events: the audio output's
// playbackStarted and the end-of-utterance metrics' lastSpeakingTime. Each turn's parts
// (./turn-parts.ts) are recorded beside it, by use case only.
import { voice, type metrics } from '@livekit/agents';
import type { AgentInstruments } from '../otel/instruments.js';
import { TurnParts, type TurnPart } from './turn-parts.js';

/** What the turn detector said of the turn's end, when one ran. */
export interface TurnPrediction {
  /** Its probability that the caller had finished. */
  endOfTurnProbability: number;
  /** Below this, endpointing waited its maximum for more. */
  threshold: number;
}

/** A turn's two ends (epoch ms), for placing it beside a clock outside the agent. */
export interface TurnMoments {
  /** The caller's last speech, as the VAD placed it. */
  speechEndedAt: number;
  /** The reply's first frame went out. */
  sentAt: number;
}

/** The greeting's two ends (epoch ms). */
export interface FirstAudioMoments {
  /** The agent learned that the call was answered. */
  answeredAt: number;
  /** The greeting's first frame went out. */
  sentAt: number;
}

export interface LatencyEvents {
  onTtfa?: (ms: number, at: FirstAudioMoments) => void;
  onTurn?: (ms: number, prediction: TurnPrediction | undefined, at: TurnMoments) => void;
  /** One part of a turn, once known (the first token's often after the reply started). */
  onTurnPart?: (part: TurnPart, ms: number) => void;
}

/** The histogram of each part of a turn. */
function partInstruments(
  i: AgentInstruments,
): Record<TurnPart, AgentInstruments['turnResponseLatency']> {
  return {
    transcript: i.turnTranscriptDelay,
    endOfTurn: i.turnEndOfTurnDelay,
    firstToken: i.turnFirstTokenDelay,
    firstAudio: i.turnFirstAudioDelay,
  };
}

export class LatencyRecorder {
  private answeredAt: number | undefined;
  private firstAudioSeen = false;
  private lastSpeakingAt: number | undefined;
  private prediction: TurnPrediction | undefined;
  private readonly parts: TurnParts;

  constructor(
    private readonly instruments: AgentInstruments,
    private readonly attributes: Record<string, string>,
    private readonly events: LatencyEvents = {},
  ) {
    const byPart = partInstruments(instruments);
    const partAttributes = { use_case: attributes['use_case'] ?? 'unknown' };
    this.parts = new TurnParts((part, ms) => {
      byPart[part].record(ms / 1000, partAttributes);
      this.events.onTurnPart?.(part, ms);
    });
  }

  /** The call was answered (SIP callStatus became active, or a dev participant joined). */
  markAnswered(atMs: number): void {
    this.answeredAt ??= atMs;
  }

  /** Subscribes to the session's metrics and its audio output. */
  attach(session: voice.AgentSession, output: voice.AudioOutput): void {
    session.on(voice.AgentSessionEventTypes.MetricsCollected, (ev) => this.onMetrics(ev.metrics));
    session.on(voice.AgentSessionEventTypes.EotPrediction, (ev) => this.onPrediction(ev));
    output.on(voice.AudioOutput.EVENT_PLAYBACK_STARTED, (ev: voice.PlaybackStartedEvent) =>
      this.onPlaybackStarted(ev.createdAt),
    );
  }

  /** The turn detector's latest prediction: the one the turn's end was decided on. */
  onPrediction(ev: { probability: number; threshold: number }): void {
    this.prediction = { endOfTurnProbability: ev.probability, threshold: ev.threshold };
  }

  onMetrics(m: metrics.AgentMetrics): void {
    if (m.type === 'eou_metrics' && m.lastSpeakingTimeMs > 0)
      this.lastSpeakingAt = m.lastSpeakingTimeMs;
    this.parts.onMetrics(m);
  }

  onPlaybackStarted(atMs: number): void {
    this.parts.onPlaybackStarted(atMs);
    if (!this.firstAudioSeen && this.answeredAt !== undefined) {
      this.firstAudioSeen = true;
      const ms = Math.max(0, atMs - this.answeredAt);
      this.instruments.timeToFirstAudio.record(ms / 1000, this.attributes);
      this.events.onTtfa?.(ms, { answeredAt: this.answeredAt, sentAt: atMs });
      return;
    }
    if (this.lastSpeakingAt !== undefined) {
      const speechEndedAt = this.lastSpeakingAt;
      const ms = Math.max(0, atMs - speechEndedAt);
      const prediction = this.prediction;
      this.lastSpeakingAt = undefined;
      this.prediction = undefined;
      this.instruments.turnResponseLatency.record(ms / 1000, this.attributes);
      this.events.onTurn?.(ms, prediction, { speechEndedAt, sentAt: atMs });
    }
  }
}
