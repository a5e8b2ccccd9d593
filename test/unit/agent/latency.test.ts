// Each turn's latency comes with what the turn detector said of it, so a slow turn shows whether
// endpointing waited its maximum for more (a probability under the threshold).
import { createNoopMeter } from '@opentelemetry/api';
import type { metrics as lkMetrics } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import {
  LatencyRecorder,
  type FirstAudioMoments,
  type TurnMoments,
  type TurnPrediction,
} from '../../../agent/latency.js';
import { createAgentInstruments } from '../../../otel/instruments.js';

const endOfUtterance = (lastSpeakingTimeMs: number) =>
  ({
    type: 'eou_metrics',
    lastSpeakingTimeMs,
    transcriptionDelayMs: 100,
    endOfUtteranceDelayMs: 400,
    speechId: `SP_${lastSpeakingTimeMs}`,
  }) as lkMetrics.AgentMetrics;

describe('LatencyRecorder', () => {
  it("hands each turn the turn detector's last prediction, and a turn without one none", () => {
    const turns: [number, TurnPrediction | undefined, TurnMoments][] = [];
    const latency = new LatencyRecorder(
      createAgentInstruments(createNoopMeter()),
      { component: 'agent', use_case: 'city-311' },
      { onTurn: (ms, prediction, at) => turns.push([ms, prediction, at]) },
    );
    latency.markAnswered(1_000);
    // The greeting is no turn: a prediction made before it waits for the caller's turn.
    latency.onPrediction({ probability: 0.2, threshold: 0.36 });
    latency.onPlaybackStarted(1_200);
    latency.onPrediction({ probability: 0.81, threshold: 0.36 });
    latency.onMetrics(endOfUtterance(5_000));
    latency.onPlaybackStarted(5_550);
    latency.onMetrics(endOfUtterance(9_000));
    latency.onPlaybackStarted(11_600);
    expect(turns).toEqual([
      [
        550,
        { endOfTurnProbability: 0.81, threshold: 0.36 },
        { speechEndedAt: 5_000, sentAt: 5_550 },
      ],
      [2_600, undefined, { speechEndedAt: 9_000, sentAt: 11_600 }],
    ]);
  });

  it("hands the greeting's TTFA the moment the answer was learned and the moment it went out", () => {
    const ttfa: [number, FirstAudioMoments][] = [];
    const latency = new LatencyRecorder(
      createAgentInstruments(createNoopMeter()),
      { component: 'agent', use_case: 'city-311' },
      { onTtfa: (ms, at) => ttfa.push([ms, at]) },
    );
    latency.onPlaybackStarted(900); // before the answer: no TTFA yet
    latency.markAnswered(1_000);
    latency.markAnswered(1_050); // the first answer counts
    latency.onPlaybackStarted(1_012);
    latency.onPlaybackStarted(1_400); // only the first frame after the answer
    expect(ttfa).toEqual([[12, { answeredAt: 1_000, sentAt: 1_012 }]]);
  });
});
