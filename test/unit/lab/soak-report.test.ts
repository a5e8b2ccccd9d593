// The soak's report: each component's row against the first report, the window's calls, the trend
// lines that make growth visible, and idle before → after.
import { describe, expect, it } from 'vitest';
import {
  type ComponentUsage,
  type LabState,
  type Sample,
  callFigures,
  callsLine,
  componentTrends,
  idleLines,
  labStateLine,
  signed,
  trendLine,
  usageTable,
} from '../../../scripts/bench/soak/report.js';

const MB = 2 ** 20;
const idle: LabState = {
  rooms: 0,
  participants: 0,
  openCalls: 0,
  openNotInProgress: 0,
  leases: 0,
  leasesNotInProgress: 0,
  inProgress: 0,
};
const usage = (
  name: string,
  rssMb: number | null,
  fds: number | null,
  pids = 1,
): ComponentUsage => ({
  name,
  group: name.startsWith('agent job'),
  pids,
  rssBytes: rssMb === null ? null : rssMb * MB,
  fds,
});
const sample = (atMin: number, components: ComponentUsage[], lab = idle): Sample => ({
  atMs: atMin * 60_000,
  components,
  lab,
});

describe('usageTable', () => {
  it('prints each component with its change since the first report', () => {
    const first = sample(1, [
      usage('livekit-sip', 40, 30),
      usage('agent job processes', 600, 120, 5),
    ]);
    const now = sample(6, [
      usage('livekit-sip', 48.5, 33),
      usage('agent job processes', 590, 120, 4),
    ]);
    const [head, sip, jobs] = usageTable(now, first);
    expect(head).toMatch(/component\s+RSS\s+Δ first\s+fds\s+Δ first/);
    expect(sip).toMatch(/^ {2}livekit-sip\s+48\.5 MB\s+\+8\.5 MB\s+33\s+\+3$/);
    expect(jobs).toMatch(/^ {2}agent job processes ×4\s+590\.0 MB\s+-10\.0 MB\s+120\s+±0$/);
  });

  it('shows a component it could not read as —, without a change', () => {
    const first = sample(1, [usage('dynalite', 60, 20)]);
    const [, row] = usageTable(sample(6, [usage('dynalite', null, null)]), first);
    expect(row).toMatch(/^ {2}dynalite\s+—\s+—\s+—\s+—$/);
  });
});

describe('signed', () => {
  it('signs a change and calls one that rounds to nothing ±0', () => {
    expect(signed(2.04, 1)).toBe('+2.0');
    expect(signed(-0.04, 1)).toBe('±0.0');
    expect(signed(-3, 0, ' MB')).toBe('-3 MB');
    expect(signed(null)).toBe('—');
  });
});

describe('callFigures', () => {
  it('counts calls held and takes TTFA p50/p95 over the calls the agent answered', () => {
    const calls = [
      ...Array.from({ length: 19 }, (_, i) => ({ ok: true, ttfaMs: 200 + i })),
      { ok: false, ttfaMs: 900 },
      { ok: false, ttfaMs: null },
    ];
    expect(callFigures(calls)).toEqual({
      ended: 21,
      held: 19,
      answered: 20,
      ttfaP50Ms: 210,
      ttfaP95Ms: 900,
    });
    expect(callsLine('the window', callFigures(calls))).toBe(
      '  the window: 19/21 held every expectation · TTFA p50 210 ms, p95 900 ms (20 heard the agent)',
    );
  });

  it('says so when no call ended', () => {
    expect(callsLine('the window', callFigures([]))).toBe('  the window: none ended');
  });
});

describe('labStateLine', () => {
  it('shows what is held and how much of it belongs to no call in progress', () => {
    const line = labStateLine({
      ...idle,
      rooms: 5,
      openCalls: 6,
      openNotInProgress: 2,
      inProgress: 4,
    });
    expect(line).toContain('LiveKit 5 rooms');
    expect(line).toContain('open call records 6 (2 not in progress)');
    expect(line).toContain('calls in progress 4');
    expect(labStateLine({ ...idle, leases: null, leasesNotInProgress: null })).toContain(
      'limit#all leases ? (? not in progress)',
    );
  });
});

describe('componentTrends and trendLine', () => {
  const samples = [0, 1, 2, 3].map((m) =>
    sample(1 + m * 3, [
      usage('lab (this process)', 300 + 2 * m, 50 + m),
      usage('agent job processes', 600, 100, 4 + (m === 3 ? 1 : 0)),
    ]),
  );

  it('says how much a component grew over how long, first → last, and its slope', () => {
    const [lab] = componentTrends(samples);
    expect(trendLine(lab!, false)).toBe(
      '  lab (this process)    grew by +6.0 MB over 9.0 min (300.0 → 306.0 MB), ' +
        'slope +6.67 MB per 10 min; fds 50 → 53 (+3.3 per 10 min)',
    );
  });

  it('counts the processes of a group first → last', () => {
    const [, jobs] = componentTrends(samples);
    expect(trendLine(jobs!, true)).toMatch(/grew by ±0\.0 MB .*slope ±0\.00 .*processes 4 → 5$/);
  });

  it('says a component shrank rather than grew by a negative amount', () => {
    const down = [0, 1].map((m) => sample(m, [usage('redis', 10 - m, 8)]));
    expect(trendLine(componentTrends(down)[0]!, false)).toMatch(/redis\s+shrank by 1\.0 MB/);
  });

  it('leaves out samples where the component could not be read', () => {
    const gaps = [
      sample(0, [usage('livekit-server', 50, 40)]),
      sample(1, [usage('livekit-server', null, null)]),
      sample(2, [usage('livekit-server', 52, 40)]),
    ];
    expect(componentTrends(gaps)[0]!.rssMb).toMatchObject({ first: 50, last: 52, growth: 2 });
  });
});

describe('idleLines', () => {
  it('puts each component idle before the first call beside idle after the last', () => {
    const before = sample(0, [usage('redis', 8, 10), usage('agent job processes', 400, 80, 4)]);
    const after = sample(31, [usage('redis', 9, 10), usage('agent job processes', 410, 80, 4)]);
    expect(idleLines(before, after)).toEqual([
      expect.stringMatching(/^ {2}redis\s+8\.0 MB → 9\.0 MB \(\+1\.0 MB\) · fds 10 → 10 \(±0\)$/),
      expect.stringMatching(
        /^ {2}agent job processes ×4 → ×4\s+400\.0 MB → 410\.0 MB \(\+10\.0 MB\)/,
      ),
    ]);
  });
});
