// The caller's line lost without a BYE (livekit-sip killed): agent/media-watch.ts reads the room's
// inbound audio packets and, when they stop growing while the room is connected and the caller is
// in it, has the agent send the caller to a person (`line_lost`), once. The same when the agent's
// own connection to LiveKit stays out (livekit-server crashed). The statistics here are a fake
// counter; the lab's run is test/e2e/guard-recovery.test.ts.
import { EventEmitter } from 'node:events';
import {
  ConnectionState,
  ParticipantKind,
  RoomEvent,
  TrackKind,
  type RemoteParticipant,
  type RemoteTrack,
} from '@livekit/rtc-node';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CallControl, CallUpdateRequest } from '../../../agent/call-control.js';
import {
  MEDIA_LOST_AFTER_MS,
  MEDIA_POLL_MS,
  MediaWatch,
  OUTAGE_LOST_AFTER_MS,
  type LineLost,
  type MediaWatchedRoom,
  inboundAudioPackets,
  watchCallerMedia,
} from '../../../agent/media-watch.js';

const CALLER = 'sip_caller';
const caller = { identity: CALLER, kind: ParticipantKind.SIP } as RemoteParticipant;
const supervisor = { identity: 'console-sup', kind: ParticipantKind.STANDARD } as RemoteParticipant;
const audio = { kind: TrackKind.KIND_AUDIO } as RemoteTrack;
const video = { kind: TrackKind.KIND_VIDEO } as RemoteTrack;

class FakeRoom extends EventEmitter {
  connectionState = ConnectionState.CONN_CONNECTED;
  remoteParticipants = new Map<string, unknown>();
}

/** The packets livekit-sip sends: 50 a second while `flowing`. */
class FakeLine {
  packets = 0;
  flowing = true;
  failing = false;
  /** How long a reading takes: a process starved of CPU answers late. */
  delayMs = 0;
  reads = 0;
  private timer = setInterval(() => {
    if (this.flowing) this.packets += 1;
  }, 20);
  read = async (): Promise<number | undefined> => {
    this.reads += 1;
    if (this.failing) throw new Error('getRtcStats requires a connected room');
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    return this.packets;
  };
  close() {
    clearInterval(this.timer);
  }
}

function logCapture() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) },
  );
  return { logger, lines };
}

/** The caller in the room's participants, its audio subscribed. */
function subscribeCaller(room: FakeRoom) {
  room.remoteParticipants.set(CALLER, {
    ...caller,
    trackPublications: new Map([
      ['TR_1', { kind: TrackKind.KIND_AUDIO, subscribed: true, track: audio }],
    ]),
  });
}

function watched(opts: { subscribedAtStart?: boolean; outageAfterMs?: number } = {}) {
  const room = new FakeRoom();
  if (opts.subscribedAtStart) subscribeCaller(room);
  const line = new FakeLine();
  const lost: number[] = [];
  const kinds: LineLost['kind'][] = [];
  const { logger, lines } = logCapture();
  const watch = new MediaWatch({
    room: room as unknown as MediaWatchedRoom,
    callerIdentity: CALLER,
    packets: line.read,
    onLost: (l) => (lost.push(l.ms), kinds.push(l.kind)),
    logger,
    ...(opts.outageAfterMs !== undefined ? { outageAfterMs: opts.outageAfterMs } : {}),
  });
  return {
    room,
    line,
    lost,
    kinds,
    watch,
    lines,
    /** The agent subscribes to `p`'s track: the room says so, and lists it from then on. */
    subscribed: (p: RemoteParticipant = caller, track = audio) => {
      if (p === caller && track === audio) subscribeCaller(room);
      room.emit(RoomEvent.TrackSubscribed, track, {}, p);
    },
    reconnecting: () => {
      room.connectionState = ConnectionState.CONN_RECONNECTING;
      room.emit(RoomEvent.Reconnecting);
    },
    reconnected: () => {
      room.connectionState = ConnectionState.CONN_CONNECTED;
      room.emit(RoomEvent.Reconnected);
    },
    /** rtc-node's full reconnection: every participant reported gone, then `Reconnecting`. */
    restarting: () => {
      room.remoteParticipants.delete(CALLER);
      room.emit(RoomEvent.ParticipantDisconnected, caller);
      room.connectionState = ConnectionState.CONN_RECONNECTING;
      room.emit(RoomEvent.Reconnecting);
    },
  };
}

