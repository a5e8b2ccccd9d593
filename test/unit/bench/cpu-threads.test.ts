import { describe, expect, it } from 'vitest';
import {
  cpuByRole,
  offMainCpu,
  parseTaskStat,
  ThreadRoles,
  type ThreadCpu,
} from '../../../scripts/bench/cpu/threads.js';

// A real line's shape: pid (comm) state ppid ... utime stime ...
const stat = (tid: number, comm: string, utime: number, stime: number) =>
  `${tid} (${comm}) S 1 ${tid} ${tid} 0 -1 4194560 100 0 0 0 ${utime} ${stime} 0 0 20 0 12 0 100 1000 200`;

const snap = (...ts: [number, string, number][]) =>
  new Map<number, ThreadCpu>(ts.map(([tid, comm, cpuMs]) => [tid, { tid, comm, cpuMs }]));

describe('parseTaskStat', () => {
  it('reads user + system ticks as ms when the name holds spaces and parentheses', () => {
    expect(parseTaskStat(stat(42, 'a (b) c', 7, 3))).toEqual({
      tid: 42,
      comm: 'a (b) c',
      cpuMs: 100,
    });
  });

  it('throws when the line is not a task stat line', () => {
    expect(() => parseTaskStat('garbage')).toThrow();
  });
});

describe('cpuByRole', () => {
  it('sums each thread by the step it was born in when threads come and go', () => {
    const roles = new ThreadRoles(1);
    roles.mark('platform', snap([1, 'node', 0], [2, 'node', 0]));
    roles.mark('moonshine', snap([1, 'node', 0], [2, 'node', 0], [3, 'node', 0], [4, 'node', 0]));
    const before = snap([1, 'node', 100], [2, 'node', 10], [3, 'node', 0], [4, 'node', 50]);
    const after = snap(
      [1, 'node', 400],
      [2, 'node', 30],
      [3, 'node', 200],
      [4, 'node', 50],
      [5, 'node', 70],
      [6, 'tokio-rt-worker', 40],
    );
    expect(cpuByRole(before, after, roles)).toEqual({
      main: 300,
      platform: 20,
      moonshine: 200,
      'born during the call': 70,
      'tokio-rt-worker': 40,
    });
  });
});

describe('offMainCpu', () => {
  it('counts every thread but the main one when some were born in between', () => {
    const before = snap([1, 'node', 100], [2, 'node', 10]);
    const after = snap([1, 'node', 900], [2, 'node', 60], [3, 'node', 20]);
    expect(offMainCpu(before, after, 1)).toBe(70);
  });
});
