// A Twilio call's recording from the gateway's side: the notice Twilio says before the stream, and
// the stream session feeding its recording both directions at the times they were heard, then
// finishing it once the stream has ended (the writes themselves: test/integration/recordings-s3).
import { pino } from 'pino';
import { encodeG711 } from '../../../agent/g711.js';
import { describe, expect, it } from 'vitest';
import { signCallToken } from '../../../contracts/call-token.js';
import { twilioTokenClaims } from '../../../contracts/twilio-call.js';
import type { StreamRecording } from '../../../twilio/recording.js';
import { StreamSession, type CallerLeg, type LegEvents } from '../../../twilio/stream-session.js';
import { connectStreamTwiml } from '../../../twilio/twiml.js';
import fixtures from '../../fixtures/twilio/media-stream.json' with { type: 'json' };

const SECRET = 'a-call-token-secret-of-at-least-32-bytes!';
const { accountSid, callSid } = fixtures.start.start;
const text = (m: unknown) => JSON.stringify(m);

describe('the TwiML of a recorded call', () => {
  const base = {
    streamUrl: 'wss://gw.example.org/twilio/stream',
    useCase: 'city-311',
    dialed: '+12025550131',
    callToken: 'v1.1.x',
    traceparent: undefined,
  };

  it('says the notice in the use case language before the stream', () => {
    const twiml = connectStreamTwiml({
      ...base,
      notice: 'Esta llamada puede ser grabada.',
      noticeLanguage: 'es-US',
    });
    expect(twiml).toMatch(
      /<Response><Say language="es-US">Esta llamada puede ser grabada\.<\/Say><Connect><Stream /,
    );
  });

  it('says nothing for a call that is not recorded', () => {
    expect(connectStreamTwiml(base)).not.toContain('<Say');
  });
});

describe('the stream session feeding its recording', () => {
  async function run(records: boolean) {
    const fed: { dir: 'caller' | 'agent' | 'finish'; at: number; n: number }[] = [];
    const clock = { now: 1000 };
    let events: LegEvents | undefined;
    const leg: CallerLeg = {
      sipCallId: 'test@callbridge',
      hear: () => {},
      digit: () => {},
      close: async () => {},
    };
    const recording: StreamRecording = {
      caller: (pcm, at) => void fed.push({ dir: 'caller', at, n: pcm.length }),
      agent: (pcm, at) => void fed.push({ dir: 'agent', at, n: pcm.length }),
      finish: async (at) => void fed.push({ dir: 'finish', at, n: 0 }),
    };
    const starts: number[] = [];
    const session = new StreamSession(
      { send: () => {}, close: () => {} },
      {
        secret: SECRET,
        openLeg: async (_call, ev) => {
          events = ev;
          return leg;
        },
        recording: (_call, startMs) => {
          starts.push(startMs);
          return records ? recording : undefined;
        },
        logger: pino({ level: 'silent' }),
        now: () => clock.now,
      },
    );
    const token = signCallToken(
      twilioTokenClaims(callSid, accountSid),
      Date.now() + 3_600_000,
      SECRET,
    );
    const start = structuredClone(fixtures.start) as typeof fixtures.start;
    const params: Record<string, string> = { ...start.start.customParameters, callToken: token };
    (start.start as { customParameters: Record<string, string> }).customParameters = params;
    session.handle(text(fixtures.connected));
    session.handle(text(start));
    await new Promise((r) => setTimeout(r, 0));
    clock.now = 1020;
    session.handle(text({ ...fixtures.media, sequenceNumber: '3' }));
    clock.now = 1040;
    events!.agentAudio(encodeG711(new Int16Array(160).fill(3000), 'PCMU'));
    clock.now = 1500;
    session.handle(text({ ...fixtures.stop, sequenceNumber: '4' }));
    await session.closed();
    return { fed, starts };
  }

  it('gives it the caller as heard, the agent as sent, and its end', async () => {
    const { fed, starts } = await run(true);
    expect(starts).toEqual([1000]);
    expect(fed).toEqual([
      { dir: 'caller', at: 1020, n: 160 },
      { dir: 'agent', at: 1040, n: 160 },
      { dir: 'finish', at: 1500, n: 0 },
    ]);
  });

  it('records nothing when the use case does not', async () => {
    const { fed } = await run(false);
    expect(fed).toEqual([]);
  });
});