const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);

describe('MediaWatch', () => {
  let w: ReturnType<typeof watched>;
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => {
    w?.line.close();
    w?.watch.stop();
    vi.useRealTimers();
  });

  it('is quiet while the packets grow, however long the caller says nothing', async () => {
    w = watched();
    w.subscribed();
    w.watch.start();
    await advance(30_000);
    expect(w.lost).toEqual([]);
    expect(w.line.reads).toBeGreaterThan(30_000 / MEDIA_POLL_MS - 2);
  });

  it('tells once when the packets stop for the threshold, not before', async () => {
    w = watched();
    w.subscribed();
    w.watch.start();
    await advance(2000);
    w.line.flowing = false;
    await advance(MEDIA_LOST_AFTER_MS - MEDIA_POLL_MS);
    expect(w.lost).toEqual([]);
    await advance(2 * MEDIA_POLL_MS);
    expect(w.lost).toHaveLength(1);
    expect(w.lost[0]).toBeGreaterThanOrEqual(MEDIA_LOST_AFTER_MS);
    const reads = w.line.reads;
    await advance(10_000);
    expect(w.lost).toHaveLength(1);
    expect(w.line.reads).toBe(reads); // it stopped reading
  });

  it('lets a stall shorter than the threshold pass', async () => {
    w = watched();
    w.subscribed();
    w.watch.start();
    await advance(1000);
    w.line.flowing = false;
    await advance(MEDIA_LOST_AFTER_MS - 2 * MEDIA_POLL_MS);
    w.line.flowing = true;
    await advance(5000);
    expect(w.lost).toEqual([]);
  });

  it("reads nothing before the call's answer nor before the caller's audio is subscribed", async () => {
    w = watched();
    w.line.flowing = false;
    w.subscribed();
    await advance(5000); // not started: not answered yet
    w.watch.stop();
    expect(w.line.reads).toBe(0);

    w.line.close();
    w = watched();
    w.line.flowing = false;
    w.watch.start();
    w.subscribed(supervisor); // someone else's audio
    w.subscribed(caller, video);
    await advance(5000);
    expect(w.line.reads).toBe(0);
    expect(w.lost).toEqual([]);
  });

  it('counts a stall only once the packets have grown since it was armed', async () => {
    w = watched();
    w.line.flowing = false;
    w.subscribed();
    w.watch.start();
    await advance(10_000);
    expect(w.lost).toEqual([]);
    w.line.flowing = true;
    await advance(500);
    w.line.flowing = false;
    await advance(MEDIA_LOST_AFTER_MS + MEDIA_POLL_MS);
    expect(w.lost).toHaveLength(1);
  });

  it('takes a caller already subscribed when it is made', async () => {
    w = watched({ subscribedAtStart: true });
    w.watch.start();
    await advance(1000);
    w.line.flowing = false;
    await advance(MEDIA_LOST_AFTER_MS + MEDIA_POLL_MS);
    expect(w.lost).toHaveLength(1);
  });

  it("reads nothing while the agent's own room reconnects, and starts afresh after it", async () => {
    w = watched({ outageAfterMs: 0 });
    w.subscribed();
    w.watch.start();
    await advance(1000);
    w.restarting();
    w.line.flowing = false;
    await advance(10_000);
    expect(w.lost).toEqual([]);
    // Connected again, the caller's new track not yet subscribed: still nothing read.
    const reads = w.line.reads;
    w.reconnected();
    await advance(5000);
    expect(w.line.reads).toBe(reads);
    // A new peer connection: its counters start from zero, which is no stall.
    w.line.packets = 0;
    w.line.flowing = true;
    w.subscribed();
    await advance(5000);
    expect(w.lost).toEqual([]);
    w.line.flowing = false;
    await advance(MEDIA_LOST_AFTER_MS + MEDIA_POLL_MS);
    expect(w.lost).toHaveLength(1);
  });

  it('never throws when the statistics fail, logs it once, and counts no stall from it', async () => {
    w = watched();
    w.subscribed();
    w.watch.start();
    await advance(1000);
    w.line.failing = true;
    w.line.flowing = false;
    await advance(10_000);
    expect(w.lost).toEqual([]);
    expect(w.lines.filter((l) => l['msg'] === 'media watch: no statistics')).toHaveLength(1);
    // The statistics back, the line alive: nothing; then dead: told.
    w.line.failing = false;
    w.line.flowing = true;
    await advance(1000);
    expect(w.lost).toEqual([]);
    w.line.flowing = false;
    await advance(MEDIA_LOST_AFTER_MS + MEDIA_POLL_MS);
    expect(w.lost).toHaveLength(1);
  });

  it('counts no stall when there is no inbound audio stream', async () => {
    w = watched();
    w.subscribed();
    w.watch.start();
    w.line.read = async () => undefined;
    await advance(10_000);
    expect(w.lost).toEqual([]);
  });

  it('reads nothing once the caller left, and ends when the room is gone', async () => {
    w = watched();
    w.subscribed();
    w.watch.start();
    await advance(1000);
    w.room.remoteParticipants.delete(CALLER);
    w.room.emit(RoomEvent.ParticipantDisconnected, caller);
    w.line.flowing = false;
    const reads = w.line.reads;
    await advance(10_000);
    expect(w.lost).toEqual([]);
    expect(w.line.reads).toBe(reads);
    // The job ends with the call: the room disconnected, no outage under way, nothing told.
    w.room.connectionState = ConnectionState.CONN_DISCONNECTED;
    w.room.emit(RoomEvent.Disconnected);
    await advance(10_000);
    expect(w.lost).toEqual([]);
    expect(w.room.listenerCount(RoomEvent.TrackSubscribed)).toBe(0);
  });

  it('pauses while a call update is in flight, ends once one was sent, and goes on after a failed one', async () => {
    w = watched();
    w.subscribed();
    w.watch.start();
    let settle: (ok: boolean) => void = () => {};
    const sent: CallUpdateRequest[] = [];
    const control: CallControl = {
      update: (u) =>
        new Promise((resolve, reject) => {
          sent.push(u);
          settle = (ok) => (ok ? resolve() : reject(new Error('throttled')));
        }),
    };
    const watchedControl = w.watch.watch(control)!;
    await advance(1000);
    // A transfer that fails: while it is in flight the line may go quiet (the SMA is hanging up
    // LEG-B); nothing is told. Once it failed, the watch goes on.
    const failed = watchedControl.update({
      action: 'transfer',
      queue: 'general',
      reason: 'caller_asked',
      requestedAt: 1,
    });
    w.line.flowing = false;
    await advance(5000);
    expect(w.lost).toEqual([]);
    settle(false);
    await expect(failed).rejects.toThrow('throttled');
    w.line.flowing = true;
    await advance(1000);
    w.line.flowing = false;
    await advance(MEDIA_LOST_AFTER_MS + MEDIA_POLL_MS);
    expect(w.lost).toHaveLength(1);

    // Another call: a hang-up sent ends the watch.
    w.line.close();
    w = watched();
    w.subscribed();
    w.watch.start();
    const c2 = w.watch.watch(control)!;
    await advance(1000);
    const hangup = c2.update({ action: 'hangup', reason: 'caller_done', requestedAt: 1 });
    settle(true);
    await hangup;
    w.line.flowing = false;
    await advance(10_000);
    expect(w.lost).toEqual([]);
  });

  describe("the agent's own connection out", () => {
    it('tells once, as an outage, when the connection has not come back within the threshold', async () => {
      w = watched({ subscribedAtStart: true });
      w.watch.start();
      await advance(1000);
      w.reconnecting();
      w.line.flowing = false;
      await advance(OUTAGE_LOST_AFTER_MS - 100);
      expect(w.lost).toEqual([]);
      await advance(200);
      expect(w.kinds).toEqual(['outage']);
      expect(w.lost[0]).toBeGreaterThanOrEqual(OUTAGE_LOST_AFTER_MS);
      // Connected again later: nothing more, and nothing read (the watch has ended).
      const reads = w.line.reads;
      w.reconnected();
      w.subscribed();
      w.line.flowing = true;
      await advance(10_000);
      expect(w.lost).toHaveLength(1);
      expect(w.line.reads).toBe(reads);
    });

    it("counts rtc-node's full reconnection (the caller reported gone first) as one outage", async () => {
      w = watched({ subscribedAtStart: true });
      w.watch.start();
      await advance(1000);
      w.restarting();
      await advance(OUTAGE_LOST_AFTER_MS / 2);
      w.reconnected(); // connected, the caller not back yet: the outage goes on
      await advance(OUTAGE_LOST_AFTER_MS / 2 + 100);
      expect(w.kinds).toEqual(['outage']);
    });

    it('keeps the call when the caller is heard again in time, and watches the line from there', async () => {
      w = watched({ subscribedAtStart: true });
      w.watch.start();
      await advance(1000);
      w.restarting();
      await advance(OUTAGE_LOST_AFTER_MS - 500);
      w.reconnected();
      w.line.packets = 0; // a new peer connection's counters
      w.subscribed();
      await advance(10_000);
      expect(w.lost).toEqual([]);
      // The outage is over for good: a second, short one is judged from its own start.
      w.reconnecting();
      await advance(OUTAGE_LOST_AFTER_MS - 500);
      w.reconnected();
      w.subscribed();
      await advance(5000);
      expect(w.lost).toEqual([]);
      w.line.flowing = false;
      await advance(MEDIA_LOST_AFTER_MS + MEDIA_POLL_MS);
      expect(w.kinds).toEqual(['stalled']);
    });

    it('takes a resumed connection, which keeps its subscriptions, as the line back', async () => {
      w = watched({ subscribedAtStart: true });
      w.watch.start();
      await advance(1000);
      w.reconnecting();
      await advance(500);
      w.reconnected(); // no new TrackSubscribed: the caller's track is still listed as subscribed
      await advance(10_000);
      expect(w.lost).toEqual([]);
      expect(w.line.reads).toBeGreaterThan(0);
    });

    it('loses the line at once when the room gives up during an outage', async () => {
      w = watched({ subscribedAtStart: true });
      w.watch.start();
      await advance(1000);
      w.reconnecting();
      await advance(300);
      w.room.connectionState = ConnectionState.CONN_DISCONNECTED;
      w.room.emit(RoomEvent.Disconnected);
      expect(w.kinds).toEqual(['outage']);
      expect(w.lost[0]).toBeGreaterThanOrEqual(300);
    });

    it('leaves an outage to a call update in flight, and goes on with it if the update fails', async () => {
      w = watched({ subscribedAtStart: true });
      w.watch.start();
      let fail: () => void = () => {};
      const control = w.watch.watch({
        update: () => new Promise((_resolve, reject) => (fail = () => reject(new Error('5xx')))),
      })!;
      await advance(1000);
      const update = control.update({
        action: 'transfer',
        queue: 'general',
        reason: 'caller_asked',
        requestedAt: 1,
      });
      w.reconnecting();
      await advance(OUTAGE_LOST_AFTER_MS + 1000);
      expect(w.lost).toEqual([]);
      fail();
      await expect(update).rejects.toThrow('5xx');
      await advance(0);
      // Already longer than the threshold: lost as soon as the update is known to have failed.
      expect(w.kinds).toEqual(['outage']);
      expect(w.lost[0]).toBeGreaterThanOrEqual(OUTAGE_LOST_AFTER_MS + 1000);
    });

    it('waits for the line however long when the outage is not watched (0)', async () => {
      w = watched({ subscribedAtStart: true, outageAfterMs: 0 });
      w.watch.start();
      await advance(1000);
      w.restarting();
      await advance(60_000);
      w.room.connectionState = ConnectionState.CONN_DISCONNECTED;
      w.room.emit(RoomEvent.Disconnected);
      expect(w.lost).toEqual([]);
    });
  });
});

