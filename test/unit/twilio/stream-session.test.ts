// The gateway's side of Twilio Media Streams against protocol fixtures shaped as Twilio documents
// them (test/fixtures/twilio/media-stream.json): each message type, bad base64, wrong sequence
// numbers, a socket dropped mid-call, a forged stream; the LiveKit leg is a recording fake.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { pcmRms } from '../../../agent/audio.js';
import { decodeG711, encodeG711 } from '../../../agent/g711.js';
import { signCallToken } from '../../../contracts/call-token.js';
import { twilioTokenClaims } from '../../../contracts/twilio-call.js';
import {
  mediaMessage,
  mulawRms,
  parseStreamMessage,
  StreamOrder,
} from '../../../twilio/media-streams.js';
import {
  LEAD_MS,
  StreamSession,
  type CallerLeg,
  type LegEvents,
  type StreamCall,
  type StreamSessionDeps,
} from '../../../twilio/stream-session.js';
import fixtures from '../../fixtures/twilio/media-stream.json' with { type: 'json' };

const SECRET = 'a-call-token-secret-of-at-least-32-bytes!';
const { accountSid, callSid, streamSid } = fixtures.start.start;

type Msg = Record<string, unknown>;
const text = (m: unknown) => JSON.stringify(m);

function startWith(params: Record<string, string>): Msg {
  const s = structuredClone(fixtures.start) as Msg & { start: { customParameters: unknown } };
  s.start.customParameters = params;
  return s;
}

function validStart(): Msg {
  const token = signCallToken(
    twilioTokenClaims(callSid, accountSid),
    Date.now() + 3_600_000,
    SECRET,
  );
  return startWith({ ...fixtures.start.start.customParameters, callToken: token, lease: '1234' });
}

function media(seq: number, payload = Buffer.alloc(160, 0xff).toString('base64')): Msg {
  return {
    ...fixtures.media,
    sequenceNumber: String(seq),
    media: { ...fixtures.media.media, chunk: String(seq), payload },
  };
}

/** The agent's audio as the leg gives it: µ-law. */
const mu = (pcm: Int16Array) => encodeG711(pcm, 'PCMU');

class FakeLeg implements CallerLeg {
  readonly sipCallId = 'test@callbridge';
  heard: Uint8Array[] = [];
  digits: string[] = [];
  closed = 0;
  hear(mulaw: Uint8Array) {
    this.heard.push(mulaw);
  }
  digit(d: string) {
    this.digits.push(d);
  }
  async close() {
    this.closed++;
  }
}

interface Harness {
  session: StreamSession;
  sent: Msg[];
  socketClosed: { code?: number }[];
  leg: FakeLeg;
  events: () => LegEvents;
  opened: StreamCall[];
  closedItems: { reason: string }[];
  released: StreamCall[];
  failedOver: StreamCall[];
  logs: { msg: string; reason?: string }[];
  legReady: Promise<void>;
  clock: { now: number };
}

function harness(over: Partial<StreamSessionDeps> = {}): Harness {
  const sent: Msg[] = [];
  const socketClosed: { code?: number }[] = [];
  const leg = new FakeLeg();
  let events: LegEvents | undefined;
  const opened: StreamCall[] = [];
  const closedItems: { reason: string }[] = [];
  const released: StreamCall[] = [];
  const failedOver: StreamCall[] = [];
  const logs: { msg: string; reason?: string }[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void logs.push(JSON.parse(line) as { msg: string }) },
  );
  let ready!: () => void;
  const legReady = new Promise<void>((r) => (ready = r));
  const clock = { now: 1000 };
  const session = new StreamSession(
    {
      send: (t) => void sent.push(JSON.parse(t) as Msg),
      close: (code) => void socketClosed.push({ code }),
    },
    {
      secret: SECRET,
      openLeg: async (_call, ev) => {
        events = ev;
        ready();
        return leg;
      },
      connections: {
        opened: async (call) => void opened.push(call),
        closed: async (_call, end) => void closedItems.push({ reason: end.reason }),
      },
      releaseLease: async (call) => void released.push(call),
      failOver: async (call) => void failedOver.push(call),
      logger,
      now: () => clock.now,
      ...over,
    },
  );
  return {
    session,
    sent,
    socketClosed,
    leg,
    events: () => events!,
    opened,
    closedItems,
    released,
    failedOver,
    logs,
    legReady,
    clock,
  };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

