// The agent's side of a barge-in on a Twilio call: a reply its audio output reports as cut
// publishes the clear keypad event (which livekit-sip sends to the gateway as RFC 4733), and
// nothing else does.
import { EventEmitter } from 'node:events';
import { voice } from '@livekit/agents';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { CLEAR_DTMF } from '../../../contracts/twilio-call.js';
import { forwardInterruptions } from '../../../twilio/agent-link.js';

describe('forwardInterruptions', () => {
  it('publishes the clear event only when a reply was cut', async () => {
    const output = new EventEmitter();
    const sent: { code: number; digit: string }[] = [];
    const room = {
      localParticipant: {
        publishDtmf: async (code: number, digit: string) => void sent.push({ code, digit }),
      },
    };
    forwardInterruptions(
      output as unknown as voice.AudioOutput,
      room as never,
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
    expect(sent).toEqual([{ code: 15, digit: 'd' }]);
    expect(CLEAR_DTMF).toEqual({ digit: 'd', event: 15 });
  });
});
