import type { LocalParticipant } from '@livekit/rtc-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { holdPublications } from '../../../agent/publish-hold.js';

/** A participant whose publishTrack records what went out, and when. */
class FakeParticipant {
  published: string[] = [];
  async publishTrack(track: unknown): Promise<{ track: unknown }> {
    this.published.push(String(track));
    return { track };
  }
}

const asLocal = (p: FakeParticipant) => p as unknown as LocalParticipant;
const publish = (p: FakeParticipant, name: string) =>
  asLocal(p).publishTrack(name as never, {} as never);
const settle = () => new Promise((r) => setImmediate(r));

afterEach(() => {
  vi.useRealTimers();
});

describe('holdPublications', () => {
  it('lets a publication out only once released, with what it was given, in order', async () => {
    const p = new FakeParticipant();
    const hold = holdPublications(asLocal(p), 3000);
    const first = publish(p, 'audio');
    const second = publish(p, 'video');
    await settle();
    expect(p.published).toEqual([]);
    hold.release();
    await expect(first).resolves.toEqual({ track: 'audio' });
    await expect(second).resolves.toEqual({ track: 'video' });
    expect(p.published).toEqual(['audio', 'video']);
  });

  it('gives the participant its own publishTrack back, so later publications go straight out', async () => {
    const p = new FakeParticipant();
    const own = p.publishTrack;
    const hold = holdPublications(asLocal(p), 3000);
    expect(p.publishTrack).not.toBe(own);
    hold.release();
    hold.release(); // twice is harmless
    expect(p.publishTrack).toBe(own);
    await publish(p, 'audio');
    expect(p.published).toEqual(['audio']);
  });

  it('releases by itself after maxMs, so a setup that never finishes does not keep the call ringing', async () => {
    vi.useFakeTimers();
    const p = new FakeParticipant();
    holdPublications(asLocal(p), 3000);
    const out = publish(p, 'audio');
    await vi.advanceTimersByTimeAsync(2999);
    expect(p.published).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await expect(out).resolves.toEqual({ track: 'audio' });
  });

  it('passes a failed publication on to its caller', async () => {
    const p = new FakeParticipant();
    p.publishTrack = () => Promise.reject(new Error('engine: not connected'));
    const hold = holdPublications(asLocal(p), 3000);
    const out = publish(p, 'audio');
    hold.release();
    await expect(out).rejects.toThrow('not connected');
  });
});
