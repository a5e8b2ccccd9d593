// Whether a figure grows over a soak: its change from the first sample to the last, and the slope
// of the least-squares line through all of them. One sample is noisy (how many calls happen to be
// in progress when it is taken moves every process's memory); the line through thirty is not.

export interface Point {
  /** Since the soak began, ms. */
  atMs: number;
  value: number;
}

export interface Trend {
  /** From the first sample to the last. */
  minutes: number;
  first: number;
  last: number;
  growth: number;
  /** The least-squares slope, per 10 minutes; null with fewer than two distinct sample times. */
  per10Min: number | null;
}

const TEN_MINUTES_MS = 600_000;

/** The least-squares slope of value over time, per ms; null without two distinct times. */
export function slopePerMs(points: readonly Point[]): number | null {
  const n = points.length;
  if (n < 2) return null;
  const meanT = points.reduce((s, p) => s + p.atMs, 0) / n;
  const meanV = points.reduce((s, p) => s + p.value, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.atMs - meanT) * (p.value - meanV);
    den += (p.atMs - meanT) ** 2;
  }
  return den === 0 ? null : num / den;
}

/** The trend of the samples in time order; null when there is none. */
export function trendOf(points: readonly Point[]): Trend | null {
  const first = points[0];
  const last = points.at(-1);
  if (!first || !last) return null;
  const slope = slopePerMs(points);
  return {
    minutes: (last.atMs - first.atMs) / 60_000,
    first: first.value,
    last: last.value,
    growth: last.value - first.value,
    per10Min: slope === null ? null : slope * TEN_MINUTES_MS,
  };
}