async function started(h: Harness): Promise<void> {
  h.session.handle(text(fixtures.connected));
  h.session.handle(text(validStart()));
  await h.legReady;
  await flush();
}

describe('Media Streams messages', () => {
  it('parses each message type of the fixtures', () => {
    for (const [name, m] of Object.entries(fixtures)) {
      const parsed = parseStreamMessage(text(m));
      expect(parsed.ok, name).toBe(true);
      if (parsed.ok) expect(parsed.message.event).toBe(name);
    }
  });

  it('decodes a media payload to its µ-law bytes', () => {
    const parsed = parseStreamMessage(text(fixtures.media));
    expect(parsed.ok && parsed.message.event === 'media' && parsed.message.audio.length).toBe(160);
  });

  it('rejects bad base64, not-JSON, unknown events and malformed messages with a reason', () => {
    expect(parseStreamMessage(text(media(2, 'not base64!')))).toEqual({
      ok: false,
      reason: 'bad_base64',
    });
    expect(parseStreamMessage(text(media(2, 'QUJD=')))).toEqual({
      ok: false,
      reason: 'bad_base64',
    });
    expect(parseStreamMessage('{"event":')).toEqual({ ok: false, reason: 'not_json' });
    expect(parseStreamMessage(text({ event: 'hello' }))).toEqual({
      ok: false,
      reason: 'unknown_event',
    });
    const noSid = { ...fixtures.media, streamSid: 'nope' };
    expect(parseStreamMessage(text(noSid))).toEqual({ ok: false, reason: 'malformed' });
    const long = Buffer.alloc(9000).toString('base64');
    expect(parseStreamMessage(text(media(2, long)))).toMatchObject({ ok: false });
  });

  it('takes media only with every field as Twilio sends it; anything else is malformed', () => {
    const m = fixtures.media;
    const taken: unknown[] = [
      m,
      { ...m, extra: 1, media: { ...m.media, extra: 2 } }, // unknown fields: dropped
      { ...m, sequenceNumber: '0' },
      { ...m, sequenceNumber: '999999999999' },
    ];
    for (const v of taken) expect(parseStreamMessage(text(v)).ok).toBe(true);
    const malformed: unknown[] = [
      { ...m, sequenceNumber: '1000000000000' }, // 13 digits
      { ...m, sequenceNumber: 7 },
      { ...m, sequenceNumber: '7a' },
      { ...m, streamSid: undefined },
      { ...m, streamSid: 'MZ0011' },
      { ...m, streamSid: `MZ${'A'.repeat(32)}` },
      { ...m, media: null },
      { ...m, media: [] },
      { ...m, media: { ...m.media, track: 3 } },
      { ...m, media: { ...m.media, chunk: '-1' } },
      { ...m, media: { ...m.media, timestamp: undefined } },
      { ...m, media: { ...m.media, payload: undefined } },
      { ...m, media: { ...m.media, payload: 'A'.repeat(10_671) } },
    ];
    for (const v of malformed) {
      expect(parseStreamMessage(text(v)), text(v).slice(0, 100)).toEqual({
        ok: false,
        reason: 'malformed',
      });
    }
  });

  it("reads a µ-law frame's level as the decoded samples give it", () => {
    const every = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(mulawRms(every)).toBe(pcmRms(decodeG711(every, 'PCMU')));
    for (const amplitude of [0, 30, 64, 65, 200, 3000, 32000]) {
      const tone = new Int16Array(160).map((_, i) => Math.round(amplitude * Math.sin(i / 5)));
      const mulaw = encodeG711(tone, 'PCMU');
      expect(mulawRms(mulaw)).toBe(pcmRms(decodeG711(mulaw, 'PCMU')));
    }
    expect(mulawRms(new Uint8Array(0))).toBe(0);
  });

  it('writes a media message as JSON.stringify would, from a buffer or a view into one', () => {
    const bytes = new Uint8Array(200).map((_, i) => (i * 37) & 0xff);
    const frame = bytes.subarray(20, 180);
    const expected = JSON.stringify({
      event: 'media',
      streamSid,
      media: { payload: Buffer.from(frame).toString('base64') },
    });
    expect(mediaMessage(streamSid, frame)).toBe(expected);
    expect(mediaMessage(streamSid, Buffer.from(frame))).toBe(expected);
  });

  it('orders a stream: start first and once, sequence numbers up, gaps counted', () => {
    const order = new StreamOrder();
    const msg = (m: Msg) => {
      const p = parseStreamMessage(text(m));
      if (!p.ok) throw new Error(p.reason);
      return p.message;
    };
    expect(order.check(msg(media(2)))).toBe('before_start');
    expect(order.check(msg(fixtures.start))).toBeUndefined();
    expect(order.check(msg(fixtures.start))).toBe('second_start');
    expect(order.check(msg(media(2)))).toBeUndefined();
    expect(order.check(msg(media(2)))).toBe('stale_sequence');
    expect(order.check(msg(media(1)))).toBe('stale_sequence');
    expect(order.check(msg(media(5)))).toBeUndefined();
    expect(order.gaps).toBe(1);
    const other = { ...media(6), streamSid: `MZ${'1'.repeat(32)}` };
    expect(order.check(msg(other))).toBe('other_stream');
  });
});

