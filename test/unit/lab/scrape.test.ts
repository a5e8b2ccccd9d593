import { describe, expect, it } from 'vitest';
import { histogramTotals, meanMsBetween } from '../../../lab/scrape.js';

const exposition = `# HELP voice_call_time_to_first_audio_seconds TTFA
# TYPE voice_call_time_to_first_audio_seconds histogram
voice_call_time_to_first_audio_seconds_bucket{use_case="a",le="0.3"} 1
voice_call_time_to_first_audio_seconds_sum{use_case="a"} 0.25
voice_call_time_to_first_audio_seconds_count{use_case="a"} 1
voice_call_time_to_first_audio_seconds_sum{use_case="b"} 0.5
voice_call_time_to_first_audio_seconds_count{use_case="b"} 2
voice_call_duration_seconds_sum 30
voice_call_duration_seconds_count 1
voice_call_duration_seconds_total_sum 99
`;

describe('histogram totals from a Prometheus exposition', () => {
  it('adds up sum and count over every series of the named histograms only', () => {
    const t = histogramTotals(exposition, [
      'voice_call_time_to_first_audio_seconds',
      'voice_call_duration_seconds',
      'voice_call_transfer_delay_seconds',
    ]);
    expect(t['voice_call_time_to_first_audio_seconds']).toEqual({ sum: 0.75, count: 3 });
    expect(t['voice_call_duration_seconds']).toEqual({ sum: 30, count: 1 });
    expect(t['voice_call_transfer_delay_seconds']).toEqual({ sum: 0, count: 0 });
  });

  it('gives the mean of what was recorded between two scrapes, in milliseconds', () => {
    expect(meanMsBetween({ sum: 0.75, count: 3 }, { sum: 1.25, count: 5 })).toBe(250);
    expect(meanMsBetween({ sum: 1, count: 2 }, { sum: 1, count: 2 })).toBeNull();
    expect(meanMsBetween(undefined, { sum: 1, count: 2 })).toBeNull();
  });
});
