import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PresenceMessage, PresenceWatch, type LossCause } from '../../../guard/presence.js';

const A = 'call_+12025550131_a';
const B = 'call_+12025550131_b';

function setUp(opts: { silentAfterMs?: number; reconnectGraceMs?: number } = {}) {
  const clock = { now: 0 };
  const lost: { worker: string; rooms: string[]; cause: LossCause }[] = [];
  const watch = new PresenceWatch({
    onLost: (worker, rooms, cause) => lost.push({ worker, rooms, cause }),
    roomPrefix: 'call_',
    silentAfterMs: opts.silentAfterMs ?? 3000,
    reconnectGraceMs: opts.reconnectGraceMs ?? 1000,
    now: () => clock.now,
  });
  const say = (s: ReturnType<typeof watch.open>, m: unknown) =>
    watch.message(s, PresenceMessage.parse(m));
  return { clock, lost, watch, say };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('PresenceWatch', () => {
  it("ends the worker's call rooms after the grace when its connection closes without a goodbye", () => {
    const t = setUp();
    const s = t.watch.open();
    t.say(s, { t: 'hello', worker: 'w1', rooms: [A, 'dev-room'] });
    t.say(s, { t: 'add', room: B });
    t.watch.closed(s);
    vi.advanceTimersByTime(999);
    expect(t.lost).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(t.lost).toEqual([{ worker: 'w1', rooms: [A, B], cause: 'closed' }]);
  });

  it('leaves the rooms alone when the worker said goodbye before closing', () => {
    const t = setUp();
    const s = t.watch.open();
    t.say(s, { t: 'hello', worker: 'w1', rooms: [A] });
    t.say(s, { t: 'bye' });
    t.watch.closed(s);
    vi.runAllTimers();
    expect(t.lost).toEqual([]);
  });

  it('forgets a room whose job ended', () => {
    const t = setUp();
    const s = t.watch.open();
    t.say(s, { t: 'hello', worker: 'w1', rooms: [A, B] });
    t.say(s, { t: 'remove', room: A });
    t.watch.closed(s);
    vi.runAllTimers();
    expect(t.lost).toEqual([{ worker: 'w1', rooms: [B], cause: 'closed' }]);
  });

  it('does nothing when the same worker connects again within the grace', () => {
    const t = setUp();
    const first = t.watch.open();
    t.say(first, { t: 'hello', worker: 'w1', rooms: [A, B] });
    t.watch.closed(first);
    vi.advanceTimersByTime(500);
    const second = t.watch.open();
    t.say(second, { t: 'hello', worker: 'w1', rooms: [B] });
    vi.runAllTimers();
    expect(t.lost).toEqual([]);
    // The new connection's rooms are the ones that count from now on.
    t.watch.closed(second);
    vi.runAllTimers();
    expect(t.lost).toEqual([{ worker: 'w1', rooms: [B], cause: 'closed' }]);
  });

  it('replaces a half-open connection of the same worker without acting on it', () => {
    const t = setUp();
    const old = t.watch.open();
    t.say(old, { t: 'hello', worker: 'w1', rooms: [A] });
    const fresh = t.watch.open();
    expect(t.say(fresh, { t: 'hello', worker: 'w1', rooms: [A] })).toBe(old);
    t.watch.closed(old);
    t.clock.now += 10_000;
    t.say(fresh, { t: 'ping' });
    expect(t.watch.silent()).toEqual([]);
    vi.runAllTimers();
    expect(t.lost).toEqual([]);
  });

  it('loses a worker at once when its pings stop for the limit', () => {
    const t = setUp();
    const s = t.watch.open();
    t.say(s, { t: 'hello', worker: 'w1', rooms: [A] });
    t.clock.now += 2000;
    t.say(s, { t: 'ping' });
    t.clock.now += 3000;
    expect(t.watch.silent()).toEqual([]);
    t.clock.now += 1;
    expect(t.watch.silent()).toEqual([s]);
    expect(t.lost).toEqual([{ worker: 'w1', rooms: [A], cause: 'silent' }]);
    // Its socket closing afterwards changes nothing.
    t.watch.closed(s);
    vi.runAllTimers();
    expect(t.lost).toHaveLength(1);
  });

  it('acts on nothing after it is closed (the guard is the one stopping)', () => {
    const t = setUp();
    const s = t.watch.open();
    t.say(s, { t: 'hello', worker: 'w1', rooms: [A] });
    t.watch.close();
    t.watch.closed(s);
    vi.runAllTimers();
    expect(t.lost).toEqual([]);
  });

  it('ignores messages of a connection that never said hello', () => {
    const t = setUp();
    const s = t.watch.open();
    t.say(s, { t: 'add', room: A });
    t.watch.closed(s);
    vi.runAllTimers();
    expect(t.lost).toEqual([]);
  });

  it('refuses malformed messages at the edge', () => {
    expect(PresenceMessage.safeParse({ t: 'hello', worker: 'a b', rooms: [] }).success).toBe(false);
    expect(PresenceMessage.safeParse({ t: 'add', room: '' }).success).toBe(false);
    const many = Array.from({ length: 257 }, (_, i) => `call_${i}`);
    expect(PresenceMessage.safeParse({ t: 'hello', worker: 'w', rooms: many }).success).toBe(false);
  });
});
