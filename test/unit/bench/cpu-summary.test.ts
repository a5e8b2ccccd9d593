import { describe, expect, it } from 'vitest';
import {
  compare,
  formatComparison,
  formatPrewarm,
  parseRunOutput,
  spread,
  type RunResult,
} from '../../../scripts/bench/cpu/summary.js';

const run = (
  pipeline: RunResult['pipeline'],
  cpuMs: number,
  extra: Partial<RunResult> = {},
): RunResult => ({
  pipeline,
  label: pipeline,
  cpuMs,
  wallMs: 25_000,
  threads: { main: cpuMs },
  parts: {},
  prewarm: {},
  memoryMb: {},
  turnsMs: [600],
  heard: ['when is city hall open'],
  ended: true,
  ...extra,
});

describe('spread', () => {
  it('gives the lower middle as median when the count is even', () => {
    expect(spread([4, 1, 3, 2])).toEqual({ median: 2, min: 1, max: 4, n: 4 });
  });

  it('gives NaN figures when there are no samples', () => {
    expect(spread([]).median).toBeNaN();
  });
});

describe('compare', () => {
  it('divides the median stock CPU by the median callbridge CPU when both ran', () => {
    const c = compare([
      run('callbridge', 2000),
      run('stock', 5000),
      run('callbridge', 3000),
      run('stock', 4000),
      run('callbridge', 1000),
      run('stock', 6000),
    ]);
    expect(c.pipelines.callbridge?.cpuMs.median).toBe(2000);
    expect(c.pipelines.stock?.cpuMs.median).toBe(5000);
    expect(c.ratio).toBe(2.5);
  });

  it('compares calls of different lengths by their CPU per 25 s of call', () => {
    const c = compare([
      run('callbridge', 3000, { wallMs: 30_000 }),
      run('stock', 6000, { wallMs: 25_000 }),
    ]);
    expect(c.pipelines.callbridge?.per25sMs.median).toBe(2500);
    expect(c.ratio).toBeCloseTo(2.4, 6);
    expect(formatComparison(c)[0]).toContain('per 25 s of call median 2.50 s');
  });

  it('counts a thread role missing from a run as zero when taking its median', () => {
    const c = compare([
      run('callbridge', 1000, { threads: { main: 800, flite: 100 } }),
      run('callbridge', 1000, { threads: { main: 900 } }),
      run('callbridge', 1000, { threads: { main: 700, flite: 300 } }),
    ]);
    expect(c.pipelines.callbridge?.threads).toEqual({ flite: 100, main: 800 });
  });

  it('keeps a variant apart from its pipeline when it ran with another environment', () => {
    const c = compare([
      run('callbridge', 2000),
      run('callbridge', 1000, { label: 'callbridge+X=1' }),
    ]);
    expect(Object.keys(c.pipelines)).toEqual(['callbridge', 'callbridge+X=1']);
    expect(c.pipelines['callbridge+X=1']?.cpuMs.median).toBe(1000);
    expect(c.ratio).toBeUndefined();
  });

  it('gives no ratio when only one pipeline ran', () => {
    const c = compare([run('stock', 5000)]);
    expect(c.ratio).toBeUndefined();
    expect(formatComparison(c).some((l) => l.startsWith('ratio'))).toBe(false);
  });
});

describe('parseRunOutput', () => {
  it('reads the last JSON line when the child logged before it', () => {
    const out = `loading\n${JSON.stringify(run('stock', 1234))}\n`;
    expect(parseRunOutput(out).cpuMs).toBe(1234);
  });

  it('throws when the result line is malformed', () => {
    expect(() => parseRunOutput('{"pipeline":"stock"}')).toThrow();
  });
});

describe('formatPrewarm', () => {
  it('gives the median total and the median of each step when rounds differ', () => {
    const text = formatPrewarm('callbridge', [
      { imports: 900, providers: 400 },
      { imports: 1100, providers: 300 },
      { imports: 1000, providers: 600 },
    ]);
    expect(text).toContain('n=3): 1.40 s (min 1.30 s, max 1.60 s)');
    expect(text).toContain('imports 1.00 s, providers 0.40 s');
  });
});