describe('MediaWatch on a starved process', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('judges a stall only on readings taken on time: late ones start its clock over', async () => {
    const w = watched({ subscribedAtStart: true });
    try {
      w.watch.start();
      await advance(1000);
      // The line goes quiet while every reading comes 600 ms late: nothing is judged.
      w.line.flowing = false;
      w.line.delayMs = 600;
      await advance(5000);
      expect(w.lost).toEqual([]);
      // The process catches up and the line is still dead: lost after the stall, on time.
      w.line.delayMs = 0;
      await advance(MEDIA_LOST_AFTER_MS - MEDIA_POLL_MS);
      expect(w.lost).toEqual([]);
      await advance(3 * MEDIA_POLL_MS);
      expect(w.lost).toHaveLength(1);
    } finally {
      w.line.close();
      w.watch.stop();
    }
  });
});

describe('watchCallerMedia', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());
  const settings = { lostAfterMs: MEDIA_LOST_AFTER_MS, outageAfterMs: OUTAGE_LOST_AFTER_MS };

  /** The call answered with the caller's audio subscribed; the updates its control was sent. */
  function answered(watch: MediaWatch, room: FakeRoom): CallUpdateRequest[] {
    const sent: CallUpdateRequest[] = [];
    watch.watch({ update: async (u) => void sent.push(u) });
    subscribeCaller(room);
    watch.start();
    return sent;
  }

  function statsOf(packets: number) {
    return {
      publisherStats: [
        {
          stats: {
            case: 'inboundRtp',
            value: { stream: { kind: 'audio' }, received: { packetsReceived: BigInt(packets) } },
          },
        },
      ],
      subscriberStats: [],
    };
  }

  it('sends the caller to the default queue with line_lost, once, through the watched control, then leaves', async () => {
    const room = Object.assign(new FakeRoom(), {
      packets: 0,
      getRtcStats: async () => statsOf(room.packets),
    });
    const { logger, lines } = logCapture();
    const call = { useCase: { defaultQueue: 'general' }, traceparent: '00-abc-def-01' };
    const leave = vi.fn();
    const watch = watchCallerMedia(room as never, caller, call, { logger, settings, leave })!;
    const sent = answered(watch, room);
    const flow = setInterval(() => (room.packets += 1), 20);
    await advance(2000);
    clearInterval(flow);
    await advance(MEDIA_LOST_AFTER_MS + 2 * MEDIA_POLL_MS);
    expect(sent).toEqual([
      {
        action: 'transfer',
        queue: 'general',
        reason: 'line_lost',
        requestedAt: expect.any(Number) as number,
        traceparent: '00-abc-def-01',
      },
    ]);
    expect(lines.some((l) => l['reason'] === 'line_lost' && Number(l['stalledMs']) > 0)).toBe(true);
    expect(leave).toHaveBeenCalledTimes(1);
    await advance(10_000);
    expect(sent).toHaveLength(1);
  });

  it("sends the caller on when the agent's connection stays out, saying which it was", async () => {
    const room = Object.assign(new FakeRoom(), { getRtcStats: async () => statsOf(0) });
    const { logger, lines } = logCapture();
    const call = { useCase: { defaultQueue: 'general' }, traceparent: undefined };
    const leave = vi.fn();
    const watch = watchCallerMedia(room as never, caller, call, {
      logger,
      settings: { lostAfterMs: 0, outageAfterMs: 3000 },
      leave,
    })!;
    const sent = answered(watch, room);
    room.connectionState = ConnectionState.CONN_RECONNECTING;
    room.emit(RoomEvent.Reconnecting);
    await advance(2900);
    expect(sent).toEqual([]);
    await advance(200);
    expect(sent).toEqual([expect.objectContaining({ action: 'transfer', reason: 'line_lost' })]);
    const line = lines.find((l) => l['reason'] === 'line_lost')!;
    expect(line['outageMs']).toBeGreaterThanOrEqual(3000);
    expect(line['msg']).toBe('the connection to LiveKit did not come back: line lost');
    expect(leave).toHaveBeenCalledTimes(1);
  });

  it('logs a transfer that failed, and throws nothing into the call', async () => {
    const room = Object.assign(new FakeRoom(), {
      packets: 0,
      getRtcStats: async () => statsOf(room.packets),
    });
    const { logger, lines } = logCapture();
    const leave = vi.fn();
    const watch = watchCallerMedia(
      room as never,
      caller,
      { useCase: { defaultQueue: 'general' }, traceparent: undefined },
      { logger, settings, leave },
    )!;
    watch.watch({ update: () => Promise.reject(new Error('Chime unreachable')) });
    subscribeCaller(room);
    watch.start();
    const flow = setInterval(() => (room.packets += 1), 20);
    await advance(1000);
    clearInterval(flow);
    await advance(MEDIA_LOST_AFTER_MS + 2 * MEDIA_POLL_MS);
    expect(lines.some((l) => l['msg'] === 'transfer after the line was lost failed')).toBe(true);
    expect(leave).not.toHaveBeenCalled(); // the caller is still the agent's
  });

  it('waits the stall it is given, and watches nothing when both are 0 (LINE_LOST_AFTER_MS and LINE_OUTAGE_AFTER_MS off)', async () => {
    const room = Object.assign(new FakeRoom(), {
      packets: 0,
      getRtcStats: async () => statsOf(room.packets),
    });
    const call = { useCase: { defaultQueue: 'general' }, traceparent: undefined };
    const logger = pino({ level: 'silent' });
    const leave = () => {};
    const off = { lostAfterMs: 0, outageAfterMs: 0 };
    expect(watchCallerMedia(room as never, caller, call, { logger, settings: off, leave })).toBe(
      undefined,
    );
    const watch = watchCallerMedia(room as never, caller, call, {
      logger,
      settings: { lostAfterMs: 4000, outageAfterMs: 0 },
      leave,
    })!;
    const sent = answered(watch, room);
    const flow = setInterval(() => (room.packets += 1), 20);
    await advance(1000);
    clearInterval(flow);
    await advance(3000); // a silence-suppressing leg's pause: longer than the default, not lost
    expect(sent).toEqual([]);
    await advance(1000 + 2 * MEDIA_POLL_MS);
    expect(sent).toEqual([expect.objectContaining({ reason: 'line_lost' })]);
  });

  it('watches phone calls only: a dev room participant has no line to lose', () => {
    const dev = { identity: 'dev', kind: ParticipantKind.STANDARD } as RemoteParticipant;
    const room = Object.assign(new FakeRoom(), { getRtcStats: async () => statsOf(0) });
    const call = { useCase: { defaultQueue: 'general' }, traceparent: undefined };
    const opts = { logger: pino({ level: 'silent' }), settings, leave: () => {} };
    expect(watchCallerMedia(room as never, dev, call, opts)).toBeUndefined();
  });
});

describe('inboundAudioPackets', () => {
  const entry = (c: string, value: unknown) => ({ stats: { case: c, value } });
  it("sums the inbound audio streams of both peer connections, leaving out video and the agent's own", () => {
    const audioIn = (n: number) =>
      entry('inboundRtp', { stream: { kind: 'audio' }, received: { packetsReceived: BigInt(n) } });
    expect(
      inboundAudioPackets({
        publisherStats: [
          audioIn(508),
          entry('inboundRtp', { stream: { kind: 'video' }, received: { packetsReceived: 90n } }),
          entry('outboundRtp', { stream: { kind: 'audio' }, sent: { packetsSent: 700n } }),
          entry('codec', {}),
        ],
        subscriberStats: [audioIn(12)],
      }),
    ).toBe(520);
  });

  it('is undefined without an inbound audio stream', () => {
    expect(
      inboundAudioPackets({ publisherStats: [entry('transport', {})], subscriberStats: [] }),
    ).toBeUndefined();
  });
});
