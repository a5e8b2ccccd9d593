// When the soak samples the lab and when it prints a report. Samples are taken from the end of the
// warm-up to the end of the run, `sampleMs` apart (the trend's line goes through all of them); a
// report is printed at the first sample, at the first sample at or past each multiple of
// `reportEveryMs` after it, and at the last.

export interface SchedulePoint {
  /** Since the first call, ms. */
  atMs: number;
  report: boolean;
}

export interface ScheduleOptions {
  durationMs: number;
  warmupMs: number;
  sampleMs: number;
  reportEveryMs: number;
}

export function soakSchedule(o: ScheduleOptions): SchedulePoint[] {
  const times: number[] = [];
  for (let t = o.warmupMs; t < o.durationMs; t += o.sampleMs) times.push(t);
  times.push(o.durationMs);
  let nextReport = o.reportEveryMs * (Math.floor(o.warmupMs / o.reportEveryMs) + 1);
  return times.map((atMs, i) => {
    const due = i === 0 || i === times.length - 1 || atMs >= nextReport;
    if (due && atMs >= nextReport) {
      nextReport = o.reportEveryMs * (Math.floor(atMs / o.reportEveryMs) + 1);
    }
    return { atMs, report: due };
  });
}
