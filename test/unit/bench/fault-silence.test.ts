// The fault matrix's silence watch (scripts/bench/faults/silence-watch.ts): the longest gap at
// the caller's ear from the fault on, and apart from it the longest gap that began near the fault
// (the fault's own), so a slow reply later in the scripted conversation is not taken for the
// fault's silence.
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { CallRun } from '../../../lab/caller/call-run.js';
import type { Voice } from '../../../lab/chime/voice-connector-media.js';
import { NEAR_FAULT_MS, SilenceWatch } from '../../../scripts/bench/faults/silence-watch.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A caller's line whose ear hears `voice` in 20 ms frames over each [from, to) (ms). */
function line(speech: [number, number, Voice][]): CallRun {
  const frames: { at: number; from: Voice }[] = [];
  for (const [from, to, voice] of speech)
    for (let at = from; at < to; at += 20) frames.push({ at, from: voice });
  const heard = () => frames.filter((f) => f.at <= performance.now());
  const media = {
    audibleMsSince: (since: number, who: readonly Voice[]) =>
      heard().filter((f) => f.at >= since && who.includes(f.from)).length * 20,
    lastAudibleAt: () => heard().at(-1)?.at,
  };
  return { media, timeline: [], endedAt: undefined } as unknown as CallRun;
}

it('keeps the gap that began near the fault apart from a longer one later in the call', async () => {
  const t0 = performance.now();
  const faultAt = t0 + 1000;
  const run = line([
    [t0, t0 + 2000, 'agent'], // the agent speaks through the fault
    [t0 + 5000, t0 + 12_000, 'agent'], // 3 s after it: the line back
    [t0 + 20_000, t0 + 21_000, 'agent'], // a slow reply, begun 11 s after the fault
  ]);
  const watch = new SilenceWatch(run, faultAt, new Map());
  await vi.advanceTimersByTimeAsync(22_000);
  watch.finish();
  expect(NEAR_FAULT_MS).toBe(10_000);
  expect(watch.nearFault).toMatchObject({ after: 'agent', until: 'agent' });
  expect(watch.nearFaultMs).toBeGreaterThanOrEqual(2900);
  expect(watch.nearFaultMs).toBeLessThanOrEqual(3100);
  expect(watch.longest?.startMs).toBeGreaterThan(NEAR_FAULT_MS);
  expect(watch.longestMs).toBeGreaterThanOrEqual(7900);
  expect(watch.longestMs).toBeLessThanOrEqual(8100);
});

it('counts the gap from the fault itself when the line dies with it', async () => {
  const t0 = performance.now();
  const run = line([
    [t0, t0 + 1000, 'agent'],
    [t0 + 7000, t0 + 8000, 'chime'],
  ]);
  const watch = new SilenceWatch(run, t0 + 1000, new Map());
  await vi.advanceTimersByTimeAsync(9000);
  watch.finish();
  expect(watch.nearFault).toMatchObject({ until: 'chime' });
  expect(watch.nearFaultMs).toBe(watch.longestMs);
  expect(watch.nearFaultMs).toBeGreaterThanOrEqual(5900);
});
