// The soak's trend: growth from the first sample to the last, and the least-squares slope.
import { describe, expect, it } from 'vitest';
import { slopePerMs, trendOf } from '../../../scripts/bench/soak/trend.js';

const min = (m: number) => m * 60_000;

describe('slopePerMs', () => {
  it('is the rate of a line the samples lie on', () => {
    const points = [0, 1, 2, 3].map((m) => ({ atMs: min(m), value: 100 + 2 * m }));
    expect(slopePerMs(points)! * min(10)).toBeCloseTo(20, 9);
  });

  it('follows the line through the samples, unmoved by a spike in the middle of the run', () => {
    // +1 per minute, one sample 7 above the line.
    const values = [100, 101, 109, 103, 104];
    const slope = slopePerMs(values.map((value, m) => ({ atMs: min(m), value })))!;
    expect(slope * min(1)).toBeCloseTo(1, 9);
  });

  it('weighs every sample, not only the first and the last', () => {
    // first → last says no growth; the samples between say it grew and fell back.
    const values = [100, 104, 108, 112, 100];
    const slope = slopePerMs(values.map((value, m) => ({ atMs: min(m), value })))!;
    expect(slope * min(1)).toBeCloseTo(0.8, 9);
  });

  it('is null with one sample, or samples all taken at one time', () => {
    expect(slopePerMs([{ atMs: 0, value: 1 }])).toBeNull();
    expect(
      slopePerMs([
        { atMs: 5, value: 1 },
        { atMs: 5, value: 3 },
      ]),
    ).toBeNull();
  });
});

describe('trendOf', () => {
  it('gives growth first → last, minutes between them and the slope per 10 minutes', () => {
    const t = trendOf([
      { atMs: min(1), value: 300 },
      { atMs: min(6), value: 305 },
      { atMs: min(11), value: 310 },
    ]);
    expect(t).toMatchObject({ minutes: 10, first: 300, last: 310, growth: 10 });
    expect(t!.per10Min).toBeCloseTo(10, 9);
  });

  it('reports no growth and no slope for a flat figure, and nothing without samples', () => {
    const t = trendOf([0, 1, 2].map((m) => ({ atMs: min(m), value: 42 })));
    expect(t).toMatchObject({ growth: 0, per10Min: 0 });
    expect(trendOf([])).toBeNull();
  });
});
