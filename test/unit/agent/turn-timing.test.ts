// When a caller's turn ends: the VAD's silence, the turn detector and endpointing together. Latency
// and not cutting callers off pull against each other here (docs/decisions/turn-timing.md).
import { inference, initializeLogger } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { describe, expect, it } from 'vitest';
import { turnHandling, type TurnExecutor } from '../../../agent/session-assembly.js';
import { TURN_TIMING } from '../../../agent/turn-timing.js';

initializeLogger({ pretty: false, level: 'error' });

/**
 * The framework starts the turn detector's prediction once the caller has been silent 200 ms
 * (`MIN_SILENCE_DURATION_MS` of @livekit/agents' streaming turn detection, not exported) and refuses
 * a VAD whose minimum silence is under that plus 50 ms: the session would not start.
 */
const FRAMEWORK_MIN_VAD_SILENCE_MS = 250;

/** Silero's window: speech ends on the first whole window past the minimum silence. */
const VAD_WINDOW_MS = 32;

describe('TURN_TIMING', () => {
  it('ends speech no sooner than the framework lets a turn detector session start', () => {
    expect(TURN_TIMING.vadMinSilenceMs).toBeGreaterThanOrEqual(FRAMEWORK_MIN_VAD_SILENCE_MS);
  });

  it('leaves the recognizer time to decode the last stretch of a turn before the turn ends', () => {
    // A turn with a pause inside reaches the VAD's end of speech with a transcript already (the
    // words before the pause): the framework ends the turn from endpointing's minimum on, and the
    // last stretch's transcript, decoded from that moment, would come after it as a turn of its own.
    const vadEndMs = (Math.floor(TURN_TIMING.vadMinSilenceMs / VAD_WINDOW_MS) + 1) * VAD_WINDOW_MS;
    expect(TURN_TIMING.endpointingMinMs - vadEndMs).toBeGreaterThanOrEqual(100);
  });

  it("starts the recognizer's decode in the silence before the VAD ends the speech", () => {
    // The event that starts it is the window after earlyDecodeMs of silence has been counted.
    const vadEndMs = (Math.floor(TURN_TIMING.vadMinSilenceMs / VAD_WINDOW_MS) + 1) * VAD_WINDOW_MS;
    const decodeStartMs = TURN_TIMING.earlyDecodeMs + VAD_WINDOW_MS;
    expect(TURN_TIMING.earlyDecodeMs).toBeGreaterThan(0);
    expect(decodeStartMs).toBeLessThanOrEqual(vadEndMs - 2 * VAD_WINDOW_MS);
    // The last stretch's decode, started there, has endpointing's minimum to finish in.
    expect(TURN_TIMING.endpointingMinMs - decodeStartMs).toBeGreaterThanOrEqual(200);
  });

  it('waits well past a pause inside a sentence when the turn detector says the turn goes on', () => {
    expect(TURN_TIMING.endpointingMaxMs).toBeGreaterThanOrEqual(4 * 500);
    expect(TURN_TIMING.endpointingMinMs).toBeLessThan(TURN_TIMING.endpointingMaxMs);
  });

  it('holds an understood request past a pause inside a sentence, and well under the maximum', () => {
    // The split check's longest pause (500 ms) and the VAD hearing the caller again (a few
    // windows): the turn detector's "goes on" gives way to the dialogue engine only after both.
    expect(TURN_TIMING.understoodEndMs).toBeGreaterThanOrEqual(500 + 3 * VAD_WINDOW_MS);
    expect(TURN_TIMING.understoodEndMs).toBeGreaterThan(TURN_TIMING.endpointingMinMs);
    // At the ear a turn adds the line's fading tail and the media path (about 200 ms) to this:
    // the p95 of 1 s.
    expect(TURN_TIMING.understoodEndMs).toBeLessThanOrEqual(800);
  });

  it('counts a window as speech from a probability Silero accepts', () => {
    expect(TURN_TIMING.vadActivationThreshold).toBeGreaterThan(0);
    expect(TURN_TIMING.vadActivationThreshold).toBeLessThan(1);
  });
});

describe('turnHandling', () => {
  it('predicts the end of a turn with the executor it is given when made outside a job', async () => {
    const methods: string[] = [];
    const executor: TurnExecutor = {
      doInference: async (method: string) => {
        methods.push(method);
        return { probability: 0.125, inferenceDurationMs: 1 };
      },
    };
    const detector = turnHandling(executor).turnDetection as inference.TurnDetector;
    const stream = detector.stream();
    try {
      stream.pushAudio(new AudioFrame(new Int16Array(1600), 16000, 1, 1600));
      const prediction = await stream.predict().await;
      expect(prediction.endOfTurnProbability).toBe(0.125);
      expect(methods).toHaveLength(1);
    } finally {
      await stream.aclose();
    }
  });
});
