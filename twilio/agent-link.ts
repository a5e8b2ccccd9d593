// The agent's side of the Twilio gateway (docs/twilio.md): when the caller barges in and the
// agent's reply is cut (its audio output interrupted), the agent tells the caller's participant
// (the gateway) so it sends Twilio `clear`: what Twilio has buffered of the cut reply is dropped
// rather than played over the caller. One reliable data message, to that participant only.
import { voice } from '@livekit/agents';
import type { Room } from '@livekit/rtc-node';
import type { Logger } from 'pino';
import { CLEAR_MESSAGE, GATEWAY_TOPIC } from '../contracts/twilio-call.js';

export function forwardInterruptions(
  output: voice.AudioOutput,
  room: Pick<Room, 'localParticipant'>,
  gatewayIdentity: string,
  logger: Logger,
): void {
  const payload = new TextEncoder().encode(CLEAR_MESSAGE);
  output.on(voice.AudioOutput.EVENT_PLAYBACK_FINISHED, (ev: voice.PlaybackFinishedEvent) => {
    if (!ev.interrupted) return;
    void room.localParticipant
      ?.publishData(payload, {
        reliable: true,
        topic: GATEWAY_TOPIC,
        destination_identities: [gatewayIdentity],
      })
      .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'clear not sent'));
  });
}
