// Reading a component's own histograms from its Prometheus endpoint, as an operator's Prometheus
// would: the lab prints the agent's and the SMA's view of TTFA, CTD and call duration beside what
// the caller's ear measured.

/** Sum and count of a histogram, over all its series. */
export interface HistogramTotals {
  sum: number;
  count: number;
}

/** Totals of each named histogram (`voice_call_time_to_first_audio_seconds`, …) in an exposition. */
export function histogramTotals(text: string, names: string[]): Record<string, HistogramTotals> {
  const out: Record<string, HistogramTotals> = {};
  for (const name of names) out[name] = { sum: 0, count: 0 };
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)_(sum|count)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    const totals = m ? out[m[1]!] : undefined;
    if (!m || !totals) continue;
    const value = Number(m[3]);
    if (Number.isFinite(value)) totals[m[2] as 'sum' | 'count'] += value;
  }
  return out;
}

/** Scrapes `url`; an endpoint that does not answer reads as empty (counted as nothing). */
export async function scrapeHistograms(
  url: string,
  names: string[],
): Promise<Record<string, HistogramTotals>> {
  const text = await fetch(url, { signal: AbortSignal.timeout(2000) })
    .then((r) => (r.ok ? r.text() : ''))
    .catch(() => '');
  return histogramTotals(text, names);
}

/** Mean in milliseconds of what was recorded between two scrapes, or null if nothing was. */
export function meanMsBetween(
  before: HistogramTotals | undefined,
  after: HistogramTotals | undefined,
): number | null {
  if (!before || !after) return null;
  const count = after.count - before.count;
  if (count <= 0) return null;
  return Math.round(((after.sum - before.sum) / count) * 1000);
}
