// The agent's audio track is published once the call's setup is done, not while it runs.
//
// livekit-sip answers an inbound call as soon as it may subscribe to the agent's track (1.8.0:
// it keeps ringing until then), and the agent learns of the answer from livekit-sip's
// `sip.callStatus` a moment later. The framework publishes the track early in the session's start,
// so the answer used to reach a job whose event loop was still busy starting the session (its
// watchdog logged 140–360 ms blocked at every call's start), and the caller heard silence for as
// long: docs/decisions/latency-at-the-ear.md. Held until the setup is done, the publication (and
// with it the answer) comes when the job is free to hear it; the caller rings that much longer
// instead, which a caller does not notice as dead air.
import type { LocalParticipant } from '@livekit/rtc-node';

/** A publication hold: `release` lets the held publications (and later ones) through. */
export interface PublishHold {
  release(): void;
}

/**
 * Holds `participant`'s track publications until `release()`, or `maxMs` at most (a setup that
 * fails or hangs must not keep the call ringing until it is given up).
 */
export function holdPublications(participant: LocalParticipant, maxMs: number): PublishHold {
  const publish = participant.publishTrack;
  let open!: () => void;
  const released = new Promise<void>((resolve) => (open = resolve));
  const timer = setTimeout(() => hold.release(), maxMs);
  timer.unref?.();
  const held: LocalParticipant['publishTrack'] = async (...args) => {
    await released;
    return publish.apply(participant, args);
  };
  participant.publishTrack = held;
  const hold: PublishHold = {
    release() {
      clearTimeout(timer);
      if (participant.publishTrack === held) participant.publishTrack = publish;
      open();
    },
  };
  return hold;
}
