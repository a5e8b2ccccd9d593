// Order statistics for the benchmark scripts' figures.

/** The q-quantile of ascending `sorted` (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** `n=… median … p95 … [p99 …] max …` of millisecond samples. */
export function summary(samplesMs: readonly number[], digits = 0, p99 = false): string {
  const s = [...samplesMs].sort((a, b) => a - b);
  const f = (v: number) => `${v.toFixed(digits)} ms`;
  const parts = [
    `n=${s.length}`,
    `median ${f(quantile(s, 0.5))}`,
    `p95 ${f(quantile(s, 0.95))}`,
    ...(p99 ? [`p99 ${f(quantile(s, 0.99))}`] : []),
    `min ${f(s[0] ?? Number.NaN)}`,
    `max ${f(s[s.length - 1] ?? Number.NaN)}`,
  ];
  return parts.join('  ');
}
