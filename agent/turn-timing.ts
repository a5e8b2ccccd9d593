// How the agent times a caller's turn, in one place: the session's assembly, the VAD, the recognizer
// and the turn's end read it, and the agent benchmark sweeps its keys (docs/decisions/turn-timing.md).

/**
 * Timing that keeps replies quick on a phone line without cutting callers off
 * (docs/decisions/turn-timing.md): the silence the VAD waits for before the caller's speech has
 * ended (the framework refuses under 250 ms beside a turn detector); the probability from which a
 * 32 ms window is speech (Silero's default); endpointing's wait from the last speech when the turn
 * detector says the turn is over, long enough for the recognizer to decode what the caller said
 * after a pause (sooner, the framework ends the turn on the words before the pause and the rest
 * becomes a turn of its own), and its wait when the detector says the caller goes on; the wait
 * from the last speech when the detector says the caller goes on but the dialogue engine
 * understands the request so far, long enough for a pause inside a sentence (agent/turn-end.ts);
 * the silence after which the offline recognizer decodes the utterance so far, so that its
 * transcript is ready by the VAD's end of speech (docs/decisions/early-decode.md); and whether the
 * reply's speech is synthesized from the caller's transcript on, beside the end-of-turn decision,
 * as its text already is (docs/decisions/preemptive-speech.md); how soon after a reply's first
 * frame the caller's speech is their line going on, too soon to answer a reply they have not yet
 * heard, and how much of that speech (as the VAD counts it) pauses the reply, where the framework's
 * minimum interruption (500 ms) holds for speech that may answer it (agent/line-goes-on.ts; 0: that
 * minimum for the whole reply).
 */
export const TURN_TIMING = {
  vadMinSilenceMs: 250,
  earlyDecodeMs: 96,
  vadActivationThreshold: 0.5,
  endpointingMinMs: 400,
  endpointingMaxMs: 2500,
  understoodEndMs: 700,
  preemptiveTts: true,
  goesOnWithinMs: 400,
  goesOnInterruptMs: 100,
};
