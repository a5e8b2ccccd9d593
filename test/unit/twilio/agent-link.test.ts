// The agent's side of a barge-in on a Twilio call: a reply its audio output reports as cut sends
// one reliable `clear` message to the caller's participant (the gateway), and nothing else does.
import { EventEmitter } from 'node:events';
import { voice } from '@livekit/agents';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { CLEAR_MESSAGE, GATEWAY_TOPIC } from '../../../contracts/twilio-call.js';
import { forwardInterruptions } from '../../../twilio/agent-link.js';

describe('forwardInterruptions', () => {
  it('sends clear to the caller only when a reply was cut', async () => {
    const output = new EventEmitter();
    const sent: { data: string; opts: unknown }[] = [];
    const room = {
      localParticipant: {
        publishData: async (data: Uint8Array, opts: unknown) =>
          void sent.push({ data: new TextDecoder().decode(data), opts }),
      },
    };
    forwardInterruptions(
      output as unknown as voice.AudioOutput,
      room as never,
      'twilio_CA1',
      pino({ level: 'silent' }),
    );
    output.emit(voice.AudioOutput.EVENT_PLAYBACK_FINISHED, {
      interrupted: false,
      playbackPosition: 3,
    });
    expect(sent).toEqual([]);
    output.emit(voice.AudioOutput.EVENT_PLAYBACK_FINISHED, {
      interrupted: true,
      playbackPosition: 1,
    });
    await Promise.resolve();
    expect(sent).toEqual([
      {
        data: CLEAR_MESSAGE,
        opts: { reliable: true, topic: GATEWAY_TOPIC, destination_identities: ['twilio_CA1'] },
      },
    ]);
  });
});