describe('a stream session', () => {
  it('opens the leg on a start with a valid call token, and writes the connection item', async () => {
    const h = harness();
    await started(h);
    expect(h.opened).toHaveLength(1);
    expect(h.opened[0]).toMatchObject({
      callSid,
      accountSid,
      streamSid,
      useCase: 'city-311',
      dialed: '+12025550123',
      leaseExpiresAtMs: 1234,
    });
  });

  it('refuses a start without a valid call token: no leg, the socket closed, nothing released', async () => {
    const starts: Record<string, string>[] = [
      {},
      { callToken: 'v1.1.abc' },
      { callToken: signForOtherCall() },
    ];
    for (const params of starts) {
      let opened = false;
      const h = harness({
        openLeg: async () => {
          opened = true;
          return new FakeLeg();
        },
      });
      h.session.handle(text(startWith(params)));
      await flush();
      expect(opened).toBe(false);
      expect(h.socketClosed).toEqual([{ code: 1008 }]);
      expect(h.released).toEqual([]);
      expect(h.logs.some((l) => l.msg === 'stream refused')).toBe(true);
    }
  });

  it("carries the caller's µ-law to the leg as it came, byte for byte", async () => {
    const h = harness();
    await started(h);
    const tone = new Int16Array(160).map((_, i) => Math.round(8000 * Math.sin(i / 3)));
    const mulaw = encodeG711(tone, 'PCMU');
    h.session.handle(text(media(2, mulaw.toString('base64'))));
    expect(h.leg.heard).toHaveLength(1);
    expect(Buffer.from(h.leg.heard[0]!)).toEqual(Buffer.from(mulaw));
  });

  it('holds caller audio that arrives while the leg opens and gives it to the leg once up', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const leg = new FakeLeg();
    const h = harness({
      openLeg: async () => {
        await gate;
        return leg;
      },
    });
    h.session.handle(text(validStart()));
    h.session.handle(text(media(2)));
    h.session.handle(text(media(3)));
    expect(leg.heard).toHaveLength(0);
    release();
    await flush();
    await flush();
    expect(leg.heard).toHaveLength(2);
  });

  it('skips bad base64 and out-of-order media, logging each, and goes on', async () => {
    const h = harness();
    await started(h);
    h.session.handle(text(media(2)));
    h.session.handle(text(media(3, '***')));
    h.session.handle(text(media(2))); // a duplicate
    h.session.handle(text(media(1))); // late
    h.session.handle('garbage');
    h.session.handle(text({ ...media(4), sequenceNumber: 'four' }));
    h.session.handle(text({ ...media(4), media: { track: 'inbound' } }));
    h.session.handle(text(media(4)));
    expect(h.leg.heard).toHaveLength(2);
    const reasons = h.logs.filter((l) => l.msg === 'stream message skipped').map((l) => l.reason);
    expect(reasons).toEqual([
      'bad_base64',
      'stale_sequence',
      'stale_sequence',
      'not_json',
      'malformed',
      'malformed',
    ]);
    const end = await h.session.closed();
    expect(end).toMatchObject({ framesIn: 2, skipped: 6 });
  });

  it('skips media before start', () => {
    const h = harness();
    h.session.handle(text(media(2)));
    expect(h.logs.find((l) => l.msg === 'stream message skipped')?.reason).toBe('before_start');
  });

  it('passes keypad digits to the leg', async () => {
    const h = harness();
    await started(h);
    h.session.handle(text(fixtures.dtmf));
    h.session.handle(
      text({ ...fixtures.dtmf, sequenceNumber: '6', dtmf: { track: 'inbound_track', digit: '#' } }),
    );
    expect(h.leg.digits).toEqual(['1', '#']);
    h.session.handle(
      text({ ...fixtures.dtmf, sequenceNumber: '7', dtmf: { track: 'x', digit: '12' } }),
    );
    expect(h.leg.digits).toEqual(['1', '#']);
  });

  it("sends the agent's audio as media paced at real time, with a mark after each reply", async () => {
    const h = harness();
    await started(h);
    const loud = new Int16Array(160).fill(3000);
    // 10 frames (200 ms) arrive at once: only LEAD_MS of them go out now.
    for (let i = 0; i < 10; i++) h.events().agentAudio(mu(loud));
    const media = () => h.sent.filter((m) => m['event'] === 'media');
    expect(media()).toHaveLength(LEAD_MS / 20);
    expect(media()[0]).toMatchObject({ streamSid, media: { payload: expect.any(String) } });
    expect(
      Buffer.from((media()[0]!['media'] as { payload: string }).payload, 'base64'),
    ).toHaveLength(160);
    // the rest follows as the clock moves, a frame per 20 ms
    h.clock.now += 20;
    await new Promise((r) => setTimeout(r, 10));
    expect(media()).toHaveLength(LEAD_MS / 20 + 1);
    for (let i = 0; i < 10; i++) {
      h.clock.now += 20;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(media()).toHaveLength(10);
    // a pause between words is not the end of the reply; 300 ms of silence is
    for (let i = 0; i < 5; i++) h.events().agentAudio(mu(new Int16Array(160)));
    h.events().agentAudio(mu(loud));
    for (let i = 0; i < 14; i++) h.events().agentAudio(mu(new Int16Array(160)));
    expect(h.sent.some((m) => m['event'] === 'mark')).toBe(false);
    h.events().agentAudio(mu(new Int16Array(160)));
    // sent after the audio before it, as the clock lets that audio go
    for (let i = 0; i < 30; i++) {
      h.clock.now += 20;
      await new Promise((r) => setTimeout(r, 3));
    }
    const last = h.sent.at(-1)!;
    expect(last).toEqual({ event: 'mark', streamSid, mark: { name: 'reply-1' } });
    expect(h.session.pendingMarks.has('reply-1')).toBe(true);
    // Twilio echoes it once played
    h.session.handle(text(fixtures.mark));
    expect(h.session.pendingMarks.size).toBe(0);
  });

  it('drains a backlog in the pauses: silence is not queued behind audio still waiting', async () => {
    const h = harness();
    await started(h);
    const loud = new Int16Array(160).fill(3000);
    for (let i = 0; i < 6; i++) h.events().agentAudio(mu(loud)); // a burst: 3 frames wait
    for (let i = 0; i < 3; i++) h.events().agentAudio(mu(new Int16Array(160))); // dropped
    for (let i = 0; i < 20; i++) {
      h.clock.now += 20;
      await new Promise((r) => setTimeout(r, 3));
    }
    expect(h.sent.filter((m) => m['event'] === 'media')).toHaveLength(6);
    // with nothing waiting, silence goes out like any audio
    h.events().agentAudio(mu(new Int16Array(160)));
    expect(h.sent.filter((m) => m['event'] === 'media')).toHaveLength(7);
  });

  it('sends clear when the agent cuts its reply, dropping what was queued', async () => {
    const h = harness();
    await started(h);
    for (let i = 0; i < 10; i++) h.events().agentAudio(mu(new Int16Array(160).fill(3000)));
    const before = h.sent.length;
    h.events().clear();
    expect(h.sent.at(-1)).toEqual({ event: 'clear', streamSid });
    h.clock.now += 500;
    await new Promise((r) => setTimeout(r, 20));
    expect(h.sent.length).toBe(before + 1); // the queued frames were dropped
    // the cut reply's frames still on their way are dropped too, a pause between its words
    // included, until the agent's line has been quiet for 200 ms
    const loud = () => h.events().agentAudio(mu(new Int16Array(160).fill(3000)));
    const quiet = (frames: number) => {
      for (let i = 0; i < frames; i++) h.events().agentAudio(mu(new Int16Array(160)));
    };
    loud();
    quiet(5); // 100 ms: a pause within the cut reply
    loud();
    expect(h.sent.length).toBe(before + 1);
    quiet(10); // 200 ms: the cut reply is over (its quiet, between replies, is not sent)
    loud(); // the next reply goes out
    const after = h.sent.slice(before + 1);
    expect(after.filter((m) => m['event'] === 'media')).toHaveLength(1);
  });

  it("sends no silence between replies: from a reply's mark to the next audible frame", async () => {
    const h = harness();
    await started(h);
    const loud = () => h.events().agentAudio(mu(new Int16Array(160).fill(3000)));
    const quiet = (frames: number) => {
      for (let i = 0; i < frames; i++) {
        h.events().agentAudio(mu(new Int16Array(160)));
        h.clock.now += 20;
      }
    };
    const media = () => h.sent.filter((m) => m['event'] === 'media').length;
    quiet(50); // before the first reply (the greeting)
    expect(media()).toBe(0);
    loud();
    h.clock.now += 20;
    quiet(15); // the reply's last 300 ms: sent, then its mark
    expect(media()).toBe(16);
    expect(h.sent.at(-1)).toEqual({ event: 'mark', streamSid, mark: { name: 'reply-1' } });
    quiet(100); // the caller speaks: 2 s of the agent's silence
    expect(media()).toBe(16);
    loud(); // the next reply, at once
    expect(media()).toBe(17);
    expect(h.sent.at(-1)).toMatchObject({ event: 'media' });
  });

  it('ends on stop: the leg closed (the room emptied), the item updated, the lease released', async () => {
    const h = harness();
    await started(h);
    h.session.handle(text(media(2)));
    h.session.handle(text(fixtures.stop));
    const end = await h.session.closed();
    expect(end.reason).toBe('stop');
    expect(h.leg.closed).toBe(1);
    expect(h.closedItems).toEqual([{ reason: 'stop' }]);
    expect(h.released.map((c) => c.callSid)).toEqual([callSid]);
    expect(end.framesIn).toBe(1);
    expect(h.socketClosed).toEqual([{ code: 1000 }]);
  });

  it('ends when the socket drops mid-call, once, whatever comes after', async () => {
    const h = harness();
    await started(h);
    h.session.handle(text(media(2)));
    const [a, b] = await Promise.all([h.session.closed(), h.session.closed()]);
    expect(a).toBe(b);
    expect(a.reason).toBe('socket_closed');
    expect(h.leg.closed).toBe(1);
    expect(h.closedItems).toEqual([{ reason: 'socket_closed' }]);
    h.session.handle(text(media(3)));
    expect(h.leg.heard).toHaveLength(1);
    expect(h.socketClosed).toEqual([]);
  });

  it("sends the caller to people when the agent's leg is lost, then ends", async () => {
    const h = harness();
    await started(h);
    h.events().lost('room_disconnected');
    const end = await h.session.closed();
    expect(end.reason).toBe('leg_lost');
    expect(h.failedOver.map((c) => c.callSid)).toEqual([callSid]);
  });

  it('sends the caller to people when the leg cannot be opened', async () => {
    const h = harness({
      openLeg: async () => {
        throw new Error('livekit down');
      },
    });
    h.session.handle(text(validStart()));
    await flush();
    await flush();
    const end = await h.session.closed();
    expect(end.reason).toBe('leg_failed');
    expect(h.failedOver).toHaveLength(1);
  });

  it('closes a leg that opened after the stream had already stopped', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const leg = new FakeLeg();
    const h = harness({
      openLeg: async () => {
        await gate;
        return leg;
      },
    });
    h.session.handle(text(validStart()));
    h.session.handle(text(fixtures.stop));
    release();
    await flush();
    await flush();
    expect(leg.closed).toBe(1);
  });
});

function signForOtherCall(): string {
  return signCallToken(
    twilioTokenClaims(`CA${'1'.repeat(32)}`, accountSid),
    Date.now() + 60_000,
    SECRET,
  );
}
