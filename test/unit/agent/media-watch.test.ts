// The caller's line lost without a BYE (livekit-sip killed): agent/media-watch.ts reads the room's
// inbound audio packets and, when they stop growing while the room is connected and the caller is
// in it, has the agent send the caller to a person (`line_lost`), once. The statistics here are a
// fake counter; the lab's run is test/e2e/guard-recovery.test.ts.
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

function watched(opts: { subscribedAtStart?: boolean } = {}) {
  const room = new FakeRoom();
  if (opts.subscribedAtStart) subscribeCaller(room);
  const line = new FakeLine();
  const lost: number[] = [];
  const { logger, lines } = logCapture();
  const watch = new MediaWatch({
    room: room as unknown as MediaWatchedRoom,
    callerIdentity: CALLER,
    packets: line.read,
    onLost: (ms) => lost.push(ms),
    logger,
  });
  return {
    room,
    line,
    lost,
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

  it("is quiet while the agent's own room reconnects, and starts afresh after it", async () => {
    w = watched();
    w.subscribed();
    w.watch.start();
    await advance(1000);
    w.reconnecting();
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

  it('ends when the caller leaves or the room is gone', async () => {
    w = watched();
    w.subscribed();
    w.watch.start();
    await advance(1000);
    w.room.emit(RoomEvent.ParticipantDisconnected, caller);
    w.line.flowing = false;
    const reads = w.line.reads;
    await advance(10_000);
    expect(w.lost).toEqual([]);
    expect(w.line.reads).toBe(reads);
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

  it('sends the caller to the default queue with line_lost, once, through the watched control', async () => {
    const room = Object.assign(new FakeRoom(), {
      packets: 0,
      getRtcStats: async () => statsOf(room.packets),
    });
    const { logger, lines } = logCapture();
    const call = { useCase: { defaultQueue: 'general' }, traceparent: '00-abc-def-01' };
    const watch = watchCallerMedia(room as never, caller, call, logger)!;
    const sent: CallUpdateRequest[] = [];
    watch.watch({ update: async (u) => void sent.push(u) });
    subscribeCaller(room);
    watch.start();
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
    expect(lines.some((l) => l['reason'] === 'line_lost')).toBe(true);
    await advance(10_000);
    expect(sent).toHaveLength(1);
  });

  it('logs a transfer that failed, and throws nothing into the call', async () => {
    const room = Object.assign(new FakeRoom(), {
      packets: 0,
      getRtcStats: async () => statsOf(room.packets),
    });
    const { logger, lines } = logCapture();
    const watch = watchCallerMedia(
      room as never,
      caller,
      { useCase: { defaultQueue: 'general' }, traceparent: undefined },
      logger,
    )!;
    watch.watch({ update: () => Promise.reject(new Error('Chime unreachable')) });
    subscribeCaller(room);
    watch.start();
    const flow = setInterval(() => (room.packets += 1), 20);
    await advance(1000);
    clearInterval(flow);
    await advance(MEDIA_LOST_AFTER_MS + 2 * MEDIA_POLL_MS);
    expect(lines.some((l) => l['msg'] === 'transfer after the line was lost failed')).toBe(true);
  });

  it('waits the stall it is given, and watches nothing when given 0 (LINE_LOST_AFTER_MS off)', async () => {
    const room = Object.assign(new FakeRoom(), {
      packets: 0,
      getRtcStats: async () => statsOf(room.packets),
    });
    const call = { useCase: { defaultQueue: 'general' }, traceparent: undefined };
    const quiet = pino({ level: 'silent' });
    expect(watchCallerMedia(room as never, caller, call, quiet, 0)).toBeUndefined();
    const watch = watchCallerMedia(room as never, caller, call, quiet, 4000)!;
    const sent: CallUpdateRequest[] = [];
    watch.watch({ update: async (u) => void sent.push(u) });
    subscribeCaller(room);
    watch.start();
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
    expect(watchCallerMedia(room as never, dev, call, pino({ level: 'silent' }))).toBeUndefined();
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
