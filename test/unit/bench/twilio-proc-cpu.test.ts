import { describe, expect, it } from 'vitest';
import {
  exitedChildrenCpuMs,
  logRecords,
  parseProcCpu,
  streamFigures,
} from '../../../scripts/bench/twilio/proc-cpu.js';

// A real /proc/<pid>/stat line's shape: pid (comm) state ppid pgrp … utime stime cutime cstime …
const stat = (comm: string, ppid: number, utime: number, stime: number, cutime = 0, cstime = 0) =>
  `4242 (${comm}) S ${ppid} 4242 4242 0 -1 4194560 12000 300 0 0 ` +
  `${utime} ${stime} ${cutime} ${cstime} 20 0 11 0 123456 1234567890 40000 18446744073709551615`;

describe('parseProcCpu', () => {
  it('reads the parent, the own CPU and the reaped children’s CPU in ms (10 ms ticks)', () => {
    expect(parseProcCpu(stat('node', 17, 150, 25, 900, 40))).toEqual({
      ppid: 17,
      cpuMs: 1750,
      childrenMs: 9400,
    });
  });

  it('counts the fields after the last parenthesis of a name with spaces and parentheses', () => {
    expect(parseProcCpu(stat('job (proc) x', 3, 7, 3))).toEqual({
      ppid: 3,
      cpuMs: 100,
      childrenMs: 0,
    });
  });

  it('refuses what is not a stat line, or one cut short', () => {
    expect(() => parseProcCpu('hello')).toThrow(/not a \/proc/);
    expect(() => parseProcCpu('1 (node) S 1 1 1 0 -1 0 0 0 0 0 5')).toThrow(/CPU fields/);
  });
});

describe('exitedChildrenCpuMs', () => {
  it('is what the parent reaped less what the exited processes had spent before', () => {
    const before = new Map([
      [10, { ppid: 1, cpuMs: 1800, childrenMs: 0 }], // loaded, then served the call
      [11, { ppid: 1, cpuMs: 1700, childrenMs: 0 }], // still waiting
    ]);
    // The call's process lived 1800 + 2100 ms: the parent's children's CPU grew by that.
    expect(exitedChildrenCpuMs(before, [10], 5000, 5000 + 3900)).toBe(2100);
    expect(exitedChildrenCpuMs(before, [], 5000, 5000)).toBe(0);
  });
});

describe('the logs', () => {
  const log = [
    '{"level":30,"msg":"stream started","callSid":"CA1","room":"call_+1_a"}',
    '{"level":30,"msg":"stream ended","callSid":"CA0","framesIn":3}',
    '{"level":30,"msg":"stream ended","callSid":"CA1","framesIn":1500,"framesOut":900,' +
      '"inMs":{"n":1500,"p50":0.02,"p95":0.05,"max":1.2},"outMs":{"n":900,"p50":3,"p95":21,"max":40}}',
    '{"level":30,"msg":"stream ended","callSid":"CA2"', // cut short by the writer
    '',
  ].join('\n');

  it('finds the lines of a message, skipping lines cut short', () => {
    expect(logRecords(log, 'stream ended').map((r) => r['callSid'])).toEqual(['CA0', 'CA1']);
    expect(logRecords(log, 'stream started')[0]?.['room']).toBe('call_+1_a');
  });

  it("reads a call's figures from its stream ended line", () => {
    expect(streamFigures(log, 'CA1')).toEqual({
      inMs: { n: 1500, p50: 0.02, p95: 0.05, max: 1.2 },
      outMs: { n: 900, p50: 3, p95: 21, max: 40 },
      framesIn: 1500,
      framesOut: 900,
    });
    expect(streamFigures(log, 'CA0')?.inMs).toEqual({ n: 0, p50: 0, p95: 0, max: 0 });
    expect(streamFigures(log, 'CA9')).toBeNull();
  });
});
