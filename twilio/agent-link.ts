// The agent's side of the Twilio gateway (docs/twilio.md): when the caller barges in and the
// agent's reply is cut (its audio output interrupted), the agent tells the gateway so it sends
// Twilio `clear`: what Twilio has buffered of the cut reply is dropped rather than played over the
// caller. The gateway is not in the room; the signal goes the way the call's audio goes: a keypad
// event published in the room (SIP DTMF), which livekit-sip sends to the gateway's leg as an
// RFC 4733 telephone-event (contracts/twilio-call.ts, CLEAR_DTMF).
import { voice } from '@livekit/agents';
import type { Room } from '@livekit/rtc-node';
import type { Logger } from 'pino';
import { CLEAR_DTMF } from '../contracts/twilio-call.js';

export function forwardInterruptions(
  output: voice.AudioOutput,
  room: Pick<Room, 'localParticipant'>,
  logger: Logger,
): void {
  output.on(voice.AudioOutput.EVENT_PLAYBACK_FINISHED, (ev: voice.PlaybackFinishedEvent) => {
    if (!ev.interrupted) return;
    void room.localParticipant
      ?.publishDtmf(CLEAR_DTMF.event, CLEAR_DTMF.digit)
      .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'clear not sent'));
  });
}
