import type { metrics } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import { TurnParts, type TurnPart } from '../../../agent/turn-parts.js';

function eou(
  lastSpeakingTimeMs: number,
  transcriptionDelayMs: number,
  endOfUtteranceDelayMs: number,
  speechId?: string,
) {
  return {
    type: 'eou_metrics',
    timestamp: lastSpeakingTimeMs + endOfUtteranceDelayMs,
    lastSpeakingTimeMs,
    transcriptionDelayMs,
    endOfUtteranceDelayMs,
    onUserTurnCompletedDelayMs: 0,
    speechId,
  } as metrics.AgentMetrics;
}

/** An LLM request that started at `startAt`, had its first token `ttftMs` later, ended at `endAt`. */
function llm(startAt: number, ttftMs: number, endAt: number, speechId?: string) {
  return {
    type: 'llm_metrics',
    timestamp: endAt,
    durationMs: endAt - startAt,
    ttftMs,
    speechId,
  } as metrics.AgentMetrics;
}

function recorder() {
  const parts: [TurnPart, number][] = [];
  return { parts, turns: new TurnParts((part, ms) => parts.push([part, ms])) };
}

describe('TurnParts', () => {
  it('splits a turn into parts that add up to its response latency when the LLM ends after playback starts', () => {
    const { parts, turns } = recorder();
    turns.onMetrics(eou(10_000, 120, 450, 'SP_1'));
    turns.onMetrics(llm(10_460, 15, 11_900, 'SP_1')); // first token at 10 475
    turns.onPlaybackStarted(10_700);
    expect(parts).toEqual([
      ['transcript', 120],
      ['endOfTurn', 330],
      ['firstToken', 25],
      ['firstAudio', 225],
    ]);
    expect(parts.reduce((n, [, ms]) => n + ms, 0)).toBe(700);
  });

  it('records the first audio part once the LLM metrics arrive after playback started', () => {
    const { parts, turns } = recorder();
    turns.onMetrics(eou(5_000, 100, 300, 'SP_2'));
    turns.onPlaybackStarted(5_600);
    expect(parts.map(([p]) => p)).toEqual(['transcript', 'endOfTurn']);
    turns.onMetrics(llm(5_310, 40, 6_500, 'SP_2'));
    expect(parts.slice(2)).toEqual([
      ['firstToken', 50],
      ['firstAudio', 250],
    ]);
  });

  it('ignores an LLM request of another reply when speech ids differ', () => {
    const { parts, turns } = recorder();
    turns.onMetrics(eou(1_000, 50, 250, 'SP_3'));
    turns.onMetrics(llm(900, 10, 1_100, 'SP_earlier'));
    turns.onPlaybackStarted(1_500);
    expect(parts.map(([p]) => p)).toEqual(['transcript', 'endOfTurn']);
  });

  it('records each part once when playback starts again in the same turn', () => {
    const { parts, turns } = recorder();
    turns.onMetrics(eou(1_000, 50, 250, 'SP_4'));
    turns.onMetrics(llm(1_260, 5, 1_300, 'SP_4'));
    turns.onPlaybackStarted(1_400);
    turns.onPlaybackStarted(2_400);
    turns.onMetrics(llm(2_000, 5, 2_100, 'SP_4'));
    expect(parts).toHaveLength(4);
  });

  it('records nothing for playback outside a turn (the greeting) or without an end of speech', () => {
    const { parts, turns } = recorder();
    turns.onPlaybackStarted(100);
    turns.onMetrics(eou(0, 0, 0));
    turns.onPlaybackStarted(200);
    turns.onMetrics(llm(150, 5, 250));
    expect(parts).toEqual([]);
  });

  it('keeps the parts adding up when the transcript comes after the decision or the reply before it', () => {
    const { parts, turns } = recorder();
    turns.onMetrics(eou(3_000, 400, 300, 'SP_5'));
    turns.onMetrics(llm(2_900, 20, 3_500, 'SP_5')); // first token before the end of the turn
    turns.onPlaybackStarted(3_600);
    expect(parts.reduce((n, [, ms]) => n + ms, 0)).toBe(600);
    expect(parts).toEqual([
      ['transcript', 400],
      ['endOfTurn', 0],
      ['firstToken', 0],
      ['firstAudio', 200],
    ]);
  });

  it('drops an unanswered turn when the caller speaks again', () => {
    const { parts, turns } = recorder();
    turns.onMetrics(eou(1_000, 50, 250, 'SP_6'));
    turns.onMetrics(eou(4_000, 60, 260, 'SP_7'));
    turns.onMetrics(llm(1_260, 5, 1_300, 'SP_6'));
    turns.onMetrics(llm(4_270, 5, 4_300, 'SP_7'));
    turns.onPlaybackStarted(4_500);
    expect(parts.slice(4)).toEqual([
      ['firstToken', 15],
      ['firstAudio', 225],
    ]);
  });
  it('takes the LLM request of a reply made before its turn was decided (preemptive generation)', () => {
    const { parts, turns } = recorder();
    turns.onMetrics(llm(10_300, 20, 10_340, 'SP_8')); // ended before the decision at 10 450
    turns.onMetrics(eou(10_000, 300, 450, 'SP_8'));
    turns.onPlaybackStarted(10_470);
    expect(parts).toEqual([
      ['transcript', 300],
      ['endOfTurn', 150],
      ['firstToken', 0],
      ['firstAudio', 20],
    ]);
  });

  it('keeps an early request only for its own turn: an invalidated one is not taken', () => {
    const { parts, turns } = recorder();
    turns.onMetrics(llm(1_200, 10, 1_240, 'SP_dropped')); // the caller spoke on; reply voided
    turns.onMetrics(llm(2_100, 15, 2_160, 'SP_9'));
    turns.onMetrics(eou(1_800, 300, 420, 'SP_9'));
    turns.onPlaybackStarted(2_300);
    expect(parts.slice(2)).toEqual([
      ['firstToken', 0],
      ['firstAudio', 80],
    ]);
    // A turn decided later with the voided reply's id finds nothing kept.
    turns.onMetrics(eou(5_000, 100, 300, 'SP_dropped'));
    turns.onPlaybackStarted(5_500);
    expect(parts.slice(4).map(([p]) => p)).toEqual(['transcript', 'endOfTurn']);
  });
});
