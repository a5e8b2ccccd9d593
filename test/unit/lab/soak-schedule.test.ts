// When the soak samples and reports: from the end of the warm-up, every 30 s, a report at the
// first sample, at each multiple of the report interval, and at the end.
import { describe, expect, it } from 'vitest';
import { soakSchedule } from '../../../scripts/bench/soak/schedule.js';

const min = (m: number) => m * 60_000;

describe('soakSchedule', () => {
  it('samples from the end of the warm-up to the end, reporting first, every interval and last', () => {
    const s = soakSchedule({
      durationMs: min(12),
      warmupMs: min(1),
      sampleMs: 30_000,
      reportEveryMs: min(5),
    });
    expect(s[0]).toEqual({ atMs: min(1), report: true });
    expect(s.at(-1)).toEqual({ atMs: min(12), report: true });
    expect(s).toHaveLength(23);
    expect(s.filter((p) => p.report).map((p) => p.atMs)).toEqual([
      min(1),
      min(5),
      min(10),
      min(12),
    ]);
  });

  it('reports at the next sample when the interval falls between samples', () => {
    const s = soakSchedule({
      durationMs: min(3),
      warmupMs: 0,
      sampleMs: 40_000,
      reportEveryMs: min(1),
    });
    expect(s.filter((p) => p.report).map((p) => p.atMs)).toEqual([0, 80_000, 120_000, min(3)]);
  });

  it('reports once per interval however many samples pass it', () => {
    const s = soakSchedule({
      durationMs: min(2),
      warmupMs: min(1),
      sampleMs: 30_000,
      reportEveryMs: min(1),
    });
    expect(s).toEqual([
      { atMs: min(1), report: true },
      { atMs: 90_000, report: false },
      { atMs: min(2), report: true },
    ]);
  });
});
